"""A model's CloudFormation stack: what it serves, and updating it to serve the records.

The stack reads each release record through a parameter of type
``AWS::SSM::Parameter::Value<String>`` whose value is the record's name; ``DescribeStacks``
reports the value it resolved (``ResolvedValue``), which is what the stack serves. An update
reuses the template and every parameter's previous value, so CloudFormation resolves the
records anew and rolls the change out through the endpoint's ``DeploymentConfig``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from automation_runtime import UnusableEventError
from botocore.exceptions import ClientError

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_cloudformation import CloudFormationClient

#: Prefix of the ``ClientRequestToken`` of the updates this function starts; the stack's
#: status change events carry it, so a rollback of one of them is told from others.
TOKEN_PREFIX = "release-automation-"
_TOKEN_SLOT = re.compile(r"(?P<slot>[a-z]+)(?P<version>\d+)(?=-)")

UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)

UPDATE_STARTED = "update-started"
CONVERGED = "converged"
BUSY = "stack-busy"


@dataclass(frozen=True)
class StackView:
    """What ``DescribeStacks`` says of a stack, as far as releases are concerned."""

    name: str
    status: str
    parameter_keys: tuple[str, ...]
    capabilities: tuple[str, ...]
    resolved: dict[str, str]  # SSM parameter name -> the value the stack resolved

    def serves(self, record_name: str) -> str | None:
        """The value of ``record_name`` the stack serves, or ``None`` if it does not read it."""
        return self.resolved.get(record_name)


def describe(cloudformation: CloudFormationClient, stack_name: str) -> StackView:
    """The stack's state.

    Raises
    ------
    UnusableEventError
        ``stack-missing`` when the stack does not exist.
    """
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if "does not exist" in message:
            raise UnusableEventError(
                "stack-missing", f"stack {stack_name} does not exist"
            ) from None
        raise
    stack = stacks[0]
    parameters = stack.get("Parameters", [])
    return StackView(
        name=stack["StackName"],
        status=stack["StackStatus"],
        parameter_keys=tuple(p["ParameterKey"] for p in parameters),
        capabilities=tuple(stack.get("Capabilities", [])),
        resolved={
            p["ParameterValue"]: p["ResolvedValue"] for p in parameters if "ResolvedValue" in p
        },
    )


def request_token(record_versions: Mapping[str, int]) -> str:
    """A unique ``ClientRequestToken`` that names the record versions the update serves:
    ``release-automation-champion12-candidate5-<random>``."""
    slots = "-".join(f"{slot}{version}" for slot, version in sorted(record_versions.items()))
    return f"{TOKEN_PREFIX}{slots}-{uuid.uuid4().hex[:12]}"


def token_record_versions(token: str) -> dict[str, int] | None:
    """The record versions in a token of :func:`request_token`, or ``None`` if not ours."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return {m["slot"]: int(m["version"]) for m in _TOKEN_SLOT.finditer(token[len(TOKEN_PREFIX) :])}


def update(
    cloudformation: CloudFormationClient,
    stack_name: str,
    role_arn: str | None,
    record_versions: Mapping[str, int],
) -> str:
    """Ask CloudFormation to serve the records now; :data:`UPDATE_STARTED`, :data:`CONVERGED`
    ("No updates are to be performed") or :data:`BUSY` (an operation is in progress).

    Raises
    ------
    UnusableEventError
        ``stack-not-updatable`` when the stack is in a state that needs a person
        (``UPDATE_ROLLBACK_FAILED``, ``ROLLBACK_COMPLETE``, ...), or ``stack-missing``.
    """
    stack = describe(cloudformation, stack_name)
    if stack.status.endswith("_IN_PROGRESS"):
        return BUSY
    if stack.status not in UPDATABLE:
        raise UnusableEventError(
            "stack-not-updatable", f"stack {stack_name} is {stack.status}; it needs a person"
        )
    arguments: dict[str, Any] = {
        "StackName": stack_name,
        "UsePreviousTemplate": True,
        "Parameters": [{"ParameterKey": k, "UsePreviousValue": True} for k in stack.parameter_keys],
        "Capabilities": list(stack.capabilities),
        "ClientRequestToken": request_token(record_versions),
    }
    if role_arn is not None:
        arguments["RoleARN"] = role_arn
    try:
        cloudformation.update_stack(**arguments)
    except ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if "No updates are to be performed" in message:
            return CONVERGED
        if "can not be updated" in message or "cannot be updated" in message:
            return BUSY  # an operation started between DescribeStacks and UpdateStack
        raise
    return UPDATE_STARTED

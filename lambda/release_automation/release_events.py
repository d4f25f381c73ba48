"""The events the release automation acts on, checked and typed.

Every parser raises :class:`automation_runtime.UnusableEventError` (a missing or wrong-typed
field, another account, an unsupported kind), so that the event is parked with the reason
on its first attempt.

- ``SageMaker Model Package State Change`` (EventBridge): see
  https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html
- ``CloudFormation Stack Status Change`` (EventBridge): see
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/event-detail-stack-status-change.html
- messages of the function's own retry queue (``{"kind": "roll-out", ...}``), and
- direct invocations ``{"action": "promote-candidate" | "import", ...}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from automation_runtime import UnusableEventError, eventbridge_kind, field, queue_message

from platform_contracts.releases import IMPORT, PROMOTE_CANDIDATE, parse_package_arn

PACKAGE_STATE_CHANGE = ("aws.sagemaker", "SageMaker Model Package State Change")
STACK_STATUS_CHANGE = ("aws.cloudformation", "CloudFormation Stack Status Change")
ROLL_OUT = "roll-out"
_STACK_ID = re.compile(r"^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack/(?P<name>[^/]+)/")


@dataclass(frozen=True)
class PackageStateChange:
    """A model package's approval status changed."""

    group: str
    arn: str
    version: int
    status: str


@dataclass(frozen=True)
class StackStatusChange:
    """A stack reached a status."""

    stack_name: str
    status: str
    reason: str
    client_request_token: str


@dataclass(frozen=True)
class RollOutRequest:
    """A message of the retry queue: update the model's stack again."""

    model: str
    attempt: int


@dataclass(frozen=True)
class DirectAction:
    """``promote-candidate`` or ``import``, invoked by ``make release-promote|release-import``."""

    action: str
    model: str
    requested_by: str
    source_package_arn: str | None = None
    version: int | None = None


def parse_eventbridge(event: Any, account_id: str) -> PackageStateChange | StackStatusChange:
    """The typed event, if it is one of ``account_id``'s this function acts on."""
    kind = eventbridge_kind(event, account_id)
    if kind == PACKAGE_STATE_CHANGE:
        return _package_state_change(event)
    if kind == STACK_STATUS_CHANGE:
        return _stack_status_change(event)
    raise UnusableEventError("unsupported-event", f"source and detail-type {kind} are not handled")


def _package_state_change(event: Any) -> PackageStateChange:
    change = PackageStateChange(
        group=field(event, "detail.ModelPackageGroupName", str),
        arn=field(event, "detail.ModelPackageArn", str),
        version=field(event, "detail.ModelPackageVersion", int),
        status=field(event, "detail.ModelApprovalStatus", str),
    )
    try:
        group, version = parse_package_arn(change.arn)
    except ValueError as error:
        raise UnusableEventError("malformed-event", f"detail.ModelPackageArn: {error}") from None
    if (group, version) != (change.group, change.version):
        raise UnusableEventError(
            "malformed-event",
            f"detail.ModelPackageArn {change.arn} is not version {change.version} "
            f"of {change.group}",
        )
    return change


def _stack_status_change(event: Any) -> StackStatusChange:
    stack_id = field(event, "detail.stack-id", str)
    match = _STACK_ID.match(stack_id)
    if match is None:
        raise UnusableEventError(
            "malformed-event", f"detail.stack-id {stack_id!r} is not a stack ARN"
        )
    details = field(event, "detail.status-details", dict)
    reason = details.get("status-reason")
    token = event["detail"].get("client-request-token")
    return StackStatusChange(
        stack_name=match["name"],
        status=field(event, "detail.status-details.status", str),
        reason=reason if isinstance(reason, str) else "",
        client_request_token=token if isinstance(token, str) else "",
    )


def parse_retry_message(body: str) -> RollOutRequest:
    """A retry queue message's body."""
    message = queue_message(body, ROLL_OUT)
    attempt = field(message, "attempt", int)
    if attempt < 1:
        raise UnusableEventError("malformed-event", f"attempt {attempt} is not positive")
    return RollOutRequest(model=field(message, "model", str), attempt=attempt)


def retry_message(model: str, attempt: int) -> str:
    """The body of a retry queue message (read by :func:`parse_retry_message`)."""
    return json.dumps({"kind": ROLL_OUT, "model": model, "attempt": attempt}, sort_keys=True)


def parse_direct_action(event: Any) -> DirectAction:
    """A direct invocation's payload."""
    action = field(event, "action", str)
    if action not in (PROMOTE_CANDIDATE, IMPORT):
        raise UnusableEventError("unsupported-action", f"action {action!r} is not handled")
    requested_by = event.get("requested_by")
    direct = DirectAction(
        action=action,
        model=field(event, "model", str),
        requested_by=requested_by if isinstance(requested_by, str) and requested_by else "unknown",
    )
    if action == PROMOTE_CANDIDATE:
        return direct
    if "source_package_arn" in event:
        arn = field(event, "source_package_arn", str)
        return replace(direct, source_package_arn=arn)
    version = field(event, "version", int)
    if version < 1:
        raise UnusableEventError("malformed-event", f"version {version} is not positive")
    return replace(direct, version=version)

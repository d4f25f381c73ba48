"""The release record: which model package each serving slot of a model runs.

One SSM String parameter per environment, model and slot,
``/<name prefix>/releases/<model>/<slot>``, holds the ARN of a model package of the model's
own group (in the environment's account and region), or ``none`` before the first release.
Only the release automation (``lambda/release_automation``) writes it; the model's stack
reads it at every deploy through a CloudFormation parameter of type
``AWS::SSM::Parameter::Value<String>``, so a deploy of an unchanged commit serves what the
record says, and a changed record rolls out through the endpoint's own ``DeploymentConfig``.

Slots
-----
``champion``
    What the production variants serve (all of them but a challenger), and what Model
    Monitor compares against. Empty (``none``) until the first approval: the model has no
    endpoint, no monitor and no alarm until then.
``candidate``
    Only for a model whose serving has a challenger (an unpinned second production variant,
    A/B test) or a shadow variant: a new approval goes here first; the champion stays.
    Promoting the candidate to champion is one command (``make release-promote``).
"""

from __future__ import annotations

import enum
import re

#: The record's value before the first release.
UNRELEASED = "none"

_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9-]{1,63})/(?P<version>[1-9]\d*)$"
)


class Slot(str, enum.Enum):
    """A serving slot of a model (see the module's docstring)."""

    CHAMPION = "champion"
    CANDIDATE = "candidate"


def records_path(name_prefix: str) -> str:
    """The SSM path under which every release record of an environment lives."""
    return f"/{name_prefix}/releases/"


def record_parameter_name(name_prefix: str, model: str, slot: Slot) -> str:
    """``/ml-platform-dev/releases/churn-prediction/champion``."""
    return f"{records_path(name_prefix)}{model}/{slot.value}"


def package_arn(partition: str, region: str, account: str, group: str, version: int) -> str:
    """The ARN of version ``version`` of model package group ``group``."""
    return f"arn:{partition}:sagemaker:{region}:{account}:model-package/{group}/{version}"


def parse_package_arn(arn: str) -> tuple[str, int]:
    """``(group, version)`` of a versioned model package ARN.

    Raises
    ------
    ValueError
        When ``arn`` is not the ARN of a versioned model package.
    """
    match = _PACKAGE_ARN.match(arn)
    if match is None:
        raise ValueError(f"{arn!r} is not the ARN of a versioned model package")
    return match["group"], int(match["version"])


def served_version(value: str) -> int | None:
    """The package version a record's value names, or ``None`` for :data:`UNRELEASED`.

    Raises
    ------
    ValueError
        When ``value`` is neither :data:`UNRELEASED` nor a versioned model package ARN.
    """
    if value == UNRELEASED:
        return None
    return parse_package_arn(value)[1]


class RecordChange(str, enum.Enum):
    """Why a record got a new value; the first word of the parameter version's description.

    ``GetParameterHistory`` of a record is the environment's release log: each version's
    description is ``<change> v<n>: <details>``, where ``v<n>`` is the version the change is
    about (the one released, promoted, rejected or rolled back; the record's value says
    what is served after it). A version once ``rejected`` or ``rolled-back`` in any slot of
    a model is never released again by a late or duplicate event.
    """

    CREATED = "created"
    RELEASED = "released"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    ROLLED_BACK = "rolled-back"

    @property
    def withdraws(self) -> bool:
        """Whether the change takes its version out of service for good."""
        return self in (RecordChange.REJECTED, RecordChange.ROLLED_BACK)


#: SSM's limit on a parameter's description.
DESCRIPTION_LIMIT = 1024

_CHANGE = re.compile(r"^(?P<change>[a-z-]+) v(?P<version>\d+)(?::|$)")


def change_description(change: RecordChange, version: int | None, details: str) -> str:
    """``released v7: approved by ...``, within SSM's 1024 characters."""
    subject = f"{change.value} v{version}" if version is not None else change.value
    return f"{subject}: {details}"[:DESCRIPTION_LIMIT]


def parse_change(description: str | None) -> tuple[RecordChange, int] | None:
    """``(change, version)`` of a description written by :func:`change_description`."""
    match = _CHANGE.match(description or "")
    if match is None:
        return None
    try:
        return RecordChange(match["change"]), int(match["version"])
    except ValueError:
        return None


#: Direct invocations of the release automation (``make release-promote``, ``release-import``).
PROMOTE_CANDIDATE = "promote-candidate"
IMPORT = "import"

#: ``CustomerMetadataProperties`` keys of a package imported from the previous environment.
LINEAGE_KEYS = ("source_account", "source_environment", "source_package_arn", "source_version")


def package_identity(user_context: object) -> str:
    """Who a package's ``CreatedBy`` or ``LastModifiedBy`` (a SageMaker ``UserContext``)
    names: the IAM identity's ARN, else the Studio user profile, else ``unknown``."""
    if not isinstance(user_context, dict):
        return "unknown"
    iam = user_context.get("IamIdentity")
    arn = iam.get("Arn") if isinstance(iam, dict) else None
    return str(arn or user_context.get("UserProfileName") or "unknown")


def release_function_name(name_prefix: str) -> str:
    """The release automation function's name: ``ml-platform-dev-release-automation``."""
    return f"{name_prefix}-release-automation"


def model_stack_name(name_prefix: str, model: str) -> str:
    """The model's stack, updated to roll a release out: ``ml-platform-dev-model-<model>``."""
    return f"{name_prefix}-model-{model}"


def model_package_group_name(name_prefix: str, model: str) -> str:
    """The model's registry group: ``ml-platform-dev-<model>``."""
    return f"{name_prefix}-{model}"

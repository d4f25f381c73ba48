"""The release rules of ``docs/releases.md``: which record changes, and to what.

Each method returns the outcome as a dictionary; ``roll_out`` (default true) says whether
the model's stack must then be updated. Refusals (a withdrawn or older version) are
outcomes, logged; events that cannot be acted on raise :class:`UnusableEventError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import baselines
import model_stack
from automation_runtime import UnusableEventError
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from release_events import StackStatusChange
from release_record import ReleaseRecords

from platform_contracts.model_settings import ModelSettings, ReleaseSettings
from platform_contracts.releases import (
    UNRELEASED,
    RecordChange,
    Slot,
    package_identity,
    parse_package_arn,
    served_version,
)

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient


@dataclass(kw_only=True)
class ReleaseFlow:
    """Applies the release rules to the records, and updates the model stacks."""

    records: ReleaseRecords
    sagemaker: SageMakerClient
    s3: S3Client
    cloudformation: CloudFormationClient
    role_arn: str | None
    logger: Logger

    # --- approvals ---------------------------------------------------------------------

    def approve(self, model: ModelSettings, arn: str) -> dict[str, Any]:
        """Release an approved version into its slot(s), unless it is withdrawn or older."""
        release = _release(model)
        package = self._package(arn)
        status = package.get("ModelApprovalStatus")
        if status != "Approved":
            return self._refused("not-approved", f"{arn} is now {status}")
        version = int(package["ModelPackageVersion"])
        slots = _slots(release)
        if version in self.records.withdrawn(model.model, slots):
            return self._refused(
                "withdrawn", f"v{version} was rejected or rolled back here; approve a new version"
            )
        current = {slot: self.records.current(model.model, slot) for slot in self._targets(model)}
        newer = {slot.value: _label(v) for slot, v in current.items() if _newer(v, version)}
        if newer:
            return self._refused("older-than-served", f"v{version} is older than {newer}")
        changed = [slot for slot, value in current.items() if value != arn]
        if not changed:
            return {"outcome": "already-released", "model_package_arn": arn}
        published = baselines.publish(self.s3, package, release.baselines_uri, version)
        details = approval_details(package)
        for slot in changed:
            self.records.write(
                model.model,
                slot,
                arn,
                change=RecordChange.RELEASED,
                version=version,
                details=details,
            )
        return {
            "outcome": "released",
            "model_package_arn": arn,
            "slots": [slot.value for slot in changed],
            "baselines": published,
        }

    def _targets(self, model: ModelSettings) -> tuple[Slot, ...]:
        slots = _slots(_release(model))
        if self.records.current(model.model, Slot.CHAMPION) == UNRELEASED:
            return slots  # the first release fills every slot
        return (Slot.CANDIDATE,) if Slot.CANDIDATE in slots else (Slot.CHAMPION,)

    def reject(self, model: ModelSettings, arn: str) -> dict[str, Any]:
        """Return every slot serving ``arn`` to what it served before."""
        version = parse_package_arn(arn)[1]
        slots = _slots(_release(model))
        withdrawn = self.records.withdrawn(model.model, slots) | {version}
        serving = [slot for slot in slots if self.records.current(model.model, slot) == arn]
        if not serving:
            self.logger.info("Rejection of a version no slot serves: nothing to roll back")
            return {"outcome": "rejection-recorded", "roll_out": False}
        details = rejection_details(self._package(arn))
        restored = {}
        for slot in serving:
            previous = self.records.before(
                model.model, slot, arn, lambda value: self._usable(value, withdrawn)
            )
            self.records.write(
                model.model,
                slot,
                previous,
                change=RecordChange.REJECTED,
                version=version,
                details=f"{details}; serving {_label(previous)}",
            )
            restored[slot.value] = previous
        return {"outcome": "rejected", "model_package_arn": arn, "restored": restored}

    def promote_candidate(self, model: ModelSettings, requested_by: str) -> dict[str, Any]:
        """champion := candidate (``make release-promote``)."""
        slots = _slots(_release(model))
        if Slot.CANDIDATE not in slots:
            raise UnusableEventError(
                "no-candidate-slot", f"{model.model} has no challenger or shadow"
            )
        candidate = self.records.current(model.model, Slot.CANDIDATE)
        version = served_version(candidate)
        if version is None:
            raise UnusableEventError("no-candidate", f"{model.model} has no candidate yet")
        if version in self.records.withdrawn(model.model, slots):
            raise UnusableEventError("withdrawn", f"candidate v{version} was withdrawn")
        if self.records.current(model.model, Slot.CHAMPION) == candidate:
            return {"outcome": "already-champion", "model_package_arn": candidate}
        self.records.write(
            model.model,
            Slot.CHAMPION,
            candidate,
            change=RecordChange.PROMOTED,
            version=version,
            details=f"candidate promoted to champion, requested by {requested_by}",
        )
        return {"outcome": "promoted", "model_package_arn": candidate}

    # --- stack operations --------------------------------------------------------------

    def after_stack_operation(
        self, model: ModelSettings, change: StackStatusChange
    ) -> dict[str, Any]:
        """Follow a rollback of this function's update; roll out a record not served yet."""
        release = _release(model)
        stack = model_stack.describe(self.cloudformation, release.stack_name)
        if stack.status.endswith("_IN_PROGRESS"):
            return {"outcome": "stack-busy-again", "roll_out": False}
        tried = model_stack.token_record_versions(change.client_request_token)
        if change.status == "UPDATE_ROLLBACK_COMPLETE" and tried is not None:
            marked = self._mark_rolled_back(model, stack, change, tried)
            if not marked:
                # Not a record's fault (or its history is gone): updating again would fail
                # again, so the event is parked (the dead-letter alarm calls a person).
                raise UnusableEventError(
                    "rollout-failed",
                    f"stack {stack.name} rolled back ({change.reason}) although it serves "
                    "every record it tried",
                )
            return {"outcome": "rolled-back", "rolled_back": marked}
        differing = [
            slot.value
            for slot in _slots(release)
            if stack.serves(self.records.name(model.model, slot))
            not in (None, self.records.current(model.model, slot))
        ]
        if not differing:
            return {"outcome": "in-sync", "roll_out": False}
        return {"outcome": "reconciling", "slots": differing}

    def _mark_rolled_back(
        self,
        model: ModelSettings,
        stack: model_stack.StackView,
        change: StackStatusChange,
        tried: dict[str, int],
    ) -> dict[str, str]:
        """Mark what the failed update tried as rolled back; records follow the stack."""
        marked = {}
        for slot in _slots(_release(model)):
            served = stack.serves(self.records.name(model.model, slot))
            attempted = (
                self.records.value_at(model.model, slot, tried[slot.value])
                if slot.value in tried
                else None
            )
            if served is None or attempted is None or attempted == served:
                continue
            current = self.records.current(model.model, slot)
            self.records.write(
                model.model,
                slot,
                served if current == attempted else current,  # keep a newer approval
                change=RecordChange.ROLLED_BACK,
                version=served_version(attempted),
                details=f"stack {stack.name} {change.status} ({change.reason}); "
                f"it serves {_label(served)}",
            )
            marked[slot.value] = attempted
        return marked

    def roll_out(self, model: ModelSettings) -> str:
        """Update the model's stack to serve the records (see :func:`model_stack.update`)."""
        release = _release(model)
        versions = {
            slot.value: self.records.read(model.model, slot).parameter_version
            for slot in _slots(release)
        }
        return model_stack.update(self.cloudformation, release.stack_name, self.role_arn, versions)

    # --- registry ----------------------------------------------------------------------

    def _package(self, arn: str) -> dict[str, Any]:
        try:
            return dict(self.sagemaker.describe_model_package(ModelPackageName=arn))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                raise UnusableEventError("package-not-found", f"{arn}: {error}") from None
            raise

    def _usable(self, value: str, withdrawn: set[int]) -> bool:
        """Whether a slot may fall back to ``value``: not withdrawn, still approved."""
        if served_version(value) in withdrawn:
            return False
        return self._package(value).get("ModelApprovalStatus") == "Approved"

    def _refused(self, reason: str, detail: str) -> dict[str, Any]:
        self.logger.warning("Release refused", extra={"reason": reason, "detail": detail})
        return {"outcome": "refused", "reason": reason, "detail": detail, "roll_out": False}


def _release(model: ModelSettings) -> ReleaseSettings:
    if model.release is None:
        raise UnusableEventError("not-served", f"model {model.model} has no release settings")
    return model.release


def _slots(release: ReleaseSettings) -> tuple[Slot, ...]:
    try:
        slots = tuple(Slot(name) for name in release.slots)
    except ValueError as error:
        raise UnusableEventError("invalid-settings", f"release.slots: {error}") from None
    if Slot.CHAMPION not in slots:
        raise UnusableEventError("invalid-settings", "release.slots has no champion")
    return slots


def _label(value: str) -> str:
    version = served_version(value)
    return "nothing" if version is None else f"v{version}"


def _newer(value: str, version: int) -> bool:
    served = served_version(value)
    return served is not None and served > version


def approval_details(package: dict[str, Any]) -> str:
    """``approved by <identity> at <time> (<approval description>)``."""
    note = package.get("ApprovalDescription")
    return (
        f"approved by {package_identity(package.get('LastModifiedBy'))} at "
        f"{package.get('LastModifiedTime', 'unknown time')}" + (f" ({note})" if note else "")
    )


def rejection_details(package: dict[str, Any]) -> str:
    return approval_details(package).replace("approved by", "rejected by", 1)

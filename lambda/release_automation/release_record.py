"""The release records (``platform_contracts.releases``): the only code that writes them.

Every write is a new version of the record's SSM parameter whose description says what
happened (:func:`platform_contracts.releases.change_description`); the parameter's history
is the release log, which also tells a late or duplicate event about a version that was
rejected or rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from automation_runtime import UnusableEventError
from botocore.exceptions import ClientError

from platform_contracts.releases import (
    UNRELEASED,
    RecordChange,
    Slot,
    change_description,
    parse_change,
    record_parameter_name,
    served_version,
)

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_ssm import SSMClient


@dataclass(frozen=True)
class RecordVersion:
    """One version of a record: what it named, and why it changed."""

    value: str
    parameter_version: int
    description: str = ""
    modified: datetime | None = None
    modified_by: str | None = None

    @property
    def change(self) -> tuple[RecordChange, int] | None:
        return parse_change(self.description)


class ReleaseRecords:
    """Reads and writes one environment's release records."""

    def __init__(self, ssm: SSMClient, name_prefix: str) -> None:
        self.ssm = ssm
        self.name_prefix = name_prefix

    def name(self, model: str, slot: Slot) -> str:
        return record_parameter_name(self.name_prefix, model, slot)

    def read(self, model: str, slot: Slot) -> RecordVersion:
        """The record's current version: its value is a package ARN or ``none``.

        Raises
        ------
        UnusableEventError
            ``record-missing`` when the parameter does not exist (the model's registry
            stack, which creates it, is not deployed) or ``record-invalid``.
        """
        name = self.name(model, slot)
        try:
            parameter = self.ssm.get_parameter(Name=name)["Parameter"]
        except ClientError as error:
            raise _missing(error, name) from None
        try:
            served_version(parameter["Value"])
        except ValueError as error:
            raise UnusableEventError("record-invalid", f"{name}: {error}") from None
        return RecordVersion(value=parameter["Value"], parameter_version=int(parameter["Version"]))

    def current(self, model: str, slot: Slot) -> str:
        """The record's value (see :meth:`read`)."""
        return self.read(model, slot).value

    def history(self, model: str, slot: Slot) -> list[RecordVersion]:
        """Every version of the record that SSM keeps, oldest first."""
        name = self.name(model, slot)
        try:
            items = [
                item
                for page in self.ssm.get_paginator("get_parameter_history").paginate(Name=name)
                for item in page.get("Parameters", [])
            ]
        except ClientError as error:
            raise _missing(error, name) from None
        versions = [
            RecordVersion(
                value=item["Value"],
                parameter_version=int(item["Version"]),
                description=item.get("Description", ""),
                modified=item.get("LastModifiedDate"),
                modified_by=item.get("LastModifiedUser"),
            )
            for item in items
        ]
        return sorted(versions, key=lambda item: item.parameter_version)

    def withdrawn(self, model: str, slots: Iterable[Slot]) -> set[int]:
        """Versions rejected or rolled back in any of ``slots``: never released again."""
        versions = set()
        for slot in slots:
            for item in self.history(model, slot):
                change = item.change
                if change is not None and change[0].withdraws:
                    versions.add(change[1])
        return versions

    def value_at(self, model: str, slot: Slot, parameter_version: int) -> str | None:
        """What the record named at ``parameter_version``, if SSM still keeps that version."""
        for item in self.history(model, slot):
            if item.parameter_version == parameter_version:
                return item.value
        return None

    def before(self, model: str, slot: Slot, leaving: str, usable: Callable[[str], bool]) -> str:
        """The latest value of the slot other than ``leaving`` that is still ``usable``,
        or ``none`` when there is none (the slot then serves nothing)."""
        for item in reversed(self.history(model, slot)):
            if item.value not in (leaving, UNRELEASED) and usable(item.value):
                return item.value
        return UNRELEASED

    def write(
        self,
        model: str,
        slot: Slot,
        value: str,
        *,
        change: RecordChange,
        version: int | None,
        details: str,
    ) -> int:
        """Set the record to ``value``; return the parameter's new version."""
        served_version(value)  # an ARN of a versioned package, or none
        response = self.ssm.put_parameter(
            Name=self.name(model, slot),
            Value=value,
            Type="String",
            Overwrite=True,
            Description=change_description(change, version, details),
        )
        return int(response["Version"])


def _missing(error: ClientError, name: str) -> Exception:
    """``record-missing`` for a record that does not exist; any other error as it is."""
    if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
        return UnusableEventError("record-missing", f"{name} does not exist")
    return error

"""What each model serves in an environment, who approved it, and what waits for approval.

Usage::

    python -m scripts.releases <env>                           # make releases ENV=<env>
    python -m scripts.releases <env> promote <model>           # make release-promote ...
    python -m scripts.releases <env> import <model> <version>  # make release-import ...

The first form reads AWS (never at synth) with the caller's credentials, in the
environment's account and region (``config/<env>.yaml``), and prints per model: the version
each slot serves and the variants that follow it (pinned variants too), who approved it and
when (the package's ``LastModifiedBy`` and ``ApprovalDescription``; who registered it,
``CreatedBy``), its lineage when it was imported from the previous environment, the
record's last change (its SSM history, the release log), and the versions waiting for
approval. The other two invoke the environment's release automation function
(``docs/releases.md``) and print its answer; they exit 1 when it refuses.

Exit status 2 on a configuration error or when the credentials are not the environment's
account.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import boto3

from platform_config import ConfigError, load_environment
from platform_contracts.model_settings import ModelSettings, settings_path
from platform_contracts.releases import (
    IMPORT,
    LINEAGE_KEYS,
    PROMOTE_CANDIDATE,
    Slot,
    package_identity,
    record_parameter_name,
    release_function_name,
    served_version,
)


@dataclass(frozen=True)
class SlotView:
    """What one slot serves, and why."""

    slot: str
    variants: str
    version: int | None
    approved_by: str = ""
    approved_at: str = ""
    approval_note: str = ""
    registered_by: str = ""
    lineage: dict[str, str] = field(default_factory=dict)
    last_change: str = ""
    changed_at: str = ""


@dataclass(frozen=True)
class ModelView:
    """One model's releases."""

    model: str
    slots: tuple[SlotView, ...]
    pinned: tuple[int, ...]
    pending: tuple[int, ...]


def collect(session: boto3.Session, name_prefix: str) -> list[ModelView]:
    """Read every served model's records, packages and pending versions."""
    ssm, sagemaker = session.client("ssm"), session.client("sagemaker")
    documents = [
        ModelSettings.from_json(parameter["Value"])
        for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path=settings_path(name_prefix).rstrip("/"), Recursive=True
        )
        for parameter in page["Parameters"]
        if parameter["Name"].endswith("/settings")
    ]
    views = []
    for settings in sorted(documents, key=lambda s: s.model):
        if settings.release is None:
            continue
        slots = tuple(
            _slot_view(ssm, sagemaker, name_prefix, settings, Slot(slot))
            for slot in settings.release.slots
        )
        views.append(
            ModelView(
                model=settings.model,
                slots=slots,
                pinned=settings.release.pinned_versions,
                pending=_pending(sagemaker, settings.model_package_group_name),
            )
        )
    return views


def _slot_view(
    ssm: Any, sagemaker: Any, name_prefix: str, settings: ModelSettings, slot: Slot
) -> SlotView:
    name = record_parameter_name(name_prefix, settings.model, slot)
    history = [
        item
        for page in ssm.get_paginator("get_parameter_history").paginate(Name=name)
        for item in page["Parameters"]
    ]
    last = max(history, key=lambda item: item["Version"])
    assert settings.release is not None
    variants = (
        "production variants"
        if slot is Slot.CHAMPION
        else f"{settings.release.candidate_variant or 'candidate'} variant"
    )
    view = SlotView(
        slot=slot.value,
        variants=variants,
        version=served_version(last["Value"]),
        last_change=last.get("Description", ""),
        changed_at=str(last.get("LastModifiedDate", "")),
    )
    if view.version is None:
        return view
    package = sagemaker.describe_model_package(ModelPackageName=last["Value"])
    metadata = package.get("CustomerMetadataProperties") or {}
    return replace(
        view,
        approved_by=package_identity(package.get("LastModifiedBy")),
        approved_at=str(package.get("LastModifiedTime", "")),
        approval_note=package.get("ApprovalDescription", ""),
        registered_by=package_identity(package.get("CreatedBy")),
        lineage={key: metadata[key] for key in LINEAGE_KEYS if key in metadata},
    )


def _pending(sagemaker: Any, group: str) -> tuple[int, ...]:
    versions = [
        int(summary["ModelPackageVersion"])
        for page in sagemaker.get_paginator("list_model_packages").paginate(
            ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval"
        )
        for summary in page["ModelPackageSummaryList"]
    ]
    return tuple(sorted(versions))


def render(views: Sequence[ModelView]) -> str:
    """The report, one block per model."""
    if not views:
        return "No served model has a settings document here (is the environment deployed?)."
    blocks = []
    for view in views:
        lines = [view.model]
        for slot in view.slots:
            lines.extend(_slot_lines(slot))
        lines.extend(
            f"  pinned     v{version}  (a variant pinned to it)" for version in view.pinned
        )
        pending = ", ".join(f"v{v}" for v in view.pending) or "none"
        lines.append(f"  pending approval: {pending}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _slot_lines(slot: SlotView) -> list[str]:
    served = "nothing (no release yet)" if slot.version is None else f"v{slot.version}"
    lines = [f"  {slot.slot:<10} {served}  ({slot.variants})"]
    if slot.version is not None:
        note = f" ({slot.approval_note})" if slot.approval_note else ""
        lines.append(f"             approved by {slot.approved_by} at {slot.approved_at}{note}")
        lines.append(f"             registered by {slot.registered_by}")
    if slot.lineage:
        lines.append(
            f"             imported from {slot.lineage.get('source_environment')} "
            f"v{slot.lineage.get('source_version')} "
            f"(account {slot.lineage.get('source_account')})"
        )
    lines.append(f"             record: {slot.last_change} ({slot.changed_at})")
    return lines


def invoke(session: boto3.Session, name_prefix: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Invoke the release automation and return its answer."""
    response = session.client("lambda").invoke(
        FunctionName=release_function_name(name_prefix),
        InvocationType="RequestResponse",
        Payload=json.dumps(payload).encode(),
    )
    answer: dict[str, Any] = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        return {"outcome": "failed", "reason": response["FunctionError"], "detail": answer}
    return answer


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.releases", description=__doc__)
    parser.add_argument("environment")
    commands = parser.add_subparsers(dest="command")
    promote = commands.add_parser("promote", help="champion := candidate")
    promote.add_argument("model")
    imported = commands.add_parser("import", help="import a version from the previous env")
    imported.add_argument("model")
    imported.add_argument("version", type=int)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    try:
        config = load_environment(arguments.environment)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    session = boto3.Session(region_name=config.region)
    caller = session.client("sts").get_caller_identity()
    if caller["Account"] != config.account:
        print(
            f"credentials of account {caller['Account']}; {config.name} is {config.account}",
            file=sys.stderr,
        )
        return 2
    if arguments.command is None:
        print(f"{config.names.prefix} ({config.account}, {config.region})\n")
        print(render(collect(session, config.names.prefix)))
        return 0
    payload: dict[str, Any] = {
        "action": PROMOTE_CANDIDATE if arguments.command == "promote" else IMPORT,
        "model": arguments.model,
        "requested_by": caller["Arn"],
    }
    if arguments.command == "import":
        payload["version"] = arguments.version
    answer = invoke(session, config.names.prefix, payload)
    print(json.dumps(answer, indent=2, default=str))
    return 1 if answer.get("outcome") in ("refused", "failed", "dead-lettered") else 0


if __name__ == "__main__":
    sys.exit(main())

"""The stacks of a synthesized cloud assembly (``cdk.out``), read generically from its files.

Shared by the synth report, the idle-cost report, the architecture picture and the quality
gates: whatever stacks an environment has when they run, nested stage assemblies included;
no stack list is written down here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Metadata type of acknowledged findings (``aws_cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY``).
ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"


@dataclass(frozen=True)
class Acknowledgement:
    """One acknowledged finding: on which construct, which rule, and why."""

    path: str
    rule: str
    reason: str


@dataclass(frozen=True)
class StackTemplate:
    """One synthesized stack: its names, region, resources, outputs and acknowledgements
    (and, for the checks of ``aws_rules``, its account and other template sections)."""

    display_name: str
    stack_name: str
    region: str
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    template_bytes: int
    acknowledgements: tuple[Acknowledgement, ...]
    account: str = "unknown-account"
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)


def read_assembly(assembly: Path, *, nested: bool = True) -> list[StackTemplate]:
    """Every stack of ``assembly`` (and of its nested stage assemblies unless ``nested`` is
    off), in manifest order."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks: list[StackTemplate] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact["type"] == "cdk:cloud-assembly" and nested:
            stacks += read_assembly(assembly / artifact["properties"]["directoryName"])
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template_file = assembly / artifact["properties"]["templateFile"]
        template = json.loads(template_file.read_text())
        metadata = dict(artifact.get("metadata", {}))
        if "additionalMetadataFile" in artifact:
            metadata.update(json.loads((assembly / artifact["additionalMetadataFile"]).read_text()))
        account, region = artifact.get("environment", "aws://unknown/unknown").split("/")[-2:]
        stacks.append(
            StackTemplate(
                display_name=artifact.get("displayName", artifact_id),
                stack_name=artifact["properties"].get("stackName", artifact_id),
                region=region,
                resources=template.get("Resources", {}),
                outputs=template.get("Outputs", {}),
                template_bytes=template_file.stat().st_size,
                acknowledgements=tuple(
                    Acknowledgement(path, rule, reason)
                    for path, entries in metadata.items()
                    for entry in entries
                    if entry["type"] == ACKNOWLEDGED_RULES
                    for rule, reason in entry["data"].items()
                ),
                account=account,
                parameters=template.get("Parameters", {}),
                conditions=template.get("Conditions", {}),
                mappings=template.get("Mappings", {}),
            )
        )
    return stacks

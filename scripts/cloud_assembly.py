"""The stacks of a synthesized cloud assembly (``cdk.out``), read generically from its files.

Shared by the idle-cost report and the architecture picture: whatever stacks an environment
has when they run, nested stage assemblies included; no stack list is written down here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackTemplate:
    """One synthesized stack: its names, region, resources and outputs."""

    display_name: str
    stack_name: str
    region: str
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]


def read_assembly(assembly: Path) -> list[StackTemplate]:
    """Every stack of ``assembly`` and of its nested assemblies (stages), in manifest order."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks: list[StackTemplate] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact["type"] == "cdk:cloud-assembly":
            stacks += read_assembly(assembly / artifact["properties"]["directoryName"])
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        stacks.append(
            StackTemplate(
                display_name=artifact.get("displayName", artifact_id),
                stack_name=artifact["properties"].get("stackName", artifact_id),
                region=artifact.get("environment", "aws://unknown/unknown").rsplit("/", 1)[-1],
                resources=template.get("Resources", {}),
                outputs=template.get("Outputs", {}),
            )
        )
    return stacks

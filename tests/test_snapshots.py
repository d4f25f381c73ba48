"""One snapshot per stack of the sandbox environment, asset hashes normalised.

A snapshot changes only in a reviewed commit that says which line of code intended it:
``python -m pytest tests/test_snapshots.py --snapshot-update`` rewrites them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from platform_config import load_environment
from tests.conftest import SynthesizedPlatform

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalised(template: dict[str, Any]) -> dict[str, Any]:
    """The template with content hashes of assets replaced, so that only intent shows."""
    text = _ASSET_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True))
    return json.loads(text)  # type: ignore[no-any-return]


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


#: Every stack of the sandbox by its construct path under the environment ("/" as "."):
#: the shared stacks, then each model's registry and model stacks.
SANDBOX_STACKS = ["Data", "Network", "Registry", "Workspace", "Automation"] + [
    f"Models.{model.name}.{stack}"
    for model in load_environment("sandbox").models
    for stack in ("Registry", "Model")
]


def test_every_sandbox_stack_has_a_snapshot(sandbox: SynthesizedPlatform) -> None:
    paths = [
        stack.node.path.split("/", 1)[1].replace("/", ".") for stack in sandbox.platform.stacks
    ]
    assert paths == SANDBOX_STACKS


@pytest.mark.parametrize("stack_id", SANDBOX_STACKS)
def test_sandbox_stack_matches_its_snapshot(
    sandbox: SynthesizedPlatform, snapshot_json: SnapshotAssertion, stack_id: str
) -> None:
    path = stack_id.replace(".", "/")
    (stack,) = [s for s in sandbox.platform.stacks if s.node.path.split("/", 1)[1] == path]
    assert normalised(sandbox.template_json(stack)) == snapshot_json

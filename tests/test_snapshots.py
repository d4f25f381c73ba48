"""One snapshot per stack of the sandbox environment, asset hashes and the step scripts'
version normalised (``tests.constructs.helpers.normalised``).

A snapshot changes only in a reviewed commit that says which line of code intended it:
``python -m pytest tests/test_snapshots.py --snapshot-update`` rewrites them.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from platform_config import load_environment
from tests.conftest import SynthesizedPlatform
from tests.constructs.helpers import normalised


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


def test_the_step_scripts_version_is_normalised_in_the_model_stacks(
    sandbox: SynthesizedPlatform,
) -> None:
    digest = sandbox.platform.automation.step_code_prefix.rsplit("/", 1)[1]
    stack = sandbox.model("churn-prediction").model
    raw, text = str(sandbox.template_json(stack)), str(normalised(sandbox.template_json(stack)))
    assert len(digest) == 16 and digest in raw
    assert digest not in text and "pipelines/steps/<step-code-hash>" in text

"""A model added to or removed from the catalogue changes only its own two stacks.

The sandbox is synthesized once more from a copy of ``config/`` whose catalogue has lost one
model (the only asynchronous one, whose serving uses shared values no other model does) and
gained another (a copy of the richest entry under a new name). Every stack the two apps share
must be byte for byte the same template: no shared stack, function environment, policy or
output grows or shrinks with the catalogue (issue 16).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_config import load_environment
from platform_config.loader import CATALOGUE_FILE, DEFAULT_CONFIG_DIR
from tests.conftest import SynthesizedPlatform, synthesize_config

REMOVED = "claims-triage"
COPIED, ADDED = "churn-prediction", "churn-copy"


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    """The sandbox without :data:`REMOVED` and with :data:`ADDED`."""
    config_dir = tmp_path_factory.mktemp("config")
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, config_dir / path.name)
    catalogue_file = config_dir / CATALOGUE_FILE
    catalogue: dict[str, Any] = yaml.safe_load(catalogue_file.read_text())
    models = catalogue["models"]
    (copied,) = [m for m in models if m["name"] == COPIED]
    catalogue["models"] = [m for m in models if m["name"] != REMOVED] + [{**copied, "name": ADDED}]
    catalogue_file.write_text(yaml.safe_dump(catalogue, sort_keys=False))
    config = load_environment("sandbox", config_dir)
    return synthesize_config(config, tmp_path_factory.mktemp("cdk-sandbox-changed"))


def _templates(platform: SynthesizedPlatform) -> dict[str, str]:
    """Every template's text, by stack name."""
    return {
        stack.stack_name: Path(
            platform.assembly.get_stack_artifact(stack.artifact_id).template_full_path
        ).read_text()
        for stack in platform.platform.stacks
    }


def test_only_the_added_and_removed_models_stacks_differ(
    sandbox: SynthesizedPlatform, changed: SynthesizedPlatform
) -> None:
    before, after = _templates(sandbox), _templates(changed)
    prefix = sandbox.config.name_prefix
    own = {f"{prefix}-registry-{{}}", f"{prefix}-model-{{}}"}
    assert set(before) - set(after) == {name.format(REMOVED) for name in own}
    assert set(after) - set(before) == {name.format(ADDED) for name in own}
    shared = sorted(set(before) & set(after))
    assert len(shared) == len(before) - 2
    changed_stacks = [name for name in shared if before[name] != after[name]]
    assert changed_stacks == []


def test_the_added_model_gets_the_same_stacks_as_the_one_it_copies(
    sandbox: SynthesizedPlatform, changed: SynthesizedPlatform
) -> None:
    # The per-model stacks are the unit that scales: the copy differs only by its names.
    prefix = sandbox.config.name_prefix
    for kind in ("registry", "model"):
        copy = json.loads(_templates(changed)[f"{prefix}-{kind}-{ADDED}"])
        original = json.loads(_templates(sandbox)[f"{prefix}-{kind}-{COPIED}"])

        def shape(template: dict[str, Any]) -> list[tuple[str, str, str | None]]:
            return [
                (logical_id, r["Type"], r.get("Condition"))
                for logical_id, r in template["Resources"].items()
            ]

        assert shape(copy) == shape(original), kind
        assert ADDED in json.dumps(copy) and ADDED not in json.dumps(original)

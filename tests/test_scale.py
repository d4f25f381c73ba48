"""The scale gate: a generated catalogue of 100 models, in every environment, under every limit.

Each environment is synthesized with ``scripts.scale_gate`` (the sample catalogue grown to
100 entries: every kind of pipeline, serving, fleet and monitor), two environments at a
time in subprocesses, once per session.
"""

from __future__ import annotations

import filecmp
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aws_rules.cloud_assembly import read_assembly
from scripts.platform_limits import LIMITS, headroom, model_count, over_limit, readings
from tests.conftest import ENVIRONMENTS, REPO, SynthesizedPlatform

MODELS = 100


@pytest.fixture(scope="session")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each environment's cloud assembly with :data:`MODELS` models."""
    root = tmp_path_factory.mktemp("scale")

    def synthesize(env: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        command = [sys.executable, "-m", "scripts.scale_gate", env, str(root / env)]
        return env, subprocess.run(
            [*command, "--models", str(MODELS)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(synthesize, ENVIRONMENTS))
    for env, result in results.items():
        assert result.returncode == 0, f"{env}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return {env: root / env / "cdk.out" for env in ENVIRONMENTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_hundred_models_synthesize_under_every_limit(scaled: dict[str, Path], env: str) -> None:
    assembly = scaled[env]
    assert model_count(assembly) == MODELS
    found = readings(assembly)
    assert not over_limit(found), over_limit(found)
    measured = {reading.limit.name for reading in found}
    assert measured == set(LIMITS), set(LIMITS) - measured


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_shared_stacks_are_the_same_for_5_and_100_models(
    scaled: dict[str, Path], platforms: dict[str, SynthesizedPlatform], env: str
) -> None:
    """No shared stack grows with the catalogue: its template is byte for byte the same."""
    small = platforms[env].outdir
    shared = [s for s in read_assembly(small) if "/Models/" not in s.display_name]
    assert len(shared) >= 5
    templates = {path.name for path in small.glob("*.template.json")}
    for stack in shared:
        name = next(n for n in templates if n.startswith(stack.display_name.replace("/", "")))
        assert filecmp.cmp(small / name, scaled[env] / name, shallow=False), stack.display_name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_headroom_is_well_above_the_gate(scaled: dict[str, Path], env: str) -> None:
    most, limit = headroom(scaled[env])
    assert most is not None and most >= 2 * MODELS, (most, limit)

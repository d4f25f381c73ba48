"""The architecture picture: drawn from the sandbox's synthesized templates with Graphviz."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.architecture_diagram import main
from tests.conftest import SynthesizedPlatform

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def picture(sandbox: SynthesizedPlatform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dot") is None:
        pytest.fail("Graphviz's dot is missing: `make test` installs it (make graphviz)")
    output = tmp_path_factory.mktemp("diagram") / "architecture-sandbox.png"
    assert main([str(sandbox.outdir), "--output", str(output)]) == 0
    return output


def test_picture_is_a_non_empty_png(picture: Path) -> None:
    data = picture.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 50_000


def test_every_stack_is_a_cluster_of_the_picture(
    picture: Path, sandbox: SynthesizedPlatform
) -> None:
    source = picture.with_suffix(".dot").read_text()
    for stack in sandbox.platform.stacks:
        assert f"({stack.stack_name})" in source, stack.stack_name


def test_picture_shows_data_and_event_flows(picture: Path) -> None:
    source = picture.with_suffix(".dot").read_text()
    assert 'color="#1f6fb2"' in source  # data
    assert "style=dashed" in source  # events


def test_same_templates_give_the_same_graphviz_source(
    picture: Path, sandbox: SynthesizedPlatform, tmp_path: Path
) -> None:
    again = tmp_path / "again.png"
    assert main([str(sandbox.outdir), "--output", str(again)]) == 0
    assert again.with_suffix(".dot").read_text() == picture.with_suffix(".dot").read_text()


def test_a_models_resources_are_labelled_with_the_models_name(
    picture: Path, sandbox: SynthesizedPlatform
) -> None:
    source = picture.with_suffix(".dot").read_text()
    # fraud-detection's pipeline and endpoint, in its own stack, without the environment's
    # name prefix that every stack shares
    cluster = source.split("(ml-platform-sandbox-model-fraud-detection)")[-1].split("subgraph")[0]
    assert cluster.count('label="fraud-detection"') == 2

"""The container image table: every image the templates use is in it, as AWS publishes it."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from aws_rules.cloud_assembly import read_assembly
from platform_config.aws_facts import Accelerator
from platform_config.container_images import (
    TABLE_FILE,
    ContainerImage,
    container_images,
    image,
    instance_accelerator,
    load_table,
    neuron_sdk_line,
    parse_image_uri,
    published_image,
)
from platform_config.foundation_models import foundation_models
from tests.conftest import SynthesizedPlatform

#: Any ECR image URI in a template, pipeline definitions (embedded as strings) included.
ECR_IMAGE = re.compile(
    r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/[a-z0-9._/-]+(?::[\w.-]+)?"
)
NEURON_TRAINING = (
    "huggingface-pytorch-training-neuronx:2.1.2-transformers4.48.1-neuronx-py310-sdk2.20.0"
    "-ubuntu20.04"
)
#: The tag the fine-tuning job used before: not a combination AWS published.
UNPUBLISHED = (
    "huggingface-pytorch-training-neuronx:2.7.0-transformers4.51.0-neuronx-py310-sdk2.26.0"
    "-ubuntu22.04"
)


def images_in(platform: SynthesizedPlatform) -> dict[tuple[str, str], list[str]]:
    """(image URI, stack region) -> stacks that name it, for every stack of the assembly."""
    found: dict[tuple[str, str], list[str]] = {}
    for stack in read_assembly(platform.outdir):
        for uri in ECR_IMAGE.findall(json.dumps(stack.resources)):
            found.setdefault((uri, stack.region), []).append(stack.display_name)
    return found


def test_every_image_of_every_template_is_in_the_table_for_its_region(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    problems, checked = [], 0
    for name, platform in platforms.items():
        for (uri, region), stacks in images_in(platform).items():
            checked += 1
            assert region == platform.config.region, stacks
            try:
                published_image(uri, region)
            except ValueError as error:
                problems.append(f"{name} {stacks[0]}: {uri} {error}")
    assert checked >= 4 * len(platforms)  # training, serving and monitoring images at least
    assert problems == []


def test_the_sample_catalogue_uses_the_neuron_training_and_lmi_images(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    references = {
        parse_image_uri(uri).reference  # type: ignore[union-attr]
        for platform in platforms.values()
        for uri, _ in images_in(platform)
    }
    assert {NEURON_TRAINING, "djl-inference:0.30.0-neuronx-sdk2.20.1"} <= references
    assert UNPUBLISHED not in references


# --- the pairing of versions: a combination AWS published ---------------------------------


@cache
def sdk_table(name: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("sagemaker")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config"
    return json.loads((path / f"{name}.json").read_text())  # type: ignore[no-any-return]


def sdk_disagreement(entry: ContainerImage) -> str | None:
    """What the SDK's image table says differently about ``entry`` (accounts, tag)."""
    assert entry.sdk_entry is not None
    table, path = entry.sdk_entry
    sdk: dict[str, Any] = sdk_table(table)
    for key in path:
        sdk = sdk[key]
    if sdk["registries"] != entry.accounts:
        return "registry accounts differ"
    if sdk["repository"] != entry.repository:
        return f"repository {sdk['repository']}"
    expected = expected_tag(table, path, sdk)
    return None if expected == entry.tag else f"the SDK builds tag {expected}"


def expected_tag(table: str, path: tuple[str, ...], sdk: dict[str, Any]) -> str:
    """The tag the SDK's retrieval would build from its entry (``image_uris.retrieve``)."""
    if "tag_prefix" in sdk:
        return str(sdk["tag_prefix"])
    if table in ("huggingface", "huggingface-neuronx"):
        transformers, framework = path[-2], path[-1].removeprefix("pytorch")
        (container,) = set(sdk["container_version"].values())
        (python,) = sdk["py_versions"]
        if table == "huggingface-neuronx":
            (neuron_sdk,) = sdk["sdk_versions"]
            return (
                f"{framework}-transformers{transformers}-neuronx-{python}-{neuron_sdk}-{container}"
            )
        return f"{framework}-transformers{transformers}-gpu-{python}-{container}"
    if table == "sklearn":
        return f"{path[-1]}-cpu-{sdk['py_versions'][0]}"
    return path[-1] or "latest"


def test_every_image_the_sdk_lists_agrees_with_the_sdk() -> None:
    listed = [entry for entry in container_images().values() if entry.sdk_entry]
    assert len(listed) >= 6
    assert {entry.reference: sdk_disagreement(entry) for entry in listed} == {
        entry.reference: None for entry in listed
    }


def test_the_unpublished_fine_tuning_tag_contradicts_the_sdk_and_the_table() -> None:
    # The 2.7.0 / transformers 4.51.0 image AWS published carries Neuron SDK 2.24.1.
    published = image(NEURON_TRAINING)
    wrong = ContainerImage(
        **{
            **published.__dict__,
            "tag": UNPUBLISHED.split(":", 1)[1],
            "framework_version": "2.7.0",
            "transformers": "4.51.0",
            "neuron_sdk": "2.26.0",
            "sdk_entry": (
                "huggingface-neuronx",
                ("training", "versions", "4.51.0", "pytorch2.7.0"),
            ),
        }
    )
    assert sdk_disagreement(wrong) == (
        "the SDK builds tag 2.7.0-transformers4.51.0-neuronx-py310-sdk2.24.1-ubuntu22.04"
    )
    with pytest.raises(ValueError, match="is not in the container image table"):
        image(UNPUBLISHED)


def test_a_version_that_contradicts_the_tag_is_rejected_when_the_table_loads(
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(TABLE_FILE.read_text())
    data["images"][NEURON_TRAINING]["neuron_sdk"] = "2.26.0"
    path = tmp_path / "images.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"names neuron_sdk 2\.20\.0, the entry 2\.26\.0"):
        load_table(path)


def test_every_neuron_foundation_model_trains_and_serves_on_one_neuron_sdk_line() -> None:
    neuron = [m for m in foundation_models().values() if m.accelerator == "neuron"]
    assert neuron
    for model in neuron:
        trained, served = model.training_image.neuron_sdk, model.inference_image.neuron_sdk
        assert trained and served, model.model_id
        assert neuron_sdk_line(trained) == neuron_sdk_line(served), model.model_id
        assert model.training_image.jobs == {"training": {Accelerator.NEURON}}
        assert model.inference_image.server == "lmi-neuronx"


def test_every_entry_names_its_source_and_the_table_its_date() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", yaml.safe_load(TABLE_FILE.read_text())["checked"])
    for entry in container_images().values():
        assert entry.source.startswith(("https://github.com/aws/", "sagemaker-core ")), entry


# --- lookups -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_type", "accelerator"),
    [
        ("ml.m5.large", Accelerator.CPU),
        ("ml.c6i.xlarge", Accelerator.CPU),
        ("ml.g5.xlarge", Accelerator.GPU),
        ("ml.p4d.24xlarge", Accelerator.GPU),
        ("ml.inf2.xlarge", Accelerator.NEURON),
        ("ml.trn1.32xlarge", Accelerator.NEURON),
        ("ml.trn1n.32xlarge", Accelerator.NEURON),
        ("ml.inf1.xlarge", None),
    ],
)
def test_instance_accelerator(instance_type: str, accelerator: Accelerator | None) -> None:
    assert instance_accelerator(instance_type) is accelerator


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.29.0-neuronx-sdk2.19.1",
            (
                r"^names djl-inference:0\.29\.0-neuronx-sdk2\.19\.1, which is not in the container"
                r" image table \(platform_config/container_images\.yaml"
            ),
        ),
        (
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.30.0-neuronx-sdk2.20.1",
            r"^is pinned to us-east-1's registry; use \{region\} or eu-west-1",
        ),
        (
            "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1",
            (
                r"^names registry account 683313688378, but sagemaker-xgboost:1\.7-1 is published"
                r" in eu-west-1 by 141502667606"
            ),
        ),
        ("docker.io/library/nginx:latest", r"^is not an ECR image URI"),
    ],
)
def test_an_image_not_published_for_the_region_is_named(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        published_image(uri, "eu-west-1")


def test_an_untagged_image_is_its_latest_tag() -> None:
    uri = "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    assert published_image(uri, "eu-west-1").tag == "latest"


def test_an_image_is_not_published_in_every_region() -> None:
    with pytest.raises(ValueError, match=r"is not published in region 'af-south-1'"):
        image(NEURON_TRAINING).uri("af-south-1")
    assert (
        image("sagemaker-xgboost:1.7-1")
        .uri("cn-north-1")
        .endswith(".amazonaws.com.cn/sagemaker-xgboost:1.7-1")
    )


def test_docs_list_every_image_of_the_table() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "images.md").read_text()
    assert [ref for ref in container_images() if f"`{ref}`" not in docs] == []

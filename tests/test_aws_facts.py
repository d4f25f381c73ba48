"""The facts about AWS the configuration consults: current for the pinned packages, and
consistent with what synth builds and tags."""

from __future__ import annotations

import json
from typing import Any

import pytest

from platform_config.aws_facts import (
    FACTS_FILE,
    JobKind,
    accepted_instance_types,
    build_problem,
    facts,
    instance_type_problem,
    offered_instance_types,
)
from platform_config.aws_rules import PLATFORM_TAG_KEYS
from scripts.regenerate_aws_facts import generate, render, unbuildable_facts
from tests.conftest import SynthesizedPlatform, synthesize

#: Regions whose ``unbuildable`` facts are rebuilt here: one where everything builds, one
#: where the training pipeline and Model Monitor cannot, one where the Trainium base model
#: cannot (the full rebuild, every region, is ``python -m scripts.regenerate_aws_facts
#: --check``: about a minute).
SAMPLE_REGIONS = ["eu-west-1", "ca-west-1", "eu-north-1"]


def test_facts_file_is_current_for_the_installed_botocore_cfn_lint_and_sagemaker() -> None:
    current = json.loads(render(generate(builds=False)))
    recorded = facts()
    for section in ("sources", "regions", "instance_types", "regional_offer"):
        assert recorded[section] == current[section], (
            f"{FACTS_FILE.name} is out of date for {section}: run"
            " `python -m scripts.regenerate_aws_facts` and review the diff"
        )


def test_what_cannot_be_built_where_is_what_the_builders_say() -> None:
    rebuilt = unbuildable_facts(SAMPLE_REGIONS)
    recorded = {
        key: {region: reason for region, reason in regions.items() if region in SAMPLE_REGIONS}
        for key, regions in facts()["unbuildable"].items()
    }
    assert rebuilt == recorded
    # The sample exercises both outcomes.
    assert build_problem("pipeline:training", "eu-west-1") is None
    assert build_problem("pipeline:training", "ca-west-1") is not None


def test_a_type_too_new_for_the_price_list_is_not_refused_per_region() -> None:
    priced = {
        t for types in facts()["regional_offer"]["endpoint"]["regions"].values() for t in types
    }
    unpriced = sorted(accepted_instance_types(JobKind.ENDPOINT) - priced)
    assert unpriced, "every accepted endpoint type is priced: pick another kind for this test"
    assert instance_type_problem(unpriced[0], JobKind.ENDPOINT, "eu-west-1") is None


def test_a_region_without_price_list_data_refuses_only_what_the_api_refuses() -> None:
    regions = set(facts()["regions"])
    unpriced = sorted(regions - set(facts()["regional_offer"]["batch_transform"]["regions"]))
    assert unpriced, "every region has batch transform prices: pick another kind for this test"
    assert offered_instance_types(JobKind.BATCH_TRANSFORM, unpriced[0]) is None
    assert instance_type_problem("ml.m5.xlarge", JobKind.BATCH_TRANSFORM, unpriced[0]) is None
    assert instance_type_problem("ml.m5.huge", JobKind.BATCH_TRANSFORM, unpriced[0]) is not None


@pytest.fixture(scope="module")
def sandbox_platform(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synthesize("sandbox", tmp_path_factory.mktemp("cdk-sandbox-tags"))


def _tag_keys(tags: Any) -> set[str]:
    if isinstance(tags, dict):
        return set(tags)
    if isinstance(tags, list):
        return {tag["Key"] for tag in tags if isinstance(tag, dict) and "Key" in tag}
    return set()


def test_the_platform_adds_no_tag_beyond_those_counted_against_the_limit(
    sandbox_platform: SynthesizedPlatform,
) -> None:
    configured = set(sandbox_platform.config.tags)
    own: set[str] = set()
    most = 0
    for stack in sandbox_platform.platform.stacks:
        resources = sandbox_platform.template_json(stack)["Resources"]
        for resource in resources.values():
            keys = _tag_keys(resource.get("Properties", {}).get("Tags")) - configured
            own |= keys
            most = max(most, len(keys))
    assert own <= set(PLATFORM_TAG_KEYS), own - set(PLATFORM_TAG_KEYS)
    assert most <= len(PLATFORM_TAG_KEYS)
    assert own, "no resource has a tag of the platform's own: PLATFORM_TAG_KEYS is stale"

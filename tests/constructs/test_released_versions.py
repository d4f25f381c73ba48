"""ReleasedVersions on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from syrupy.assertion import SnapshotAssertion

from ml_constructs.released_versions import ReleasedVersions
from tests.constructs.helpers import NAMES, bare_stack, construct_template, template


def _released(candidate_slot: bool = False) -> ReleasedVersions:
    return ReleasedVersions(
        bare_stack(), "Subject", names=NAMES, model="churn", candidate_slot=candidate_slot
    )


def test_a_model_without_a_candidate_slot_reads_the_champion_only() -> None:
    released = _released()
    assert released.candidate is None
    assert [slot.value for slot in released.parameters] == ["champion"]


def test_the_candidate_falls_back_to_the_champion_while_empty() -> None:
    released = _released(candidate_slot=True)
    stack = cdk.Stack.of(released)
    resolved = stack.resolve(released.candidate)
    assert "Fn::If" in resolved


def test_released_versions_read_each_slot_and_condition_on_the_champion() -> None:
    stack = bare_stack()
    released = ReleasedVersions(stack, "Release", names=NAMES, model="churn", candidate_slot=True)
    topic = sns.Topic(stack, "OnlyWhenReleased")
    released.only_when_released(topic)
    stack_template = template(stack).to_json()
    defaults = sorted(p["Default"] for p in stack_template["Parameters"].values() if "Default" in p)
    assert "/ml-platform-test/releases/churn/candidate" in defaults
    assert "/ml-platform-test/releases/churn/champion" in defaults
    (topic_resource,) = [
        r for r in stack_template["Resources"].values() if r["Type"] == "AWS::SNS::Topic"
    ]
    assert topic_resource["Condition"] == stack.get_logical_id(released.released)


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_released(candidate_slot=True)) == snapshot_json

"""EndpointAlarms on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from syrupy.assertion import SnapshotAssertion

from ml_constructs.endpoint_alarms import EndpointAlarms
from platform_config.serving_spec import AlarmSpec
from tests.constructs.helpers import bare_stack, construct_template, resources


def _alarms(**props: object) -> EndpointAlarms:
    stack = bare_stack()
    return EndpointAlarms(
        stack,
        "Subject",
        endpoint_name="ml-platform-test-churn",
        variant_names=["champion", "challenger"],
        thresholds=AlarmSpec(errors_5xx=3, model_latency_p99_ms=200),
        topic=sns.Topic(stack, "Alerts"),
        **props,  # type: ignore[arg-type]
    )


def test_each_variant_has_an_errors_and_a_latency_alarm_notifying_both_ways() -> None:
    alarms = _alarms()
    found = resources(cdk.Stack.of(alarms), "AWS::CloudWatch::Alarm")
    assert len(found) == 4 == len(alarms.alarms)
    latency = [a for a in found if a["MetricName"] == "ModelLatency"]
    assert {a["Threshold"] for a in latency} == {200 * 1000}  # microseconds
    assert all(a["AlarmActions"] and a["OKActions"] for a in found)
    assert {tuple(d["Name"] for d in a["Dimensions"]) for a in found} == {
        ("EndpointName", "VariantName")
    }


def test_an_inference_component_is_watched_by_its_name() -> None:
    alarms = _alarms(inference_component_name="ml-platform-test-churn")
    found = resources(cdk.Stack.of(alarms), "AWS::CloudWatch::Alarm")
    assert all(
        a["Dimensions"] == [{"Name": "InferenceComponentName", "Value": "ml-platform-test-churn"}]
        for a in found
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_alarms()) == snapshot_json

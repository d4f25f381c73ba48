"""The Model Monitor constructs on a bare stack: delayed ground truth and network isolation.

The monitoring stack passes ``MonitoringSpec.ground_truth_offsets`` (see docs/retraining.md);
these tests build the constructs directly, with the offsets the sample catalogue's churn
model gets from its configuration.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from ml_constructs import (
    DataQualityMonitor,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelQualityMonitor,
    MonitorJobSettings,
)
from platform_config import load_environment

OFFSETS = load_environment("dev").models[0].monitoring.ground_truth_offsets


def build(monitor: type, **extra: Any) -> dict[str, Any]:
    """The job definition's properties of one monitor of ``monitor``'s type."""
    stack = Stack(App(), "Monitors", env={"account": "111122223333", "region": "eu-west-1"})
    settings = MonitorJobSettings(
        role=iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/monitor"),
        subnet_ids=["subnet-0123456789abcdef0"],
        security_group_ids=["sg-0123456789abcdef0"],
        key=kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:eu-west-1:111122223333:key/k"),
        reports_uri="s3://reports/monitoring/churn",
    )
    monitor(
        stack,
        "Monitor",
        endpoint_name="ml-platform-dev-churn-prediction",
        schedule_name="ml-platform-dev-churn-prediction-monitor",
        schedule_expression="cron(0 * ? * * *)",
        image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/monitor:1",
        baseline_uri="s3://reports/baselines/churn",
        settings=settings,
        **extra,
    )
    (definition,) = Template.from_stack(stack).find_resources(monitor.RESOURCE_TYPE).values()
    return definition["Properties"]  # type: ignore[no-any-return]


GROUND_TRUTH = "s3://labels/churn-prediction/"


def test_the_sample_churn_model_looks_90_days_back() -> None:
    assert OFFSETS == ("-PT2161H", "-PT2160H")


@pytest.mark.parametrize(
    ("monitor", "extra"),
    [
        (ModelQualityMonitor, {"problem_type": "BinaryClassification"}),
        (ModelQualityMonitor, {"problem_type": "Regression"}),
        (ModelBiasMonitor, {}),
    ],
)
def test_label_merging_monitors_analyse_requests_whose_labels_are_complete(
    monitor: type, extra: dict[str, Any]
) -> None:
    properties = build(
        monitor, ground_truth_uri=GROUND_TRUTH, ground_truth_offsets=OFFSETS, **extra
    )
    endpoint = properties[f"{monitor.KIND}JobInput"]["EndpointInput"]
    assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == OFFSETS
    assert properties[f"{monitor.KIND}JobInput"]["GroundTruthS3Input"] == {"S3Uri": GROUND_TRUTH}


@pytest.mark.parametrize("monitor", [ModelQualityMonitor, ModelBiasMonitor])
def test_without_a_delay_there_is_no_offset(monitor: type) -> None:
    extra = {"problem_type": "BinaryClassification"} if monitor is ModelQualityMonitor else {}
    properties = build(monitor, ground_truth_uri=GROUND_TRUTH, **extra)
    endpoint = properties[f"{monitor.KIND}JobInput"]["EndpointInput"]
    assert "StartTimeOffset" not in endpoint and "EndTimeOffset" not in endpoint


@pytest.mark.parametrize(
    ("monitor", "extra", "isolated"),
    [
        (DataQualityMonitor, {}, True),
        (
            ModelQualityMonitor,
            {"ground_truth_uri": GROUND_TRUTH, "problem_type": "Regression"},
            True,
        ),
        (ModelBiasMonitor, {"ground_truth_uri": GROUND_TRUTH}, True),
        # Clarify creates, calls and deletes a shadow endpoint of the model itself.
        (ModelExplainabilityMonitor, {}, False),
    ],
)
def test_every_monitor_runs_in_the_vpc_isolated_but_explainability(
    monitor: type, extra: dict[str, Any], isolated: bool
) -> None:
    network = build(monitor, **extra)["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is isolated
    assert network["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"]

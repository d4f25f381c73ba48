"""EndpointAutoscaling on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.endpoint_autoscaling import EndpointAutoscaling
from platform_config.serving_spec import AutoscalingSpec
from tests.constructs.helpers import bare_stack, construct_template, resources, template


def _scaling(settings: AutoscalingSpec, *, asynchronous: bool = False) -> EndpointAutoscaling:
    stack = bare_stack()
    endpoint = sagemaker.CfnEndpoint(stack, "Endpoint", endpoint_config_name="config")
    return EndpointAutoscaling(
        stack,
        "Subject",
        endpoint=endpoint,
        endpoint_name="ml-platform-test-churn",
        variant_names=["AllTraffic"],
        settings=settings,
        asynchronous=asynchronous,
    )


def test_real_time_variants_track_invocations_per_instance() -> None:
    scaling = _scaling(AutoscalingSpec(min_capacity=1, max_capacity=4))
    stack = template(cdk.Stack.of(scaling))
    stack.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ResourceId": "endpoint/ml-platform-test-churn/variant/AllTraffic",
            "MinCapacity": 1,
            "MaxCapacity": 4,
        },
    )
    stack.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                    }
                }
            )
        },
    )


def test_asynchronous_variants_scale_to_zero_and_wake_up_on_a_waiting_request() -> None:
    scaling = _scaling(AutoscalingSpec(min_capacity=0, max_capacity=2), asynchronous=True)
    stack = cdk.Stack.of(scaling)
    policies = resources(stack, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert {p["PolicyType"] for p in policies} == {"TargetTrackingScaling", "StepScaling"}
    template(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "HasBacklogWithoutCapacity"}
    )


def test_scale_to_zero_of_a_real_time_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match=r"min_capacity 0 .* asynchronous endpoints only"):
        _scaling(AutoscalingSpec(min_capacity=0, max_capacity=2))


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    scaling = _scaling(AutoscalingSpec(min_capacity=1, max_capacity=4))
    assert construct_template(scaling) == snapshot_json

"""InferenceComponentScaling on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sagemaker
from syrupy.assertion import SnapshotAssertion

from ml_constructs.inference_component_scaling import InferenceComponentScaling
from tests.constructs.helpers import bare_stack, construct_template, template


def _scaling(max_copies: int = 2, target: float = 10) -> InferenceComponentScaling:
    stack = bare_stack()
    component = sagemaker.CfnInferenceComponent(
        stack,
        "Component",
        endpoint_name="e",
        specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
            model_name="m"
        ),
    )
    return InferenceComponentScaling(
        stack,
        "Subject",
        component=component,
        component_name="ml-platform-test-churn",
        max_copies=max_copies,
        target_invocations_per_copy=target,
        scale_in_cooldown=cdk.Duration.minutes(5),
        scale_out_cooldown=cdk.Duration.minutes(1),
    )


def test_copies_scale_between_zero_and_the_maximum() -> None:
    scaling = _scaling(max_copies=3)
    template(cdk.Stack.of(scaling)).has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ResourceId": "inference-component/ml-platform-test-churn",
            "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount",
            "MinCapacity": 0,
            "MaxCapacity": 3,
        },
    )


def test_a_request_with_no_capacity_adds_a_copy() -> None:
    scaling = _scaling()
    template(cdk.Stack.of(scaling)).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "NoCapacityInvocationFailures",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": "ml-platform-test-churn"}],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )


@pytest.mark.parametrize(
    ("max_copies", "target", "message"),
    [
        (0, 10, r"max_copies must be at least 1 \(got 0\)"),
        (1, 0, "target_invocations_per_copy must be positive"),
    ],
)
def test_bounds_are_refused(max_copies: int, target: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _scaling(max_copies=max_copies, target=target)


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_scaling()) == snapshot_json

"""InferenceComponentEndpoint on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.inference_component_endpoint import (
    ComputeRequirements,
    InferenceComponentEndpoint,
)
from ml_constructs.model_endpoint import VariantPackage
from platform_config.serving_spec import EndpointKind, ServingSpec
from tests.constructs.helpers import (
    PACKAGE_ARN,
    bare_stack,
    construct_template,
    serving_props,
    template,
)

ZERO = ServingSpec(
    kind=EndpointKind.REAL_TIME, instance_type="ml.m5.large", data_capture={"enabled": False}
)


def _endpoint(spec: ServingSpec = ZERO) -> InferenceComponentEndpoint:
    stack = bare_stack()
    return InferenceComponentEndpoint(
        stack,
        "Subject",
        endpoint_name="ml-platform-test-churn",
        spec=spec,
        package=VariantPackage("Champion", PACKAGE_ARN),
        compute=ComputeRequirements(cpu_cores=1, min_memory_mb=2048),
        **serving_props(stack),
    )


def test_config_has_no_model_and_scales_instances_down_to_zero() -> None:
    endpoint = _endpoint()
    template(cdk.Stack.of(endpoint)).has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ExecutionRoleArn": Match.any_value(),
            "ProductionVariants": [
                Match.object_like(
                    {
                        "ModelName": Match.absent(),
                        "ManagedInstanceScaling": Match.object_like(
                            {"Status": "ENABLED", "MinInstanceCount": 0}
                        ),
                    }
                )
            ],
        },
    )


def test_component_serves_the_model_with_one_copy_named_like_the_endpoint() -> None:
    endpoint = _endpoint()
    stack = template(cdk.Stack.of(endpoint))
    stack.has_resource_properties(
        "AWS::SageMaker::InferenceComponent",
        {
            "InferenceComponentName": "ml-platform-test-churn",
            "RuntimeConfig": {"CopyCount": 1},
            "Specification": Match.object_like(
                {
                    "ComputeResourceRequirements": {
                        "NumberOfCpuCoresRequired": 1,
                        "MinMemoryRequiredInMb": 2048,
                    }
                }
            ),
        },
    )
    stack.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 0})
    stack.has_resource_properties("AWS::SageMaker::Endpoint", {"DeploymentConfig": Match.absent()})


def test_a_spec_that_cannot_scale_to_zero_is_refused() -> None:
    with pytest.raises(
        ValueError, match="cannot serve ml-platform-test-churn on an inference component"
    ):
        _endpoint(ServingSpec(kind=EndpointKind.SERVERLESS))


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_endpoint()) == snapshot_json

"""ServerlessEndpoint on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.serverless_endpoint import ServerlessEndpoint
from platform_config.serving_spec import EndpointKind, ServingSpec
from tests.constructs.helpers import (
    bare_stack,
    champion,
    construct_template,
    serving_props,
    template,
)

SERVERLESS = ServingSpec(kind=EndpointKind.SERVERLESS)


def _endpoint(spec: ServingSpec = SERVERLESS) -> ServerlessEndpoint:
    stack = bare_stack()
    return ServerlessEndpoint(
        stack,
        "Subject",
        endpoint_name="ml-platform-test-churn",
        spec=spec,
        variant_packages=champion(),
        **serving_props(stack),
    )


def test_variant_is_serverless_with_the_specs_memory_and_no_volume_key() -> None:
    endpoint = _endpoint()
    stack = template(cdk.Stack.of(endpoint))
    stack.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like(
                    {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
                )
            ],
            "KmsKeyId": Match.absent(),
        },
    )


def test_model_runs_outside_the_vpc() -> None:
    endpoint = _endpoint()
    template(cdk.Stack.of(endpoint)).has_resource_properties(
        "AWS::SageMaker::Model", {"VpcConfig": Match.absent(), "EnableNetworkIsolation": False}
    )


def test_updates_roll_out_all_at_once() -> None:
    endpoint = _endpoint()
    template(cdk.Stack.of(endpoint)).has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": Match.object_like(
                {
                    "BlueGreenUpdatePolicy": Match.object_like(
                        {"TrafficRoutingConfiguration": Match.object_like({"Type": "ALL_AT_ONCE"})}
                    )
                }
            )
        },
    )


def test_a_batch_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="batch serving has no endpoint: use BatchTransformModel"):
        _endpoint(ServingSpec(kind=EndpointKind.BATCH))


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_endpoint()) == snapshot_json

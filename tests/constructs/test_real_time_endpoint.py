"""RealTimeEndpoint on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.model_endpoint import VariantPackage
from ml_constructs.real_time_endpoint import RealTimeEndpoint
from platform_config.serving_spec import EndpointKind, ServingSpec
from tests.constructs.helpers import (
    PACKAGE_ARN,
    bare_stack,
    champion,
    construct_template,
    serving_props,
    template,
)

SHADOWED = ServingSpec(
    kind=EndpointKind.REAL_TIME,
    instance_type="ml.m5.large",
    shadow_variants=[{"name": "shadow", "weight": 1}],
)


def _endpoint(
    spec: ServingSpec, packages: dict[str, VariantPackage], **props: object
) -> RealTimeEndpoint:
    stack = bare_stack()
    return RealTimeEndpoint(
        stack,
        "Subject",
        endpoint_name="ml-platform-test-churn",
        spec=spec,
        variant_packages=packages,
        **serving_props(stack),
        **props,  # type: ignore[arg-type]
    )


def test_shadow_variant_serves_the_candidate_beside_the_champion() -> None:
    packages = {
        **champion(),
        "shadow": VariantPackage("Candidate", PACKAGE_ARN.replace("/1", "/2")),
    }
    endpoint = _endpoint(SHADOWED, packages)
    stack = template(cdk.Stack.of(endpoint))
    stack.resource_count_is("AWS::SageMaker::Model", 2)
    stack.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [Match.object_like({"VariantName": "AllTraffic"})],
            "ShadowProductionVariants": [Match.object_like({"VariantName": "shadow"})],
            "KmsKeyId": Match.any_value(),
        },
    )
    assert endpoint.shadow_variant_names == ["shadow"]


def test_capture_writes_requests_and_responses_under_the_uri() -> None:
    endpoint = _endpoint(
        ServingSpec(kind=EndpointKind.REAL_TIME), champion(), data_capture_uri="s3://capture/x"
    )
    template(cdk.Stack.of(endpoint)).has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "DataCaptureConfig": Match.object_like(
                {
                    "DestinationS3Uri": "s3://capture/x",
                    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                }
            )
        },
    )


def test_endpoint_rolls_out_with_the_specs_deployment_and_its_alarms() -> None:
    endpoint = _endpoint(ServingSpec(kind=EndpointKind.REAL_TIME), champion())
    template(cdk.Stack.of(endpoint)).has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "EndpointName": "ml-platform-test-churn",
            "DeploymentConfig": Match.object_like(
                {
                    "BlueGreenUpdatePolicy": Match.object_like(
                        {"TrafficRoutingConfiguration": Match.any_value()}
                    )
                }
            ),
        },
    )


def test_a_name_over_63_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="is longer than 63 characters"):
        stack = bare_stack()
        RealTimeEndpoint(
            stack,
            "Subject",
            endpoint_name="e" * 64,
            spec=ServingSpec(kind=EndpointKind.REAL_TIME),
            variant_packages=champion(),
            **serving_props(stack),
        )


def test_a_serverless_spec_is_refused() -> None:
    with pytest.raises(
        ValueError, match="RealTimeEndpoint serves real_time endpoints, not serverless"
    ):
        _endpoint(ServingSpec(kind=EndpointKind.SERVERLESS), champion())


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    endpoint = _endpoint(ServingSpec(kind=EndpointKind.REAL_TIME), champion())
    assert construct_template(endpoint) == snapshot_json

"""AsyncEndpoint on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.async_endpoint import AsyncEndpoint
from ml_constructs.model_endpoint import AsyncOutput
from platform_config.serving_spec import EndpointKind, ServingSpec
from tests.constructs.helpers import (
    bare_stack,
    champion,
    construct_template,
    key,
    serving_props,
    template,
)

ASYNC = ServingSpec(kind=EndpointKind.ASYNC, instance_type="ml.m5.large")


def _endpoint(spec: ServingSpec = ASYNC) -> AsyncEndpoint:
    stack = bare_stack()
    output = AsyncOutput(
        output_uri="s3://test-capture/async/output",
        failure_uri="s3://test-capture/async/failures",
        key=key(stack, "OutputKey"),
        success_topic=sns.Topic(stack, "Success"),
        error_topic=sns.Topic(stack, "Error"),
    )
    return AsyncEndpoint(
        stack,
        "Subject",
        async_output=output,
        endpoint_name="ml-platform-test-churn",
        spec=spec,
        variant_packages=champion(),
        **serving_props(stack),
    )


def test_results_and_failures_go_to_s3_encrypted_and_notified() -> None:
    endpoint = _endpoint()
    template(cdk.Stack.of(endpoint)).has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "AsyncInferenceConfig": {
                "ClientConfig": Match.any_value(),
                "OutputConfig": Match.object_like(
                    {
                        "S3OutputPath": "s3://test-capture/async/output",
                        "S3FailurePath": "s3://test-capture/async/failures",
                        "KmsKeyId": Match.any_value(),
                        "NotificationConfig": Match.object_like(
                            {"SuccessTopic": Match.any_value(), "ErrorTopic": Match.any_value()}
                        ),
                    }
                ),
            }
        },
    )


def test_a_real_time_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="AsyncEndpoint serves async endpoints, not real_time"):
        _endpoint(ServingSpec(kind=EndpointKind.REAL_TIME))


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_endpoint()) == snapshot_json

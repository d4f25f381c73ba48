"""BatchTransformModel on a bare stack."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from syrupy.assertion import SnapshotAssertion

from ml_constructs.batch_transform_model import BatchTransformModel
from platform_config.serving_spec import EndpointKind, ServingSpec
from tests.constructs.helpers import (
    PACKAGE_ARN,
    bare_stack,
    construct_template,
    serving_props,
    template,
)

BATCH = ServingSpec(kind=EndpointKind.BATCH, instance_type="ml.m5.large")


def _model(spec: ServingSpec = BATCH) -> BatchTransformModel:
    stack = bare_stack()
    return BatchTransformModel(
        stack,
        "Subject",
        spec=spec,
        parameter_name="/ml-platform-test/serving/churn/transform",
        output_uri="s3://test-datasets/batch-transform/churn/",
        package_arn=PACKAGE_ARN,
        **serving_props(stack),
    )


def test_settings_parameter_holds_the_transform_settings() -> None:
    model = _model()
    parameters = template(cdk.Stack.of(model)).find_resources("AWS::SSM::Parameter")
    (parameter,) = [p["Properties"] for p in parameters.values()]
    assert parameter["Name"] == "/ml-platform-test/serving/churn/transform"
    value = json.dumps(parameter["Value"])
    assert "ml.m5.large" in value and "s3://test-datasets/batch-transform/churn/" in value


def test_a_real_time_spec_is_refused() -> None:
    with pytest.raises(
        ValueError, match=re.escape("spec.kind is real_time; BatchTransformModel needs batch")
    ):
        _model(ServingSpec(kind=EndpointKind.REAL_TIME))


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_model()) == snapshot_json

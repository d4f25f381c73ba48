"""MlflowApp on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from syrupy.assertion import SnapshotAssertion

from ml_constructs.mlflow_app import MlflowApp
from platform_config import MlflowConfig
from tests.constructs.helpers import bare_stack, construct_template, template


def _app(**settings: object) -> MlflowApp:
    stack = bare_stack()
    return MlflowApp(
        stack,
        "Subject",
        name="ml-platform-test",
        artifact_bucket=s3.Bucket.from_bucket_name(stack, "Artifacts", "test-artifacts"),
        settings=MlflowConfig(**{"kind": "app", **settings}),  # type: ignore[arg-type]
    )


def test_app_stores_artifacts_and_registers_models_when_asked() -> None:
    app = _app(automatic_model_registration=False)
    template(cdk.Stack.of(app)).has_resource_properties(
        "AWS::SageMaker::MlflowApp",
        {
            "Name": "ml-platform-test",
            "ArtifactStoreUri": "s3://test-artifacts/mlflow",
            "ModelRegistrationMode": "AutoModelRegistrationDisabled",
        },
    )
    stack = cdk.Stack.of(app)
    assert stack.resolve(app.server_arn) == {"Fn::GetAtt": [stack.get_logical_id(app.app), "Arn"]}


def test_tracking_server_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="MlflowApp needs mlflow settings of kind app"):
        _app(kind="tracking_server")


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_app()) == snapshot_json

"""MlflowTrackingServer on a bare stack (and what every ManagedMlflow shares)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from syrupy.assertion import SnapshotAssertion

from ml_constructs import MlflowTrackingServer
from platform_config import MlflowConfig
from tests.constructs.helpers import bare_stack, construct_template, key, resources, template


def _server(**settings: object) -> MlflowTrackingServer:
    stack = bare_stack()
    bucket = s3.Bucket.from_bucket_attributes(
        stack, "Artifacts", bucket_name="test-artifacts", encryption_key=key(stack)
    )
    return MlflowTrackingServer(
        stack,
        "Subject",
        name="ml-platform-test",
        artifact_bucket=bucket,
        settings=MlflowConfig(**settings),  # type: ignore[arg-type]
        protected_group_prefix="ml-platform-test",
    )


def _statements(stack: cdk.Stack) -> list[dict[str, object]]:
    return [
        s
        for policy in resources(stack, "AWS::IAM::Policy")
        for s in policy["PolicyDocument"]["Statement"]
    ]


def test_server_of_the_configured_size_stores_artifacts_under_its_prefix() -> None:
    server = _server(size="Medium")
    template(cdk.Stack.of(server)).has_resource_properties(
        "AWS::SageMaker::MlflowTrackingServer",
        {
            "TrackingServerName": "ml-platform-test",
            "TrackingServerSize": "Medium",
            "ArtifactStoreUri": "s3://test-artifacts/mlflow",
        },
    )


def test_registration_never_touches_the_served_models_groups() -> None:
    server = _server(automatic_model_registration=True)
    (deny,) = [
        s for s in _statements(cdk.Stack.of(server)) if s.get("Sid") == "NeverTheServedModelsGroups"
    ]
    assert deny["Effect"] == "Deny"
    assert "model-package-group/ml-platform-test-*" in str(deny["Resource"])


def test_without_registration_the_role_gets_no_registry_statement() -> None:
    server = _server(automatic_model_registration=False)
    actions = str([s["Action"] for s in _statements(cdk.Stack.of(server))])
    assert "sagemaker:CreateModelPackage" not in actions


def test_access_is_granted_on_this_server() -> None:
    server = _server()
    stack = cdk.Stack.of(server)
    user = iam.Role(stack, "User", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    server.grant_access(user)
    actions = str([s["Action"] for s in _statements(stack)])
    assert "sagemaker:CreatePresignedMlflowTrackingServerUrl" in actions


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_server()) == snapshot_json

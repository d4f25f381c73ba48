"""EndpointExecutionRole on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.endpoint_execution_role import EndpointExecutionRole
from tests.constructs.helpers import bare_stack, construct_template, key, template


def _role() -> EndpointExecutionRole:
    stack = bare_stack()
    return EndpointExecutionRole(
        stack,
        "Subject",
        model_name="churn",
        log_group_prefix="Endpoints/ml-platform-test-churn",
        volume_key=key(stack),
        model_artifacts=s3.Bucket.from_bucket_name(stack, "Artifacts", "test-artifacts"),
    )


def _statements(role: EndpointExecutionRole) -> list[dict[str, object]]:
    policies = template(cdk.Stack.of(role)).find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_role_writes_only_its_endpoints_log_groups() -> None:
    role = _role()
    (logs,) = [s for s in _statements(role) if s.get("Sid") == "Logs"]
    assert "/aws/sagemaker/Endpoints/ml-platform-test-churn*" in str(logs["Resource"])


def test_role_reads_model_artifacts_and_may_not_write_them() -> None:
    role = _role()
    actions = {
        action
        for statement in _statements(role)
        if "test-artifacts" in str(statement["Resource"])
        for action in statement["Action"]
    }
    assert "s3:GetObject*" in actions
    assert not [action for action in actions if action.startswith("s3:Put")]


def test_grants_are_limited_to_the_given_prefix() -> None:
    role = _role()
    stack = cdk.Stack.of(role)
    capture = s3.Bucket.from_bucket_name(stack, "Capture", "test-capture")
    role.grant_write(capture, "data-capture/churn/", reason="Capture writes its prefix.")
    template(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Resource": Match.object_like(
                                    {
                                        "Fn::Join": [
                                            "",
                                            Match.array_with(
                                                [":s3:::test-capture/data-capture/churn/*"]
                                            ),
                                        ]
                                    }
                                )
                            }
                        )
                    ]
                )
            }
        },
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_role()) == snapshot_json

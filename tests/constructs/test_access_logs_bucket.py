"""AccessLogsBucket on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import AccessLogsBucket
from tests.constructs.helpers import bare_stack, construct_template, template


def _bucket(**props: object) -> AccessLogsBucket:
    return AccessLogsBucket(
        bare_stack(),
        "Subject",
        bucket_name="test-access-logs",
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **props,  # type: ignore[arg-type]
    )


def test_logs_are_encrypted_with_s3_managed_keys_and_expire() -> None:
    bucket = _bucket(expiration=cdk.Duration.days(30))
    template(cdk.Stack.of(bucket)).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "test-access-logs",
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Id": "expire-access-logs", "ExpirationInDays": 30})]
                )
            },
        },
    )


def test_bucket_takes_its_removal_policy() -> None:
    bucket = _bucket()
    template(cdk.Stack.of(bucket)).has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain"})


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_bucket()) == snapshot_json

"""SecureBucket on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import SecureBucket
from tests.constructs.helpers import bare_stack, construct_template, key, template


def _bucket(**props: object) -> SecureBucket:
    stack = bare_stack()
    logs = s3.Bucket.from_bucket_name(stack, "Logs", "test-access-logs")
    return SecureBucket(
        stack,
        "Subject",
        bucket_name="test-data",
        encryption_key=key(stack),
        access_logs_bucket=logs,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **props,  # type: ignore[arg-type]
    )


def test_bucket_is_encrypted_with_the_key_and_logs_under_its_id() -> None:
    bucket = _bucket()
    template(cdk.Stack.of(bucket)).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": Match.object_like(
                                {"SSEAlgorithm": "aws:kms"}
                            ),
                        }
                    )
                ]
            },
            "LoggingConfiguration": {
                "DestinationBucketName": "test-access-logs",
                "LogFilePrefix": "Subject/",
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    )


def test_extra_lifecycle_rules_follow_the_housekeeping() -> None:
    rule = s3.LifecycleRule(id="expire", expiration=cdk.Duration.days(7))
    bucket = _bucket(lifecycle_rules=[rule])
    rules = template(cdk.Stack.of(bucket)).find_resources("AWS::S3::Bucket")
    (properties,) = [r["Properties"] for r in rules.values()]
    ids = [r["Id"] for r in properties["LifecycleConfiguration"]["Rules"]]
    assert ids == ["housekeeping", "expire"]


def test_bucket_policy_refuses_plain_http() -> None:
    bucket = _bucket()
    template(cdk.Stack.of(bucket)).has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_bucket()) == snapshot_json

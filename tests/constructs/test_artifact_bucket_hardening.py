"""ArtifactBucketHardening on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import ArtifactBucketHardening
from tests.constructs.helpers import bare_stack, construct_template, key, template


def _hardened() -> ArtifactBucketHardening:
    stack = bare_stack()
    bucket = s3.Bucket(stack, "Store", encryption_key=key(stack))
    return ArtifactBucketHardening(
        stack, "Subject", bucket=bucket, access_logs_bucket_name="test-delivery-access-logs"
    )


def test_bucket_gets_versioning_logging_and_housekeeping() -> None:
    hardening = _hardened()
    template(cdk.Stack.of(hardening)).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "artifacts/"}),
            "LifecycleConfiguration": {"Rules": [Match.object_like({"Id": "housekeeping"})]},
        },
    )


def test_the_artifact_key_is_kept() -> None:
    hardening = _hardened()
    template(cdk.Stack.of(hardening)).has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_an_imported_bucket_is_refused() -> None:
    stack = bare_stack()
    with pytest.raises(ValueError, match="needs a bucket built in its own stack"):
        ArtifactBucketHardening(
            stack,
            "Subject",
            bucket=s3.Bucket.from_bucket_name(stack, "Imported", "someone-elses"),
            access_logs_bucket_name="logs",
        )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_hardened()) == snapshot_json

"""A private S3 bucket encrypted with a customer-managed key, as every platform bucket is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

#: What every platform bucket has, whatever its encryption: TLS 1.2 and later only, no public
#: access, no ACLs (the bucket owner owns every object), versioning.
PRIVATE_BUCKET: Mapping[str, Any] = {
    "enforce_ssl": True,
    "minimum_tls_version": 1.2,
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    "versioned": True,
}


class SecureBucket(Construct):
    """An S3 bucket with SSE-KMS, TLS-only access, no public access, versioning and logging.

    Attributes
    ----------
    bucket:
        The bucket (logical id kept stable through the ``Default`` child id).

    Parameters
    ----------
    bucket_name:
        Physical name (the platform's: ``config.names.bucket(<kind>)``).
    encryption_key:
        Customer-managed key for SSE-KMS (S3 Bucket Keys on, to cut KMS requests).
    access_logs_bucket:
        Where S3 server access logs go, under ``<construct_id>/``.
    removal_policy:
        What happens to the bucket when it leaves its stack. ``DESTROY`` only succeeds on an
        empty bucket: no custom resource empties it behind your back.
    noncurrent_version_expiration:
        Old versions are deleted after this long (default 90 days).
    lifecycle_rules:
        Extra lifecycle rules (transitions, expirations); incomplete multipart uploads are
        always aborted after 7 days (default none extra).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        bucket_name: str,
        removal_policy: RemovalPolicy,
        noncurrent_version_expiration: Duration = Duration.days(90),
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Default",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            **PRIVATE_BUCKET,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=f"{construct_id}/",
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="housekeeping",
                    noncurrent_version_expiration=noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                *lifecycle_rules,
            ],
        )

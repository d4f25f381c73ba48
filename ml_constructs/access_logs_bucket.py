"""The bucket that receives the S3 server access logs of the platform's other buckets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs.compliance import acknowledge
from ml_constructs.secure_bucket import PRIVATE_BUCKET


class AccessLogsBucket(Construct):
    """A private, versioned bucket for S3 server access logs, expiring them after a while.

    S3 server access logging can only write to a bucket encrypted with S3-managed keys
    (SSE-S3), so this one bucket is not encrypted with the platform's KMS key.

    Attributes
    ----------
    bucket:
        The bucket (logical id kept stable through the ``Default`` child id).

    Parameters
    ----------
    bucket_name:
        Physical name (the platform's: ``config.names.bucket(BucketKind.ACCESS_LOGS)``).
    removal_policy:
        What happens to the bucket when it leaves its stack.
    expiration:
        Logs (and their old versions) are deleted after this long (default 365 days).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        removal_policy: RemovalPolicy,
        expiration: Duration = Duration.days(365),
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Default",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            **PRIVATE_BUCKET,
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=expiration,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "NIST.800.53.R5-S3BucketLoggingEnabled",
            "HIPAA.Security-S3BucketLoggingEnabled",
            "PCI.DSS.321-S3BucketLoggingEnabled",
            reason="This is the access-log bucket itself; logging it into itself would loop.",
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "PCI.DSS.321-S3DefaultEncryptionKMS",
            reason="S3 server access logging only delivers to SSE-S3 buckets, not SSE-KMS.",
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
            "PCI.DSS.321-S3BucketReplicationEnabled",
            reason="Access logs are kept in the region they describe; replicating them is an"
            " organisation-wide decision outside this platform.",
        )

"""Brings a bucket that a library created (CDK Pipelines' artifact stores) to the platform's bar."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs.access_logs_bucket import AccessLogsBucket
from ml_constructs.compliance import acknowledge


class ArtifactBucketHardening(Construct):
    """Versioning, server access logs, housekeeping and a retained key for an existing bucket.

    CDK Pipelines creates its artifact bucket (and one replication bucket per other region)
    itself: encrypted with a KMS key when ``cross_account_keys`` is on, TLS only, public
    access blocked, retained. This adds what the platform's own buckets also have:
    versioning, server access logs to an :class:`AccessLogsBucket` created beside it (in the
    bucket's stack), expiry of old versions and aborted uploads, and ``RETAIN`` on the KMS key
    (CDK deletes it with the stack by default, which would make retained artifacts unreadable).

    Create it in the bucket's own stack, after the bucket is complete.

    Attributes
    ----------
    access_logs:
        The bucket receiving the server access logs.

    Parameters
    ----------
    bucket:
        The bucket to harden; must be an ``s3.Bucket`` built in this stack (not imported).
    access_logs_bucket_name:
        Physical name of the access-log bucket.
    noncurrent_version_expiration:
        Old versions of artifacts are deleted after this long (default 30 days).
    access_logs_expiration:
        Access logs are deleted after this long (default 365 days).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        access_logs_bucket_name: str,
        noncurrent_version_expiration: Duration = Duration.days(30),
        access_logs_expiration: Duration = Duration.days(365),
    ) -> None:
        super().__init__(scope, construct_id)
        resource = bucket.node.default_child
        same_stack = Stack.of(bucket).node.path == Stack.of(self).node.path
        if not isinstance(resource, s3.CfnBucket) or not same_stack:
            raise ValueError(
                f"{bucket.node.path}: ArtifactBucketHardening needs a bucket built in its own"
                " stack (an s3.Bucket, not an imported one)"
            )
        self.access_logs = AccessLogsBucket(
            self,
            "AccessLogs",
            bucket_name=access_logs_bucket_name,
            removal_policy=RemovalPolicy.RETAIN,
            expiration=access_logs_expiration,
        ).bucket
        prefix = "artifacts/"
        _housekeeping(resource, noncurrent_version_expiration)
        resource.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=self.access_logs.bucket_name, log_file_prefix=prefix
        )
        # Set through the L1 resource, so CDK does not add the log delivery policy itself.
        self.access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3ServerAccessLogsDelivery",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.access_logs.arn_for_objects(f"{prefix}*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                },
            )
        )
        key = bucket.encryption_key
        if isinstance(key, kms.Alias):
            key = key.alias_target_key
        if key is not None:
            key.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(
            bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
            "PCI.DSS.321-S3BucketReplicationEnabled",
            reason="Pipeline artifacts are rebuilt from the repository on every run; the"
            " repository is the durable copy, so the artifact store is not replicated.",
        )


def _housekeeping(resource: s3.CfnBucket, noncurrent_version_expiration: Duration) -> None:
    """Versioning, expiry of old versions and of incomplete uploads (as ``SecureBucket``)."""
    resource.versioning_configuration = s3.CfnBucket.VersioningConfigurationProperty(
        status="Enabled"
    )
    resource.lifecycle_configuration = s3.CfnBucket.LifecycleConfigurationProperty(
        rules=[
            s3.CfnBucket.RuleProperty(
                id="housekeeping",
                status="Enabled",
                noncurrent_version_expiration=s3.CfnBucket.NoncurrentVersionExpirationProperty(
                    noncurrent_days=int(noncurrent_version_expiration.to_days())
                ),
                abort_incomplete_multipart_upload=s3.CfnBucket.AbortIncompleteMultipartUploadProperty(
                    days_after_initiation=7
                ),
            )
        ]
    )

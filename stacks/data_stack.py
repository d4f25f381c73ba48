"""Stateful data of an environment: KMS keys and S3 buckets."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs import AccessLogsBucket, PlatformKeys, SecureBucket, acknowledge
from platform_config import EnvironmentConfig
from platform_config.names import BucketKind
from stacks.removal import key_pending_window, removal_policy

#: The construct id of each data bucket (its logical id's stem; ``import_bucket`` ids end in
#: ``Bucket``): the access-logs bucket is ``AccessLogs``.
DATA_BUCKET_IDS = {
    BucketKind.DATASETS: "Datasets",
    BucketKind.ARTIFACTS: "ModelArtifacts",
    BucketKind.CAPTURE: "DataCapture",
    BucketKind.REPORTS: "MonitoringReports",
    BucketKind.CODE: "PipelineCode",
}


class DataStack(Stack):
    """Keys and buckets: everything that must survive a replacement of the other stacks.

    Attributes
    ----------
    keys:
        :class:`PlatformKeys` (``data``, ``logs``, ``workload``).
    access_logs, datasets, model_artifacts, data_capture, monitoring_reports, pipeline_code:
        The buckets (``s3.Bucket``), named ``mlp-<env>-<account>-<region>-<kind>``. Other
        stacks import them by name with :meth:`import_bucket`, so that their policies name
        concrete ARNs rather than cross-stack references.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = removal_policy(config)
        data = config.data
        names = config.names
        self._config = config
        self.keys = PlatformKeys(
            self,
            "Keys",
            names=names,
            removal_policy=removal,
            pending_window=key_pending_window(config),
        )
        self.access_logs = AccessLogsBucket(
            self,
            "AccessLogs",
            bucket_name=names.bucket(BucketKind.ACCESS_LOGS),
            removal_policy=removal,
            expiration=Duration.days(data.access_logs_expiration_days),
        ).bucket
        self.datasets = self._bucket(BucketKind.DATASETS)
        # New training data is announced on EventBridge (the retraining trigger listens);
        # set on the resource itself, where CDK's own switch would add a custom resource.
        datasets = self.datasets.node.default_child
        assert isinstance(datasets, s3.CfnBucket)
        datasets.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        self.model_artifacts = self._bucket(BucketKind.ARTIFACTS)
        self.data_capture = self._bucket(
            BucketKind.CAPTURE,
            self._tiering("tier-and-expire-capture", data.data_capture_expiration_days),
        )
        self.monitoring_reports = self._bucket(
            BucketKind.REPORTS,
            self._tiering("tier-and-expire-reports", data.monitoring_reports_expiration_days),
        )
        self.pipeline_code = self._bucket(BucketKind.CODE)
        self._grant_promotion_readers(config)

    def _bucket(self, kind: BucketKind, *rules: s3.LifecycleRule) -> s3.Bucket:
        """A data bucket: encrypted with the data key, versioned, logged, kept in-region."""
        config = self._config
        secure = SecureBucket(
            self,
            DATA_BUCKET_IDS[kind],
            bucket_name=config.names.bucket(kind),
            encryption_key=self.keys.data,
            access_logs_bucket=self.access_logs,
            removal_policy=removal_policy(config),
            noncurrent_version_expiration=Duration.days(
                config.data.noncurrent_version_expiration_days
            ),
            lifecycle_rules=rules,
        )
        acknowledge(
            secure.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
            "PCI.DSS.321-S3BucketReplicationEnabled",
            reason="Single-region platform: durability comes from S3 within the region and"
            " versioning; cross-region replication is a per-organisation decision.",
        )
        return secure.bucket

    def _tiering(self, rule_id: str, expiration_days: int) -> s3.LifecycleRule:
        """Move objects to infrequent access, then expire them."""
        return s3.LifecycleRule(
            id=rule_id,
            transitions=[
                s3.Transition(
                    storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                    transition_after=Duration.days(
                        self._config.data.infrequent_access_transition_days
                    ),
                )
            ],
            expiration=Duration.days(expiration_days),
        )

    def _grant_promotion_readers(self, config: EnvironmentConfig) -> None:
        """The later environments promote model packages registered here: they read the
        packages (registry policy) and the model artifacts they point to (bucket and key)."""
        readers = [iam.AccountPrincipal(a) for a in config.model_registry.reader_accounts]
        for reader in readers:
            self.model_artifacts.grant_read(reader)
        if readers:
            # Training writes its outputs (model.tar.gz, baselines, evaluation) with the
            # workload key, not the bucket's: the readers decrypt them, through S3 only.
            self.keys.workload.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="PromotionReadersDecryptTrainingOutputsThroughS3",
                    principals=readers,
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{config.region}.amazonaws.com"}
                    },
                )
            )

    def import_bucket(self, scope: Construct, kind: BucketKind) -> s3.IBucket:
        """The data bucket ``kind`` (e.g. ``BucketKind.DATASETS``) as seen from another stack.

        Imported by its deterministic name (``config.names.bucket(kind)``), with the data
        key, so that grants in ``scope``'s stack name a concrete ARN.
        """
        if kind not in DATA_BUCKET_IDS:
            allowed = ", ".join(kind.name for kind in DATA_BUCKET_IDS)
            raise ValueError(f"{kind!r} is not a data bucket (allowed: {allowed})")
        return s3.Bucket.from_bucket_attributes(
            scope,
            f"{DATA_BUCKET_IDS[kind]}Bucket",
            bucket_name=self._config.names.bucket(kind),
            encryption_key=self.keys.data,
        )

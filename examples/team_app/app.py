"""Another team's CDK app built from the platform's construct library.

The team keeps its own repository; the platform's is on its import path (installed, or
``PYTHONPATH=<platform repo>``). It imports constructs, not stacks or configuration, passes
its own props, and runs the same compliance packs::

    cd examples/team_app && PYTHONPATH=../.. cdk synth

Settings come from this folder's ``cdk.json`` context, read here in the app, never inside a
construct.
"""

from __future__ import annotations

from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from examples.custom_monitor import PreprocessedDataQualityMonitor
from ml_constructs import (
    AccessLogsBucket,
    ModelPackageGroup,
    MonitorJobSettings,
    PlatformKeys,
    SecureBucket,
    acknowledge,
    add_compliance_checks,
)
from platform_config.names import ResourceNames


class ClaimsOcrStack(cdk.Stack):
    """The claims team's model: its keys, data bucket, registry group and drift monitor."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        analyzer_image_uri: str,
        subnet_ids: list[str],
        security_group_ids: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        team = "claims"
        # The library's naming object for the team: aliases alias/ml-platform-claims/<kind>.
        names = ResourceNames(team, self.account, self.region)
        keys = PlatformKeys(self, "Keys", names=names, removal_policy=cdk.RemovalPolicy.RETAIN)
        logs = AccessLogsBucket(
            self,
            "AccessLogs",
            bucket_name=f"{team}-{self.account}-access-logs",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        data = SecureBucket(
            self,
            "Data",
            encryption_key=keys.data,
            access_logs_bucket=logs.bucket,
            bucket_name=f"{team}-{self.account}-data",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            data.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
            "PCI.DSS.321-S3BucketReplicationEnabled",
            reason="The team's data is kept in one region, versioned; replication is the "
            "organisation's decision, not this app's.",
        )
        self.registry = ModelPackageGroup(
            self,
            "Registry",
            group_name=f"{team}-ocr",
            description="Claims OCR models",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self, "MonitorRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
        )
        data.bucket.grant_read_write(role)
        keys.data.grant_encrypt_decrypt(role)
        keys.workload.grant_encrypt_decrypt(role)
        bucket_resource = cast(cdk.CfnElement, data.bucket.node.default_child)
        acknowledge(
            role,
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "AwsSolutions-IAM5[Action::s3:List*]",
            "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(bucket_resource)}.Arn>/*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "HIPAA.Security-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
            reason="The monitor reads captured requests and baselines and writes reports under any "
            "key of the team's own data bucket; the grant is scoped to that bucket and key.",
        )
        self.monitor = PreprocessedDataQualityMonitor(
            self,
            "DriftMonitor",
            record_preprocessor_uri=f"s3://{data.bucket.bucket_name}/monitoring/flatten.py",
            endpoint_name=endpoint_name,
            schedule_name=f"{endpoint_name}-data-quality",
            schedule_expression="cron(0 * ? * * *)",
            image_uri=analyzer_image_uri,
            baseline_uri=f"s3://{data.bucket.bucket_name}/monitoring/baseline",
            settings=MonitorJobSettings(
                role=role,
                subnet_ids=subnet_ids,
                security_group_ids=security_group_ids,
                key=keys.workload,
                reports_uri=f"s3://{data.bucket.bucket_name}/monitoring/reports",
            ),
        )


def main() -> cdk.App:
    app = cdk.App()
    context = app.node.try_get_context
    ClaimsOcrStack(
        app,
        "ClaimsOcr",
        env=cdk.Environment(account=context("account"), region=context("region")),
        endpoint_name=context("endpoint_name"),
        analyzer_image_uri=context("analyzer_image_uri"),
        subnet_ids=list(context("subnet_ids")),
        security_group_ids=list(context("security_group_ids")),
    )
    add_compliance_checks(app)
    app.synth()
    return app


if __name__ == "__main__":
    main()

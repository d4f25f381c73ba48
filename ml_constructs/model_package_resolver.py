"""The platform's deploy-time provider: release records and model package lookups."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ml_constructs.compliance import acknowledge_wildcards
from ml_constructs.platform_function import PlatformFunction


class ModelPackageResolver(Construct):
    """The :class:`PlatformFunction` behind ``Custom::ReleaseRecord`` and ``Custom::ModelPackage``.

    It may read (only) the environment's model packages, and create (never overwrite) the
    release records: ``ssm:PutParameter`` is conditioned on ``ssm:Overwrite`` being false.

    Attributes
    ----------
    function:
        The ``lambda.Function`` (service token of :class:`ReleaseRecord` and
        :class:`ModelPackageLookup`).
    platform_function:
        The :class:`PlatformFunction` around it (log group, dead-letter queue).

    Parameters
    ----------
    code_path:
        Folder of the deployment package built from ``lambda/model_package_resolver``.
    group_name_prefix:
        It may read the groups named ``<group_name_prefix>-*`` and their packages.
    records_path:
        SSM path of the release records it may create (``/<name prefix>/releases/``).
    vpc, subnets, security_group:
        Where it runs: it needs the SageMaker API endpoint and S3 (for CloudFormation's
        pre-signed response URL).
    key, logs_key, log_retention, removal_policy:
        As for :class:`PlatformFunction`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_path: str,
        group_name_prefix: str,
        records_path: str,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        key: kms.IKey,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.platform_function = PlatformFunction(
            self,
            "Function",
            code_path=code_path,
            handler="model_package_resolver.lambda_handler",
            description="Creates release records and looks up model packages (CloudFormation"
            " custom resources)",
            vpc=vpc,
            subnets=subnets,
            security_group=security_group,
            key=key,
            logs_key=logs_key,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.function = self.platform_function.function
        stack = Stack.of(self)

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

        read_registry = iam.PolicyStatement(
            actions=[
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup",
            ],
            resources=[
                arn("model-package-group", f"{group_name_prefix}-*"),
                arn("model-package", f"{group_name_prefix}-*/*"),
            ],
        )
        create_records = iam.PolicyStatement(
            actions=["ssm:PutParameter"],
            resources=[
                stack.format_arn(
                    service="ssm",
                    resource="parameter",
                    resource_name=f"{records_path.strip('/')}/*",
                )
            ],
            conditions={"StringEquals": {"ssm:Overwrite": "false"}},
        )
        self.function.add_to_role_policy(read_registry)
        self.function.add_to_role_policy(create_records)
        role = self.function.role
        assert role is not None
        acknowledge_wildcards(
            role,
            [read_registry],
            reason="Read-only, on this environment's package groups; package versions are"
            " numbered by SageMaker.",
        )
        acknowledge_wildcards(
            role,
            [create_records],
            reason="Creates the release records of this environment's models (one per model"
            " and slot) and may never overwrite one (ssm:Overwrite false).",
        )

"""The function behind ``Custom::ModelPackageVersion``: reads the registry at deploy time."""

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
    """A :class:`PlatformFunction` that may read (only) the environment's model packages.

    Attributes
    ----------
    function:
        The ``lambda.Function`` (service token of :class:`ModelPackageVersion`).
    platform_function:
        The :class:`PlatformFunction` around it (log group, dead-letter queue).

    Parameters
    ----------
    code_path:
        Folder of the deployment package built from ``lambda/model_package_resolver``.
    group_name_prefix:
        It may read the groups named ``<group_name_prefix>-*`` and their packages.
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
            description="Resolves the model package an endpoint serves (CloudFormation custom"
            " resource)",
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
        list_packages = iam.PolicyStatement(
            actions=["sagemaker:ListModelPackages"], resources=["*"]
        )
        self.function.add_to_role_policy(read_registry)
        self.function.add_to_role_policy(list_packages)
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
            [list_packages],
            reason="sagemaker:ListModelPackages does not support resource-level permissions.",
        )

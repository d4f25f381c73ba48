"""The platform's deploy-time provider: release records and model package lookups."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs.compliance import acknowledge_wildcards_each
from ml_constructs.platform_function import FunctionPlacement, PlatformFunction
from ml_constructs.sagemaker_arns import package_group_arns


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
    package_groups:
        Name pattern of the package groups it may read, with their packages
        (``config.names.model_package_group(EVERY_MODEL)``: ``ml-platform-<env>-*``).
    records_path:
        SSM path of the release records it may create (``/<name prefix>/releases/``).
    placement:
        :class:`FunctionPlacement`: it needs the SageMaker API endpoint and S3 (for
        CloudFormation's pre-signed response URL).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_path: str,
        package_groups: str,
        records_path: str,
        placement: FunctionPlacement,
    ) -> None:
        super().__init__(scope, construct_id)
        self.platform_function = PlatformFunction(
            self,
            "Function",
            code_path=code_path,
            handler="model_package_resolver.lambda_handler",
            description="Creates release records and looks up model packages (CloudFormation"
            " custom resources)",
            placement=placement,
        )
        self.function = self.platform_function.function
        self._grant(package_groups, records_path)

    def _grant(self, package_groups: str, records_path: str) -> None:
        """Read the groups' packages; create (never overwrite) the release records."""
        stack = Stack.of(self)
        read_registry = iam.PolicyStatement(
            actions=["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
            resources=package_group_arns(self, package_groups),
        )
        records = f"{records_path.strip('/')}/*"
        create_records = iam.PolicyStatement(
            actions=["ssm:PutParameter"],
            resources=[
                stack.format_arn(service="ssm", resource="parameter", resource_name=records)
            ],
            conditions={"StringEquals": {"ssm:Overwrite": "false"}},
        )
        self.function.add_to_role_policy(read_registry)
        self.function.add_to_role_policy(create_records)
        acknowledge_wildcards_each(
            self.platform_function.role,
            [
                (
                    [read_registry],
                    (
                        "Read-only, on this environment's package groups; package versions are"
                        " numbered by SageMaker."
                    ),
                ),
                (
                    [create_records],
                    (
                        "Creates the release records of this environment's models (one per model"
                        " and slot) and may never overwrite one (ssm:Overwrite false)."
                    ),
                ),
            ],
        )

"""A SageMaker managed MLflow tracking server."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.compliance import acknowledge, acknowledge_wildcards
from platform_config import MlflowConfig

#: Where the tracking server keeps run artifacts, under the artifacts bucket.
MLFLOW_ARTIFACT_PREFIX = "mlflow"


class MlflowTrackingServer(Construct):
    """An MLflow tracking server storing its artifacts in a platform bucket.

    Attributes
    ----------
    server:
        The ``AWS::SageMaker::MlflowTrackingServer`` (logical id stable via ``Default``).
    server_arn:
        Its ARN, also the ``MLFLOW_TRACKING_URI`` of clients using the ``sagemaker-mlflow``
        plugin.
    role:
        The role the server acts as: reads and writes its artifact prefix and, with automatic
        model registration, registers models in the SageMaker Model Registry.

    Parameters
    ----------
    server_name:
        Physical name.
    protected_group_prefix:
        Package groups named ``<prefix>-*`` (the platform's served models) that automatic
        registration may never create packages in or update (default none).
    artifact_bucket, artifact_prefix:
        Where run artifacts go (default prefix ``mlflow``).
    settings:
        Size, version, automatic registration and maintenance window.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        server_name: str,
        artifact_bucket: s3.IBucket,
        settings: MlflowConfig,
        artifact_prefix: str = MLFLOW_ARTIFACT_PREFIX,
        protected_group_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"MLflow tracking server {server_name}",
        )
        grants = [
            artifact_bucket.grant_read_write(self.role, f"{artifact_prefix}/*"),
            artifact_bucket.grant_read(self.role, f"{artifact_prefix}/*"),
        ]
        if artifact_bucket.encryption_key is not None:  # the same grant S3's makes, made visible
            grants.append(artifact_bucket.encryption_key.grant_encrypt_decrypt(self.role))
        acknowledge_wildcards(
            self.role,
            [statement for grant in grants for statement in grant.principal_statements],
            reason="CDK's grants on the tracking server's own artifact prefix and its key.",
        )
        if settings.automatic_model_registration:
            registration = iam.PolicyStatement(
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateModelPackageGroup",
                    "sagemaker:CreateModelPackage",
                    "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:UpdateModelPackage",
                ],
                resources=[
                    stack.format_arn(
                        service="sagemaker", resource="model-package-group", resource_name="*"
                    ),
                    stack.format_arn(
                        service="sagemaker", resource="model-package", resource_name="*/*"
                    ),
                ],
            )
            self.role.add_to_principal_policy(registration)
            if protected_group_prefix:
                # Served models' groups are the pipelines' and the release flow's only.
                self.role.add_to_principal_policy(
                    iam.PolicyStatement(
                        sid="NeverTheServedModelsGroups",
                        effect=iam.Effect.DENY,
                        actions=["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
                        resources=[
                            stack.format_arn(
                                service="sagemaker",
                                resource="model-package-group",
                                resource_name=f"{protected_group_prefix}-*",
                            ),
                            stack.format_arn(
                                service="sagemaker",
                                resource="model-package",
                                resource_name=f"{protected_group_prefix}-*/*",
                            ),
                        ],
                    )
                )
            acknowledge_wildcards(
                self.role,
                [registration],
                reason="Automatic registration creates a package group named after each MLflow"
                " registered model, which users name at run time.",
            )
        acknowledge(
            self.role,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "HIPAA.Security-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
            reason="CDK grants specific to the tracking server's own role; no other role would"
            " share a managed policy.",
        )
        self.server = sagemaker.CfnMlflowTrackingServer(
            self,
            "Default",
            tracking_server_name=server_name,
            artifact_store_uri=artifact_bucket.s3_url_for_object(artifact_prefix),
            role_arn=self.role.role_arn,
            tracking_server_size=settings.size,
            mlflow_version=settings.version,
            automatic_model_registration=settings.automatic_model_registration,
            weekly_maintenance_window_start=settings.weekly_maintenance_window_start,
        )
        # The server uses the role's permissions as soon as it is created.
        self.server.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.server_arn = self.server.attr_tracking_server_arn

    def grant_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` log runs, read them and open the MLflow UI of this server."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker-mlflow:*",
                "sagemaker:DescribeMlflowTrackingServer",
                "sagemaker:CreatePresignedMlflowTrackingServerUrl",
            ],
            resource_arns=[self.server_arn],
        )

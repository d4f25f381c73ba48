"""A SageMaker managed MLflow tracking server."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.mlflow_role import mlflow_role
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
        self.role = mlflow_role(
            self,
            owner="tracking server",
            description=f"MLflow tracking server {server_name}",
            artifact_bucket=artifact_bucket,
            artifact_prefix=artifact_prefix,
            automatic_model_registration=settings.automatic_model_registration,
            protected_group_prefix=protected_group_prefix,
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

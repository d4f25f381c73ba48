"""A SageMaker serverless MLflow app."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.mlflow_role import mlflow_role
from ml_constructs.mlflow_tracking_server import MLFLOW_ARTIFACT_PREFIX
from platform_config import MlflowConfig


class MlflowApp(Construct):
    """A serverless MLflow app (``AWS::SageMaker::MlflowApp``, ``CreateMlflowApp``) storing its
    artifacts in a platform bucket.

    The serverless counterpart of
    :class:`~ml_constructs.mlflow_tracking_server.MlflowTrackingServer`, with the same
    interface: no instance to size and none billed by the hour while idle. MLflow clients
    with the ``sagemaker-mlflow`` plugin use its ARN as ``MLFLOW_TRACKING_URI``, and a
    SageMaker pipeline's ``MlflowConfig`` accepts it (``mlflow-app/...``); unlike a tracking
    server's, the ARN holds an id SageMaker generates, so it is known only at deploy time.

    Attributes
    ----------
    app:
        The ``CfnMlflowApp`` (logical id stable via ``Default``).
    server_arn:
        Its ARN (the tracking URI), named as on the tracking server so that either serves.
    role:
        The role the app acts as: reads and writes its artifact prefix and, with automatic
        model registration, registers models in the SageMaker Model Registry.

    Parameters
    ----------
    app_name:
        Name of the app (not part of its ARN).
    protected_group_prefix:
        Package groups named ``<prefix>-*`` (the platform's served models) that automatic
        registration may never create packages in or update (default none).
    artifact_bucket, artifact_prefix:
        Where run artifacts go (default prefix ``mlflow``).
    settings:
        Automatic registration and maintenance window (``kind: app``; a size and version are
        a tracking server's only).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        app_name: str,
        artifact_bucket: s3.IBucket,
        settings: MlflowConfig,
        artifact_prefix: str = MLFLOW_ARTIFACT_PREFIX,
        protected_group_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if settings.kind != "app":
            raise ValueError(f"MlflowApp needs mlflow settings of kind app (got {settings.kind})")
        self.role = mlflow_role(
            self,
            owner="MLflow app",
            description=f"MLflow app {app_name}",
            artifact_bucket=artifact_bucket,
            artifact_prefix=artifact_prefix,
            automatic_model_registration=settings.automatic_model_registration,
            protected_group_prefix=protected_group_prefix,
        )
        self.app = sagemaker.CfnMlflowApp(
            self,
            "Default",
            name=app_name,
            artifact_store_uri=artifact_bucket.s3_url_for_object(artifact_prefix),
            role_arn=self.role.role_arn,
            model_registration_mode="AutoModelRegistrationEnabled"
            if settings.automatic_model_registration
            else "AutoModelRegistrationDisabled",
            weekly_maintenance_window_start=settings.weekly_maintenance_window_start,
        )
        # The app uses the role's permissions as soon as it is created.
        self.app.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.server_arn = self.app.attr_arn

    def grant_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` log runs, read them and open the MLflow UI of this app."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker-mlflow:*",
                "sagemaker:DescribeMlflowApp",
                "sagemaker:CreatePresignedMlflowAppUrl",
            ],
            resource_arns=[self.server_arn],
        )

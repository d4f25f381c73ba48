"""A SageMaker serverless MLflow app."""

from __future__ import annotations

from typing import ClassVar

from aws_cdk import aws_sagemaker as sagemaker

from ml_constructs.managed_mlflow import ManagedMlflow
from platform_config import MlflowConfig


class MlflowApp(ManagedMlflow):
    """A serverless MLflow app (``AWS::SageMaker::MlflowApp``, ``CreateMlflowApp``) storing its
    artifacts in a platform bucket.

    The serverless counterpart of
    :class:`~ml_constructs.mlflow_tracking_server.MlflowTrackingServer`, with the same
    interface: no instance to size and none billed by the hour while idle. MLflow clients
    with the ``sagemaker-mlflow`` plugin use its ARN as ``MLFLOW_TRACKING_URI``, and a
    SageMaker pipeline's ``MlflowConfig`` accepts it (``mlflow-app/...``); unlike a tracking
    server's, the ARN holds an id SageMaker generates, so it is known only at deploy time.

    Parameters and attributes are those of :class:`~ml_constructs.managed_mlflow.ManagedMlflow`
    (``name``: the app's, not part of its ARN; ``settings`` of kind ``app``: a size and
    version are a tracking server's only), and:

    Attributes
    ----------
    app:
        The ``CfnMlflowApp`` (logical id stable via ``Default``).
    """

    KIND: ClassVar[str] = "app"
    OWNER: ClassVar[str] = "MLflow app"
    ACCESS_ACTIONS: ClassVar[tuple[str, ...]] = (
        "sagemaker:DescribeMlflowApp",
        "sagemaker:CreatePresignedMlflowAppUrl",
    )

    def _check(self, settings: MlflowConfig) -> None:
        if settings.kind != "app":
            raise ValueError(f"MlflowApp needs mlflow settings of kind app (got {settings.kind})")

    def _resource(
        self, name: str, artifact_store_uri: str, settings: MlflowConfig
    ) -> sagemaker.CfnMlflowApp:
        self.app = sagemaker.CfnMlflowApp(
            self,
            "Default",
            name=name,
            artifact_store_uri=artifact_store_uri,
            role_arn=self.role.role_arn,
            model_registration_mode="AutoModelRegistrationEnabled"
            if settings.automatic_model_registration
            else "AutoModelRegistrationDisabled",
            weekly_maintenance_window_start=settings.weekly_maintenance_window_start,
        )
        return self.app

    def _arn(self) -> str:
        return self.app.attr_arn

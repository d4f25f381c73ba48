"""A SageMaker managed MLflow tracking server."""

from __future__ import annotations

from typing import ClassVar

from aws_cdk import aws_sagemaker as sagemaker

from ml_constructs.managed_mlflow import ManagedMlflow
from platform_config import MlflowConfig


class MlflowTrackingServer(ManagedMlflow):
    """An MLflow tracking server (``AWS::SageMaker::MlflowTrackingServer``) of the size and
    version of ``settings``, storing its artifacts in a platform bucket.

    Parameters and attributes are those of :class:`~ml_constructs.managed_mlflow.ManagedMlflow`
    (``name``: the server's physical name), and:

    Attributes
    ----------
    server:
        The ``CfnMlflowTrackingServer`` (logical id stable via ``Default``).
    """

    KIND: ClassVar[str] = "tracking server"
    OWNER: ClassVar[str] = "tracking server"
    ACCESS_ACTIONS: ClassVar[tuple[str, ...]] = (
        "sagemaker:DescribeMlflowTrackingServer",
        "sagemaker:CreatePresignedMlflowTrackingServerUrl",
    )

    def _resource(
        self, name: str, artifact_store_uri: str, settings: MlflowConfig
    ) -> sagemaker.CfnMlflowTrackingServer:
        self.server = sagemaker.CfnMlflowTrackingServer(
            self,
            "Default",
            tracking_server_name=name,
            artifact_store_uri=artifact_store_uri,
            role_arn=self.role.role_arn,
            tracking_server_size=settings.size,
            mlflow_version=settings.version,
            automatic_model_registration=settings.automatic_model_registration,
            weekly_maintenance_window_start=settings.weekly_maintenance_window_start,
        )
        return self.server

    def _arn(self) -> str:
        return self.server.attr_tracking_server_arn

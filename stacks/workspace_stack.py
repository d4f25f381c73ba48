"""The shared ML workspace: SageMaker domain, Studio and MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ml_constructs import (
    MlflowTrackingServer,
    SageMakerExecutionRole,
    StudioDomain,
    acknowledge_wildcards,
)
from ml_constructs.managed_mlflow import MLFLOW_ARTIFACT_PREFIX
from ml_constructs.mlflow_app import MlflowApp
from platform_config import EnvironmentConfig
from platform_config.names import EVERY_MODEL, BucketKind
from stacks.data_stack import DataStack
from stacks.mlflow_resource import mlflow_arn_parameter_name, mlflow_resource_name
from stacks.network_stack import NetworkStack
from stacks.registry_stack import RegistryStack
from stacks.removal import removal_policy

#: The script Studio runs when a JupyterLab or Code Editor app starts.
LIFECYCLE_SCRIPT = Path(__file__).resolve().parent.parent / "studio" / "lifecycle" / "on_start.sh"


class WorkspaceStack(Stack):
    """The domain with its users and spaces, the execution role and the MLflow server.

    Attributes
    ----------
    execution_role:
        :class:`SageMakerExecutionRole` of users, spaces and the platform's jobs.
    mlflow:
        :class:`MlflowTrackingServer` or :class:`~ml_constructs.mlflow_app.MlflowApp`
        (``mlflow.kind``), or ``None`` when ``mlflow.enabled`` is off. Its ARN is also in
        the SSM parameter ``stacks.mlflow_resource.mlflow_arn_parameter_name``.
    studio:
        :class:`StudioDomain`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        registry: RegistryStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = config.names
        self.execution_role = SageMakerExecutionRole(
            self,
            "ExecutionRole",
            description=f"{names.prefix}: SageMaker Studio users",
            pipelines=[names.pipeline(EVERY_MODEL)],
            package_groups=[names.model_package_group(EVERY_MODEL)],
            volume_key=data.keys.workload,
        )
        role = self.execution_role.role
        datasets = data.import_bucket(self, BucketKind.DATASETS)
        artifacts = data.import_bucket(self, BucketKind.ARTIFACTS)
        # Studio users read what pipelines and monitors produce; they write datasets and
        # their MLflow runs' artifacts, never model artifacts or released baselines.
        grants = [
            datasets.grant_read_write(role),
            artifacts.grant_read(role),
            artifacts.grant_read_write(role, f"{MLFLOW_ARTIFACT_PREFIX}/*"),
            data.import_bucket(self, BucketKind.CODE).grant_read(role),
            data.import_bucket(self, BucketKind.CAPTURE).grant_read(role),
            data.import_bucket(self, BucketKind.REPORTS).grant_read(role),
        ]
        if registry.feature_store.feature_groups:
            grants.append(registry.feature_store.grant_read_write_records(role))
        acknowledge_wildcards(
            role,
            [statement for grant in grants for statement in grant.principal_statements],
            reason="CDK's bucket grants: reading the platform's own buckets, writing the"
            " datasets bucket and MLflow's artifact prefix, which users work with.",
        )
        self.mlflow = self._mlflow(config, artifacts) if config.mlflow.enabled else None
        self.studio = self._studio(config, data, network, datasets)
        self.execution_role.grant_studio_apps(self.studio.domain_id)

    def _mlflow(
        self, config: EnvironmentConfig, artifacts: s3.IBucket
    ) -> MlflowTrackingServer | MlflowApp:
        """The MLflow of ``mlflow.kind``, its ARN parameter, and the users' access to it."""
        names, role = config.names, self.execution_role.role
        common: dict[str, Any] = {
            "name": mlflow_resource_name(config),
            "artifact_bucket": artifacts,
            "settings": config.mlflow,
            "protected_group_prefix": names.prefix,
        }
        mlflow: MlflowTrackingServer | MlflowApp
        if config.mlflow.kind == "app":
            mlflow = MlflowApp(self, "Mlflow", **common)
        else:
            mlflow = MlflowTrackingServer(self, "Mlflow", **common)
        kind = config.mlflow.kind.replace("_", " ")
        ssm.StringParameter(
            self,
            "MlflowArn",
            parameter_name=mlflow_arn_parameter_name(config),
            description=f"{names.prefix}: ARN of the MLflow {kind} (tracking URI)",
            string_value=mlflow.server_arn,
        )
        acknowledge_wildcards(
            role,
            mlflow.grant_access(role).principal_statements,
            reason="Every MLflow API action (sagemaker-mlflow:*) on this one"
            f" {'MLflow app' if config.mlflow.kind == 'app' else 'tracking server'}:"
            " users log, read and manage their own experiments and runs.",
        )
        return mlflow

    def _studio(
        self,
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        datasets: s3.IBucket,
    ) -> StudioDomain:
        """The domain, its users and spaces, their lifecycle script's settings."""
        net = network.network
        return StudioDomain(
            self,
            "Studio",
            domain_name=config.names.domain(),
            settings=config.studio,
            vpc=net.vpc,
            subnets=net.subnets.subnets,
            security_group=net.workload_security_group,
            key=data.keys.workload,
            execution_role=self.execution_role.role,
            lifecycle_script=LIFECYCLE_SCRIPT.read_text(encoding="utf-8"),
            lifecycle_variables={
                "DatasetsBucket": datasets.bucket_name,
                "SecurityGroupId": net.workload_security_group.security_group_id,
                "SubnetIds": ", ".join(subnet.subnet_id for subnet in net.subnets.subnets),
                "DataKeyArn": data.keys.data.key_arn,
                "WorkloadKeyArn": data.keys.workload.key_arn,
                "MlflowTrackingUri": self.mlflow.server_arn if self.mlflow else "",
            },
            removal_policy=removal_policy(config),
        )

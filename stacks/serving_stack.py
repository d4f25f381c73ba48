"""Inference: an endpoint (or a batch transform model) per served model of the catalogue."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs.alert_topic import AlertTopic
from ml_constructs.async_inference_notifications import AsyncInferenceNotifications
from ml_constructs.batch_transform_model import BatchTransformModel
from ml_constructs.endpoint_alarms import EndpointAlarms
from ml_constructs.endpoint_autoscaling import EndpointAutoscaling
from ml_constructs.endpoint_dashboard import EndpointDashboard
from ml_constructs.endpoint_execution_role import EndpointExecutionRole
from ml_constructs.model_endpoint import AsyncOutput, ModelEndpoint
from ml_constructs.model_package_resolver import ModelPackageResolver
from platform_config import EnvironmentConfig, ModelSpec
from platform_config.serving_spec import EndpointKind, is_gpu_or_accelerator
from stacks.data_stack import DataStack
from stacks.lambda_packages import function_package
from stacks.network_stack import NetworkStack
from stacks.registry_stack import RegistryStack
from stacks.removal import key_pending_window, log_retention, removal_policy

#: Prefixes, under the data capture bucket, of captured requests and asynchronous traffic.
DATA_CAPTURE_PREFIX = "data-capture"
ASYNC_PREFIX = "async-inference"
#: Prefix, under the datasets bucket, of batch transform output.
BATCH_OUTPUT_PREFIX = "batch-transform"


def endpoint_name(config: EnvironmentConfig, model_name: str) -> str:
    """The endpoint of a served model: ``ml-platform-<env>-<model>`` (also its group's name)."""
    return f"{config.name_prefix}-{model_name}"


def batch_pipeline_name(config: EnvironmentConfig, model_name: str) -> str:
    """The batch inference pipeline of a batch-served model (see ``PipelinesStack``)."""
    return f"{config.name_prefix}-{model_name}-batch"


def transform_parameter_name(config: EnvironmentConfig, model_name: str) -> str:
    """SSM parameter holding a batch-served model's transform settings."""
    return f"/{config.name_prefix}/serving/{model_name}/transform"


class ServingStack(Stack):
    """Endpoints of the served models, their scaling, alarms, dashboards and notifications.

    Each served model gets, under a construct named after it (so that adding a model never
    changes another's logical ids): an :class:`EndpointExecutionRole`, and either a
    :class:`ModelEndpoint` with :class:`EndpointAlarms`, :class:`EndpointDashboard`,
    optional :class:`EndpointAutoscaling` and, for asynchronous endpoints,
    :class:`AsyncInferenceNotifications`; or, for ``kind: batch``, a
    :class:`BatchTransformModel`. Which package version is served is resolved at deploy time
    by one :class:`ModelPackageResolver`.

    Attributes
    ----------
    alerts:
        :class:`AlertTopic`: the environment's alert topic and messaging key.
    alert_topic:
        ``alerts.topic``.
    resolver:
        :class:`ModelPackageResolver`.
    endpoints:
        :class:`ModelEndpoint` by model name.
    batch_models:
        :class:`BatchTransformModel` by model name.
    roles:
        :class:`EndpointExecutionRole` by model name.
    capturing_endpoints:
        Endpoint name by model name, for the endpoints that capture data (real-time and
        asynchronous ones with ``data_capture.enabled``): what Model Monitor can watch.
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
        # The resolver reads the package groups: they must exist before it runs.
        self.add_stack_dependency(registry)
        removal = removal_policy(config)
        self.alerts = AlertTopic(
            self,
            "Alerts",
            topic_name=f"{config.name_prefix}-alerts",
            existing_topic_arn=config.alerts.topic_arn,
            email_addresses=config.alerts.email_addresses,
            removal_policy=removal,
            pending_window=key_pending_window(config),
        )
        self.alert_topic: sns.ITopic = self.alerts.topic
        net = network.network
        self.resolver = ModelPackageResolver(
            self,
            "PackageResolver",
            code_path=str(function_package("model_package_resolver")),
            group_name_prefix=config.name_prefix,
            vpc=net.vpc,
            subnets=net.subnets.subnets,
            security_group=net.workload_security_group,
            key=data.keys.workload,
            logs_key=data.keys.logs,
            log_retention=log_retention(config),
            removal_policy=removal,
        )
        self._config = config
        self._data = data
        self._network = network
        self._capture = data.import_bucket(self, "DataCapture")
        self._artifacts = data.import_bucket(self, "ModelArtifacts")
        self._datasets = data.import_bucket(self, "Datasets")
        self.endpoints: dict[str, ModelEndpoint] = {}
        self.batch_models: dict[str, BatchTransformModel] = {}
        self.roles: dict[str, EndpointExecutionRole] = {}
        self.capturing_endpoints: dict[str, str] = {}
        self.endpoint_alarms: dict[str, EndpointAlarms] = {}
        for model in config.models:
            if model.serving is not None:
                self._serve(Construct(self, model.name), model)

    def _serve(self, scope: Construct, model: ModelSpec) -> None:
        config, spec = self._config, model.serving
        assert spec is not None
        name = endpoint_name(config, model.name)
        net = self._network.network
        workload_key = self._data.keys.workload
        batch = spec.kind is EndpointKind.BATCH
        role = EndpointExecutionRole(
            scope,
            "Role",
            model_name=model.name,
            log_group_prefix="TransformJobs" if batch else f"Endpoints/{name}",
            volume_key=workload_key,
            model_artifacts=self._artifacts,
        )
        self.roles[model.name] = role
        common: dict[str, Any] = {
            "resolver": self.resolver.function,
            "group_name": name,
            "role": role.role,
            "image": spec.image_for(config.region),
            "subnets": net.subnets.subnets,
            "security_group": net.workload_security_group,
            "volume_key": workload_key,
        }
        if batch:
            output = f"{BATCH_OUTPUT_PREFIX}/{model.name}/"
            role.grant_read(
                self._datasets,
                f"{model.name}/",
                reason="Transform jobs read this model's input prefix.",
            )
            role.grant_write(
                self._datasets, output, reason="Transform jobs write this model's output prefix."
            )
            role.grant_write(
                self._datasets,
                f"{batch_pipeline_name(config, model.name)}/",
                reason="The batch inference pipeline's predictions, one prefix per execution.",
            )
            self.batch_models[model.name] = BatchTransformModel(
                scope,
                "Transform",
                spec=spec,
                parameter_name=transform_parameter_name(config, model.name),
                output_uri=f"s3://{self._datasets.bucket_name}/{output}",
                **common,
            )
            return

        variants = [variant.name for variant in spec.production_variants]
        alarms = EndpointAlarms(
            scope,
            "Alarms",
            endpoint_name=name,
            variant_names=variants,
            thresholds=spec.alarms,
            topic=self.alert_topic,
        )
        self.endpoint_alarms[model.name] = alarms
        capture_uri = None
        if spec.captures_data:
            capture_prefix = f"{DATA_CAPTURE_PREFIX}/{model.name}/"
            role.grant_write(
                self._capture,
                capture_prefix,
                reason="Data capture writes this endpoint's prefix, with generated object names.",
            )
            capture_uri = f"s3://{self._capture.bucket_name}/{capture_prefix.rstrip('/')}"
            self.capturing_endpoints[model.name] = name
        async_output = None
        if spec.kind is EndpointKind.ASYNC:
            notifications = AsyncInferenceNotifications(scope, "Notifications", key=self.alerts.key)
            base = f"{ASYNC_PREFIX}/{model.name}"
            role.grant_read(
                self._capture,
                f"{base}/input/",
                reason="Asynchronous requests, uploaded by clients.",
            )
            role.grant_write(
                self._capture, f"{base}/output/", reason="Asynchronous results, named by SageMaker."
            )
            role.grant_write(
                self._capture,
                f"{base}/failures/",
                reason="Asynchronous failures, named by SageMaker.",
            )
            role.grant_publish(
                [notifications.success_topic, notifications.error_topic], self.alerts.key
            )
            bucket = self._capture.bucket_name
            async_output = AsyncOutput(
                output_uri=f"s3://{bucket}/{base}/output",
                failure_uri=f"s3://{bucket}/{base}/failures",
                key=workload_key,
                success_topic=notifications.success_topic,
                error_topic=notifications.error_topic,
            )
        endpoint = ModelEndpoint(
            scope,
            "Endpoint",
            endpoint_name=name,
            spec=spec,
            data_capture_uri=capture_uri,
            async_output=async_output,
            rollback_alarms=alarms.alarms,
            **common,
        )
        self.endpoints[model.name] = endpoint
        if spec.autoscaling is not None:
            EndpointAutoscaling(
                scope,
                "Autoscaling",
                endpoint=endpoint.endpoint,
                endpoint_name=name,
                variant_names=variants,
                settings=spec.autoscaling,
                asynchronous=spec.kind is EndpointKind.ASYNC,
            )
        all_variants = spec.production_variants + spec.shadow
        instance_types = [spec.variant_instance_type(variant) for variant in all_variants]
        EndpointDashboard(
            scope,
            "Dashboard",
            endpoint_name=name,
            variant_names=variants + endpoint.shadow_variant_names,
            gpu=spec.kind is not EndpointKind.SERVERLESS
            and any(
                is_gpu_or_accelerator(t) and t.split(".")[1].startswith(("g", "p"))
                for t in instance_types
            ),
            asynchronous=spec.kind is EndpointKind.ASYNC,
            instance_metrics=spec.kind is not EndpointKind.SERVERLESS,
        )

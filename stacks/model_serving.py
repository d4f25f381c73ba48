"""How one model is served: its endpoint (or batch transform model) and what watches it."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ml_constructs.async_endpoint import AsyncEndpoint
from ml_constructs.async_inference_notifications import AsyncInferenceNotifications
from ml_constructs.batch_transform_model import BatchTransformModel
from ml_constructs.endpoint_alarms import EndpointAlarms
from ml_constructs.endpoint_autoscaling import EndpointAutoscaling
from ml_constructs.endpoint_dashboard import EndpointDashboard
from ml_constructs.endpoint_execution_role import EndpointExecutionRole
from ml_constructs.inference_component_endpoint import (
    ComputeRequirements,
    InferenceComponentEndpoint,
)
from ml_constructs.model_endpoint import AsyncOutput, ModelEndpoint, VariantPackage
from ml_constructs.real_time_endpoint import RealTimeEndpoint
from ml_constructs.released_versions import ReleasedVersions
from ml_constructs.serverless_endpoint import ServerlessEndpoint
from platform_config import EnvironmentConfig, ModelSpec
from platform_config.aws_facts import Accelerator, instance_accelerator
from platform_config.names import BucketKind
from platform_config.serving_defaults import instance_sizes, scales_to_zero
from platform_config.serving_spec import EndpointKind, ServingSpec
from platform_contracts.releases import package_arn
from stacks.shared_stacks import SharedStacks

#: Prefixes, under the data capture bucket, of captured requests and asynchronous traffic.
DATA_CAPTURE_PREFIX = "data-capture"
ASYNC_PREFIX = "async-inference"
#: Prefix, under the datasets bucket, of batch transform output.
BATCH_OUTPUT_PREFIX = "batch-transform"


def variant_packages(
    config: EnvironmentConfig, model: ModelSpec, released: ReleasedVersions, partition: str
) -> dict[str, VariantPackage]:
    """Which package each variant serves (the rules of docs/releases.md, "Who serves what")."""
    spec = model.serving
    assert spec is not None
    group = config.names.model_package_group(model.name)
    candidate = released.candidate or released.champion
    packages: dict[str, VariantPackage] = {}
    following = 0
    for variant in spec.production_variants + spec.shadow:
        version = spec.variant_model_version(variant)
        if version != "latest":
            arn = package_arn(partition, config.region, config.account, group, int(version))
            packages[variant.name] = VariantPackage(f"V{version}", arn)
        elif variant in spec.shadow or following > 0:
            packages[variant.name] = VariantPackage(
                "Candidate", candidate, acknowledge_template_value=released.candidate is not None
            )
        else:
            packages[variant.name] = VariantPackage("Champion", released.champion)
            following += 1
    return packages


class ModelServing(Construct):
    """The serving of one catalogue model, created once its champion is released.

    An :class:`EndpointExecutionRole` and either a :class:`ModelEndpoint` with
    :class:`EndpointAlarms`, :class:`EndpointDashboard`, optional
    :class:`EndpointAutoscaling` and, for asynchronous endpoints,
    :class:`AsyncInferenceNotifications`; or, for a model that scales to zero
    (``platform_config.serving_defaults.scales_to_zero``), an
    :class:`InferenceComponentEndpoint` (which scales itself) with the same alarms and
    dashboard; or, for ``kind: batch``, a :class:`BatchTransformModel`. Unless every variant is pinned to a version, every
    resource here carries the ``Released`` condition of ``released``.

    Attributes
    ----------
    role:
        :class:`EndpointExecutionRole`.
    endpoint:
        :class:`ModelEndpoint` or :class:`InferenceComponentEndpoint`, or ``None`` for batch.
    batch_model:
        :class:`BatchTransformModel`, or ``None``.
    alarms:
        :class:`EndpointAlarms`, or ``None`` for batch.
    capture_uri:
        ``s3://`` prefix of captured data, or ``None`` when nothing is captured.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: ModelSpec,
        shared: SharedStacks,
        released: ReleasedVersions,
    ) -> None:
        super().__init__(scope, construct_id)
        config, data, automation = shared.config, shared.data, shared.automation
        spec = model.serving
        assert spec is not None
        self._config, self._model, self._spec = config, model, spec
        self._data, self._automation = data, automation
        self.name = config.names.endpoint(model.name)
        self.component_name = config.names.inference_component(model.name)
        self._capture = data.import_bucket(self, BucketKind.CAPTURE)
        self._datasets = data.import_bucket(self, BucketKind.DATASETS)
        batch = spec.kind is EndpointKind.BATCH
        self.role = EndpointExecutionRole(
            self,
            "Role",
            model_name=model.name,
            log_group_prefix="TransformJobs" if batch else f"Endpoints/{self.name}",
            volume_key=data.keys.workload,
            model_artifacts=data.import_bucket(self, BucketKind.ARTIFACTS),
        )
        net = shared.network.network
        packages = variant_packages(config, model, released, Stack.of(self).partition)
        self._common: dict[str, Any] = {
            "role": self.role.role,
            "image": spec.image_for(config.region),
            "provider": automation.provider.function,
            "subnets": net.subnets.subnets,
            "security_group": net.workload_security_group,
            "volume_key": data.keys.workload,
        }
        self.endpoint: ModelEndpoint | InferenceComponentEndpoint | None = None
        self.batch_model: BatchTransformModel | None = None
        self.alarms: EndpointAlarms | None = None
        self.capture_uri: str | None = None
        if batch:
            self._batch(packages)
        else:
            self._endpoint(packages)
        if any(not package.key.startswith("V") for package in packages.values()):
            released.only_when_released(self)

    def _batch(self, packages: dict[str, VariantPackage]) -> None:
        config, model, role = self._config, self._model, self.role
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
            f"{config.names.batch_pipeline(model.name)}/",
            reason="The batch inference pipeline's predictions, one prefix per execution.",
        )
        self.batch_model = BatchTransformModel(
            self,
            "Transform",
            spec=self._spec,
            parameter_name=config.names.transform_parameter(model.name),
            output_uri=f"s3://{self._datasets.bucket_name}/{output}",
            package_arn=next(iter(packages.values())).package_arn,
            **self._common,
        )

    def _endpoint(self, packages: dict[str, VariantPackage]) -> None:
        spec, model = self._spec, self._model
        variants = [variant.name for variant in spec.production_variants]
        zero = scales_to_zero(spec, self._config.serving_defaults)
        self.alarms = EndpointAlarms(
            self,
            "Alarms",
            endpoint_name=self.name,
            variant_names=variants,
            thresholds=spec.alarms,
            topic=self._automation.alert_topic,
            inference_component_name=self.component_name if zero else None,
        )
        if zero:
            self.endpoint = self._scale_to_zero(packages)
            self._dashboard(variants)
            return
        if spec.captures_data:
            capture_prefix = f"{DATA_CAPTURE_PREFIX}/{model.name}/"
            self.role.grant_write(
                self._capture,
                capture_prefix,
                reason="Data capture writes this endpoint's prefix, with generated object names.",
            )
            self.capture_uri = f"s3://{self._capture.bucket_name}/{capture_prefix.rstrip('/')}"
        props: dict[str, Any] = {
            "endpoint_name": self.name,
            "spec": spec,
            "variant_packages": packages,
            "data_capture_uri": self.capture_uri,
            "rollback_alarms": self.alarms.alarms,
            **self._common,
        }
        if spec.kind is EndpointKind.ASYNC:
            self.endpoint = AsyncEndpoint(
                self, "Endpoint", async_output=self._async_output(), **props
            )
        elif spec.kind is EndpointKind.SERVERLESS:
            self.endpoint = ServerlessEndpoint(self, "Endpoint", **props)
        else:
            self.endpoint = RealTimeEndpoint(self, "Endpoint", **props)
        if spec.autoscaling is not None:
            EndpointAutoscaling(
                self,
                "Autoscaling",
                endpoint=self.endpoint.endpoint,
                endpoint_name=self.name,
                variant_names=variants,
                settings=spec.autoscaling,
                asynchronous=spec.kind is EndpointKind.ASYNC,
            )
        self._dashboard(variants)

    def _dashboard(self, variants: list[str]) -> None:
        spec = self._spec
        assert self.endpoint is not None
        EndpointDashboard(
            self,
            "Dashboard",
            endpoint_name=self.name,
            variant_names=variants + self.endpoint.shadow_variant_names,
            gpu=_has_gpu(spec),
            asynchronous=spec.kind is EndpointKind.ASYNC,
            instance_metrics=spec.kind is not EndpointKind.SERVERLESS,
        )

    def _scale_to_zero(self, packages: dict[str, VariantPackage]) -> InferenceComponentEndpoint:
        """The model on an inference component of an endpoint that scales to zero instances."""
        spec = self._spec
        variant = spec.production_variants[0]
        assert self.alarms is not None
        return InferenceComponentEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.name,
            component_name=self.component_name,
            spec=spec,
            package=packages[variant.name],
            compute=ComputeRequirements.one_copy_per_instance(
                instance_sizes()[spec.variant_instance_type(variant)]
            ),
            rollback_alarms=self.alarms.alarms,
            **self._common,
        )

    def _async_output(self) -> AsyncOutput:
        """Where an asynchronous endpoint reads requests and writes results, and whom it tells."""
        alerts = self._automation.alerts
        notifications = AsyncInferenceNotifications(self, "Notifications", key=alerts.key)
        base = f"{ASYNC_PREFIX}/{self._model.name}"
        role = self.role
        role.grant_read(
            self._capture,
            f"{base}/input/",
            reason="Asynchronous requests of this endpoint, under keys its clients choose.",
        )
        role.grant_write(
            self._capture,
            f"{base}/output/",
            reason="Asynchronous results of this endpoint, under names SageMaker generates.",
        )
        role.grant_write(
            self._capture,
            f"{base}/failures/",
            reason="Asynchronous failures of this endpoint, under names SageMaker generates.",
        )
        role.grant_publish([notifications.success_topic, notifications.error_topic], alerts.key)
        bucket = self._capture.bucket_name
        return AsyncOutput(
            output_uri=f"s3://{bucket}/{base}/output",
            failure_uri=f"s3://{bucket}/{base}/failures",
            key=self._data.keys.workload,
            success_topic=notifications.success_topic,
            error_topic=notifications.error_topic,
        )


def _has_gpu(spec: ServingSpec) -> bool:
    """Whether any instance of the endpoint has an NVIDIA GPU (for the dashboard's widgets)."""
    if spec.kind is EndpointKind.SERVERLESS:
        return False
    types = [spec.variant_instance_type(v) for v in spec.production_variants + spec.shadow]
    return any(instance_accelerator(t) is Accelerator.GPU for t in types)

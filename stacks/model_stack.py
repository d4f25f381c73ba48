"""Everything of one model that can be replaced: pipelines, serving, monitoring, settings."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ml_constructs.bucket_deployment_handler import acknowledge_deployment_handler
from ml_constructs.released_versions import ReleasedVersions
from platform_config import EnvironmentConfig, ModelSpec
from platform_config.names import has_drift_alarm, release_slots
from platform_config.serving_spec import EndpointKind
from platform_contracts.model_settings import ModelSettings, ReleaseSettings, RetrainingSettings
from platform_contracts.retraining import training_data_prefix
from stacks.model_monitoring import (
    DRIFT_ALARM,
    ModelMonitoring,
    baselines_uri,
    monitoring_schedule_names,
)
from stacks.model_pipelines import ModelPipelines
from stacks.model_registry_stack import ModelRegistryStack, has_candidate_slot
from stacks.model_serving import ModelServing
from stacks.shared_stacks import SharedStacks


class ModelStack(Stack):
    """``<prefix>-model-<model>``: one model's pipelines, serving and monitoring.

    Built from the model's catalogue entry (``model``) in its environment (``shared``:
    :class:`SharedStacks`), after its ``registry`` stack.

    The release record (read as SSM parameter types, :class:`ReleasedVersions`) decides
    what is served: until the champion is released, the stack holds the training pipeline
    and the settings document only; serving and monitoring appear with the first release,
    without a change to the repository (``docs/releases.md``).

    Attributes
    ----------
    released:
        :class:`ReleasedVersions`.
    pipelines:
        :class:`ModelPipelines`.
    serving:
        :class:`ModelServing`, or ``None`` for a model that is not served.
    monitoring:
        :class:`ModelMonitoring`, or ``None``.
    settings:
        The ``ssm.StringParameter`` holding the model's :class:`ModelSettings` document.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: ModelSpec,
        shared: SharedStacks,
        registry: ModelRegistryStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = shared.config
        self.add_stack_dependency(registry, "the release record must exist before it is read")
        self.released = ReleasedVersions(
            self,
            "Release",
            names=config.names,
            model=model.name,
            candidate_slot=has_candidate_slot(model),
        )
        placement: dict[str, Any] = {"model": model, "shared": shared}
        self.pipelines = ModelPipelines(self, "Pipelines", **placement)
        self.serving: ModelServing | None = None
        self.monitoring: ModelMonitoring | None = None
        if model.serving is not None:
            self.serving = ModelServing(self, "Serving", released=self.released, **placement)
            if self.serving.batch_model is not None:
                self.pipelines.add_batch_pipeline(
                    self.serving,
                    model=model,
                    served_model_name=self.serving.batch_model.model.model_name,
                )
            if monitoring_schedule_names(config, model):
                self.monitoring = ModelMonitoring(
                    self,
                    "Monitoring",
                    endpoint_name=self.serving.name,
                    released=self.released,
                    **placement,
                )
                if self.serving.endpoint is not None:
                    # The monitors name the endpoint by its physical name: CloudFormation
                    # must create it first (SageMaker refuses a schedule on a missing one).
                    self.monitoring.node.add_dependency(self.serving.endpoint.endpoint)
        self.settings = ssm.StringParameter(
            self,
            "Settings",
            parameter_name=config.names.settings_parameter(model.name),
            description=f"Settings of {model.name} for the platform's functions (JSON)",
            string_value=model_settings(config, model).to_json(),
        )
        acknowledge_deployment_handler(self)


def model_settings(config: EnvironmentConfig, model: ModelSpec) -> ModelSettings:
    """The model's settings document (``platform_contracts.model_settings``)."""
    names = config.names
    retraining = model.retraining
    release = None
    serving = model.serving
    if serving is not None and serving.model_version == "latest":
        candidate = None
        if has_candidate_slot(model):
            candidate = "shadow" if serving.shadow else "challenger"
        pinned = sorted(
            {
                int(serving.variant_model_version(variant))
                for variant in serving.production_variants + serving.shadow
                if variant.model_version is not None
            }
        )
        release = ReleaseSettings(
            stack_name=names.model_stack(model.name),
            slots=tuple(slot.value for slot in release_slots(model)),
            candidate_variant=candidate,
            pinned_versions=tuple(pinned),
            baselines_uri=baselines_uri(config, model.name)
            if monitoring_schedule_names(config, model)
            else None,
        )
    batch = serving is not None and serving.kind is EndpointKind.BATCH
    return ModelSettings(
        model=model.name,
        pipeline_name=names.pipeline(model.name),
        model_package_group_name=names.model_package_group(model.name),
        retraining=RetrainingSettings(
            cooldown_seconds=retraining.cooldown_minutes * 60,
            on_drift=retraining.on_drift and not batch,
            drift_alarm_name=names.alarm(model.name, DRIFT_ALARM)
            if has_drift_alarm(model)
            else None,
            monitoring_schedule_names=tuple(monitoring_schedule_names(config, model)),
            dataset_prefix=training_data_prefix(model.name) if retraining.on_new_data else None,
        ),
        release=release,
    )

"""One model of the catalogue (``config/models.yaml``): how it is trained, served, monitored.

The checks here need the model alone; those that need the environment (its region, its
feature groups, its serving defaults) are ``EnvironmentConfig``'s
(:mod:`platform_config.schema`).
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictStr, ValidationInfo, model_validator

from platform_config.aws_facts import instance_accelerator
from platform_config.base import FieldError, Frozen
from platform_config.monitoring_spec import (
    MonitoringSpec,
    RetrainingSpec,
    check_monitors_have_baselines,
    monitors_off_without_baseline,
)
from platform_config.pipeline_spec import (
    AutoMlPipelineSpec,
    PipelineSpec,
    TrainingPipelineSpec,
    kind_baselines,
)
from platform_config.serving_spec import ServingSpec
from platform_config.value_types import ResourceName


class ModelSpec(Frozen):
    """One model of the catalogue (``config/models.yaml``), after environment overrides.

    Attributes
    ----------
    name:
        The model's name: lower-case letters, digits and '-', used in every resource name
        derived from it (model package group, pipeline, endpoint).
    description:
        Free text shown in the registry (default empty).
    pipeline:
        How it is trained: one model per ``kind`` (:class:`TrainingPipelineSpec`, the
        default; :class:`AutoMlPipelineSpec`, :class:`FineTuningPipelineSpec`, or
        :class:`RegisteredPipelineSpec` for a kind of ``pipeline_plugins``).
    serving:
        How it is served (:class:`ServingSpec`; default not served).
    monitoring:
        Model Monitor schedules of its endpoint (:class:`MonitoringSpec`).
    retraining:
        What starts its pipeline again (:class:`RetrainingSpec`).
    """

    name: ResourceName
    description: StrictStr = ""
    pipeline: PipelineSpec = TrainingPipelineSpec()
    serving: ServingSpec | None = None
    monitoring: MonitoringSpec = MonitoringSpec()
    retraining: RetrainingSpec = RetrainingSpec()

    @model_validator(mode="before")
    @classmethod
    def _monitors_off_without_baseline(cls, data: Any, info: ValidationInfo) -> Any:
        # A monitor the model's pipeline registers no baseline for is off unless named.
        pipeline = data.get("pipeline", {}) if isinstance(data, dict) else None
        return monitors_off_without_baseline(data, kind_baselines(pipeline, info.context))

    @model_validator(mode="after")
    def _package_image_fits_instances(self) -> ModelSpec:
        # Served without image_uri, the endpoint runs the image its pipeline registered.
        serving, runs_on = self.serving, self.pipeline.package_image_runs_on
        if serving is None or serving.image_uri is not None or not runs_on:
            return self
        for field, instance_type in serving.instance_types():
            needs = instance_accelerator(instance_type).value
            if needs != runs_on and not (needs == "cpu" and runs_on == "gpu"):
                raise FieldError(
                    f"serving.{field}",
                    instance_type,
                    f"needs a {needs.upper()} image, but pipeline kind {self.pipeline.kind}"
                    f" registers an image that runs on {runs_on.upper()} only (allowed: a"
                    f" {runs_on.upper()} instance type, or serving.image_uri for this one)",
                )
        return self

    @model_validator(mode="after")
    def _monitoring_has_data(self) -> ModelSpec:
        # The default monitoring applies wherever data is captured; monitoring written out
        # for an endpoint that captures nothing would silently watch nothing. (A model not
        # served, e.g. switched off for an environment's first deployment, keeps its
        # settings for when it is.)
        serving = self.serving
        written = "monitoring" in self.model_fields_set and self.monitoring.enabled
        if written and serving is not None and not serving.captures_data:
            raise FieldError(
                "monitoring",
                {},
                f"needs data capture, which this model's endpoint does not do (serving.kind"
                f" {serving.kind.value}: only real_time and async capture, with"
                " data_capture.enabled)",
            )
        self._check_monitored_data()
        check_monitors_have_baselines(self.monitoring, self.pipeline.kind, self.pipeline.baselines)
        return self

    def _check_monitored_data(self) -> None:
        """Monitors that would watch nothing: no request sampled, or a drift feature not in the data."""
        serving, monitoring = self.serving, self.monitoring
        if serving is None or not (serving.captures_data and monitoring.enabled):
            return
        if serving.data_capture.sampling_percent == 0:
            raise FieldError(
                "serving.data_capture.sampling_percent",
                0,
                "captures no request, so the monitors (on) would watch nothing: give 1 to 100,"
                " or set data_capture.enabled: false and turn the monitors off",
            )
        pipeline = self.pipeline
        if not isinstance(pipeline, TrainingPipelineSpec | AutoMlPipelineSpec):
            return
        for index, feature in enumerate(monitoring.drift_features):
            if feature == pipeline.target_column:
                raise FieldError(
                    f"monitoring.drift_features[{index}]",
                    feature,
                    "is the label (pipeline.target_column), which the data-quality baseline"
                    " leaves out: name an input feature",
                )

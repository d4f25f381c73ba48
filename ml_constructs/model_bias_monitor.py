"""Model Monitor: bias of the predictions (SageMaker Clarify)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from ml_constructs.model_monitor import ModelMonitor, time_offsets


class ModelBiasMonitor(ModelMonitor):
    """Measures bias metrics of live predictions against the baseline Clarify computed.

    Reads Clarify's ``analysis_config.json`` (which facets, which label) and the baseline
    ``analysis.json`` under ``baseline_uri`` (both registered with the model's package by
    the training pipeline's bias check, and published there when it is released), and
    labels under ``ground_truth_uri``.

    Parameters
    ----------
    ground_truth_uri:
        ``s3://`` prefix where the labels land.
    ground_truth_offsets:
        ``(StartTimeOffset, EndTimeOffset)`` for labels that arrive late, as for
        :class:`~ml_constructs.model_quality_monitor.ModelQualityMonitor`. Default ``None``.
    """

    RESOURCE_TYPE = "AWS::SageMaker::ModelBiasJobDefinition"
    KIND = "ModelBias"
    REPORT_FOLDER = "model-bias"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ground_truth_uri: str,
        ground_truth_offsets: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.ground_truth_uri = ground_truth_uri
        self.ground_truth_offsets = ground_truth_offsets
        super().__init__(scope, construct_id, **kwargs)

    def app_specification(self, image_uri: str, baseline_uri: str) -> dict[str, Any]:
        return {"ImageUri": image_uri, "ConfigUri": f"{baseline_uri}/analysis_config.json"}

    def endpoint_input(self) -> dict[str, Any]:
        return {
            "ProbabilityAttribute": "0",
            "ProbabilityThresholdAttribute": 0.5,
            **time_offsets(self.ground_truth_offsets),
        }

    def extra_job_input(self) -> dict[str, Any]:
        return {"GroundTruthS3Input": {"S3Uri": self.ground_truth_uri}}

    def baseline_config(self, baseline_uri: str) -> dict[str, Any]:
        return {"ConstraintsResource": {"S3Uri": f"{baseline_uri}/analysis.json"}}

"""Model Monitor: model quality (predictions compared with ground-truth labels)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from ml_constructs.model_monitor import ModelMonitor, time_offsets


class ModelQualityMonitor(ModelMonitor):
    """Merges captured predictions with labels that arrive later and checks the metrics.

    The endpoint answers CSV with the probability in column 0 (the platform's inference
    script); for regression, column 0 is the prediction. Publishes the metrics (``auc``,
    ``f1``, ``rmse``, ...) to CloudWatch (``aws/sagemaker/Endpoints/model-metrics``).

    Parameters
    ----------
    ground_truth_uri:
        ``s3://`` prefix where the labels land.
    problem_type:
        ``BinaryClassification``, ``MulticlassClassification`` or ``Regression``.
    probability_threshold:
        Above it a binary prediction counts as positive (default 0.5).
    ground_truth_offsets:
        ``(StartTimeOffset, EndTimeOffset)``, e.g. ``("-PT337H", "-PT336H")``: each run
        analyses the requests captured that long ago, whose labels are complete by now
        (``MonitoringSpec.ground_truth_offsets``). Default ``None``: the last period's.
    """

    RESOURCE_TYPE = "AWS::SageMaker::ModelQualityJobDefinition"
    KIND = "ModelQuality"
    REPORT_FOLDER = "model-quality"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ground_truth_uri: str,
        problem_type: str,
        probability_threshold: float = 0.5,
        ground_truth_offsets: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.ground_truth_uri = ground_truth_uri
        self.problem_type = problem_type
        self.probability_threshold = probability_threshold
        self.ground_truth_offsets = ground_truth_offsets
        super().__init__(scope, construct_id, **kwargs)

    # ModelMonitor.app_specification's signature (its documented hook); no baseline here.
    def app_specification(self, image_uri: str, baseline_uri: str) -> dict[str, Any]:  # noqa: ARG002
        return {"ImageUri": image_uri, "ProblemType": self.problem_type}

    def endpoint_input(self) -> dict[str, Any]:
        offsets = time_offsets(self.ground_truth_offsets)
        if self.problem_type == "BinaryClassification":
            return {
                "ProbabilityAttribute": "0",
                "ProbabilityThresholdAttribute": self.probability_threshold,
                **offsets,
            }
        return {"InferenceAttribute": "0", **offsets}

    def extra_job_input(self) -> dict[str, Any]:
        return {"GroundTruthS3Input": {"S3Uri": self.ground_truth_uri}}

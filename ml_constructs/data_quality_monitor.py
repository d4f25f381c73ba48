"""Model Monitor: data quality (drift of the inputs from the training baseline)."""

from __future__ import annotations

from typing import Any

from ml_constructs.model_monitor import ModelMonitor


class DataQualityMonitor(ModelMonitor):
    """Compares captured requests with the training data's statistics and constraints.

    Publishes per-feature drift metrics to CloudWatch (``aws/sagemaker/Endpoints/data-metrics``)
    and reads ``constraints.json`` and ``statistics.json`` under ``baseline_uri``.
    """

    RESOURCE_TYPE = "AWS::SageMaker::DataQualityJobDefinition"
    KIND = "DataQuality"
    REPORT_FOLDER = "data-quality"

    # ModelMonitor.app_specification's signature (its documented hook); no baseline here.
    def app_specification(self, image_uri: str, baseline_uri: str) -> dict[str, Any]:  # noqa: ARG002
        return {"ImageUri": image_uri, "Environment": {"publish_cloudwatch_metrics": "Enabled"}}

    def baseline_config(self, baseline_uri: str) -> dict[str, Any]:
        return {
            "ConstraintsResource": {"S3Uri": f"{baseline_uri}/constraints.json"},
            "StatisticsResource": {"S3Uri": f"{baseline_uri}/statistics.json"},
        }

"""Model Monitor: explainability (feature attributions drift, SageMaker Clarify)."""

from __future__ import annotations

from typing import Any

from ml_constructs.model_monitor import ModelMonitor


class ModelExplainabilityMonitor(ModelMonitor):
    """Computes SHAP attributions of live requests and compares them with the baseline.

    Reads Clarify's ``analysis_config.json`` and the baseline ``analysis.json`` under
    ``baseline_uri``.
    """

    RESOURCE_TYPE = "AWS::SageMaker::ModelExplainabilityJobDefinition"
    KIND = "ModelExplainability"
    REPORT_FOLDER = "model-explainability"

    def app_specification(self, image_uri: str, baseline_uri: str) -> dict[str, Any]:
        return {"ImageUri": image_uri, "ConfigUri": f"{baseline_uri}/analysis_config.json"}

    def baseline_config(self, baseline_uri: str) -> dict[str, Any]:
        return {"ConstraintsResource": {"S3Uri": f"{baseline_uri}/analysis.json"}}

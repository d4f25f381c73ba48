"""Model Monitor: explainability (feature attributions drift, SageMaker Clarify)."""

from __future__ import annotations

from typing import Any

from ml_constructs.model_monitor import ModelMonitor


class ModelExplainabilityMonitor(ModelMonitor):
    """Computes SHAP attributions of live requests and compares them with the baseline.

    Reads Clarify's ``analysis_config.json`` and the baseline ``analysis.json`` under
    ``baseline_uri`` (both registered with the model's package by the training pipeline's
    explainability check, and published there when it is released).

    Runs without network isolation, in the VPC: Clarify computes the attributions on a
    shadow endpoint of the monitored model that it creates, calls and deletes itself
    (SageMaker API and runtime, through the VPC's interface endpoints; the execution role's
    grants are limited to endpoints named ``clarify-shadow*``).
    """

    RESOURCE_TYPE = "AWS::SageMaker::ModelExplainabilityJobDefinition"
    KIND = "ModelExplainability"
    REPORT_FOLDER = "model-explainability"
    NETWORK_ISOLATION = False

    def app_specification(self, image_uri: str, baseline_uri: str) -> dict[str, Any]:
        return {"ImageUri": image_uri, "ConfigUri": f"{baseline_uri}/analysis_config.json"}

    def baseline_config(self, baseline_uri: str) -> dict[str, Any]:
        return {"ConstraintsResource": {"S3Uri": f"{baseline_uri}/analysis.json"}}

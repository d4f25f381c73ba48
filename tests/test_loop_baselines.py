"""Across stacks, from the synthesized templates of every environment: each monitor reads
baselines its model's pipeline registers, each served instance type is one the packages
list, each pipeline tracks to the environment's MLflow server.

The monitor side is read from the monitoring template (the files each job definition
reads), the pipeline side from the pipelines template (the registration step's
``DriftCheckBaselines``), and the link between them is the deployment function's own table
of which package field it copies to which monitor file (``BASELINE_FILES``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SynthesizedPlatform
from tests.test_pipelines_stack import all_steps, definition_of

REPO = Path(__file__).resolve().parent.parent
_MONITOR_TYPES = (
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
)


def deployment_function() -> ModuleType:
    """``lambda/model_deployment/model_deployment.py``, whose table maps fields to files."""
    directory = REPO / "lambda" / "model_deployment"
    sys.path.insert(0, str(directory))
    try:
        spec = importlib.util.spec_from_file_location(
            "loop_model_deployment", directory / "model_deployment.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(directory))


BASELINE_FILES: dict[tuple[str, str], tuple[str, str]] = deployment_function().BASELINE_FILES


def monitored_files(platform: SynthesizedPlatform) -> dict[str, set[tuple[str, str]]]:
    """Model name -> (monitor folder, file) every monitoring job definition reads."""
    template = platform.template_json(platform.platform.monitoring)
    prefix = re.escape(f"/baselines/{platform.config.name_prefix}-")
    files: dict[str, set[tuple[str, str]]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] not in _MONITOR_TYPES:
            continue
        text = json.dumps(resource["Properties"])
        for model, folder, name in re.findall(
            rf"{prefix}([a-z0-9-]+?)/([a-z-]+)/([a-z_.]+)\"", text
        ):
            files.setdefault(model, set()).add((folder, name))
    return files


def registered_baselines(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    register = all_steps(definition_of(platform, model))["RegisterModel"]
    return register["Arguments"].get("DriftCheckBaselines", {})  # type: ignore[no-any-return]


def test_every_monitor_reads_baselines_its_models_pipeline_registers(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    checked = 0
    for platform in platforms.values():
        for model, files in monitored_files(platform).items():
            baselines = registered_baselines(platform, model)
            for (section, field), target in BASELINE_FILES.items():
                if target in files:
                    source = (baselines.get(section) or {}).get(field) or {}
                    assert source.get("S3Uri"), (platform.config.name, model, target)
                    checked += 1
            read = {f for f in files if f in BASELINE_FILES.values()}
            assert read == files, (platform.config.name, model, files - read)
    assert checked > 0


def test_the_sample_churn_model_is_monitored_with_all_four_baselines(
    sandbox: SynthesizedPlatform,
) -> None:
    folders = {folder for folder, _ in monitored_files(sandbox)["churn-prediction"]}
    assert folders == {"data-quality", "model-quality", "model-bias", "model-explainability"}
    assert set(registered_baselines(sandbox, "churn-prediction")) == {
        "ModelDataQuality",
        "ModelQuality",
        "Bias",
        "Explainability",
    }


def served_instance_types(platform: SynthesizedPlatform, model: str) -> set[str]:
    stack = platform.platform.serving
    template = platform.template_json(stack)
    logical_id = stack.get_logical_id(stack.endpoints[model].endpoint_config)
    config = template["Resources"][logical_id]["Properties"]
    variants = config.get("ProductionVariants", []) + config.get("ShadowProductionVariants", [])
    return {v["InstanceType"] for v in variants if "InstanceType" in v}


def test_every_instance_type_a_model_is_served_on_is_listed_by_its_packages(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    """Issue 11, defect 6: packages listed ml.m5.large and ml.m5.xlarge whatever served them."""
    checked = 0
    for platform in platforms.values():
        for model in platform.platform.serving.endpoints:
            register = all_steps(definition_of(platform, model))["RegisterModel"]["Arguments"]
            listed = register["InferenceSpecification"].get(
                "SupportedRealtimeInferenceInstanceTypes"
            )
            served = served_instance_types(platform, model)
            if served:
                assert served <= set(listed or ()), (platform.config.name, model, served, listed)
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("model", ["churn-prediction", "lead-scoring", "support-assistant"])
def test_every_kind_of_pipeline_tracks_to_the_environments_mlflow_server(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    workspace = sandbox.template_json(sandbox.platform.workspace)
    (server,) = [
        r["Properties"]
        for r in workspace["Resources"].values()
        if r["Type"] == "AWS::SageMaker::MlflowTrackingServer"
    ]
    mlflow = definition_of(sandbox, model)["MlflowConfig"]
    assert mlflow["MlflowResourceArn"].endswith(
        f":mlflow-tracking-server/{server['TrackingServerName']}"
    )
    assert f":{sandbox.config.region}:{sandbox.config.account}:" in mlflow["MlflowResourceArn"]
    assert mlflow["MlflowExperimentName"] == f"{sandbox.config.name_prefix}-{model}"

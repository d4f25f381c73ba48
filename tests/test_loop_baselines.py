"""Across stacks, from the synthesized templates of every environment: each monitor reads
baselines its model's pipeline registers, each served instance type is one the packages
list, each pipeline tracks to the environment's MLflow server.

The monitor side is read from each model stack (the files each job definition reads), the
pipeline side from the same stack's pipeline definition (the registration step's
``DriftCheckBaselines``), and the link between them is the release automation's own table of
which package field it copies to which monitor file (``BASELINE_FILES``) when it releases a
version.
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

from tests.conftest import SynthesizedPlatform, model_template
from tests.test_model_pipelines import all_steps, definition_of

REPO = Path(__file__).resolve().parent.parent
_MONITOR_TYPES = (
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
)


def release_baselines() -> ModuleType:
    """``lambda/release_automation/baselines.py``, whose table maps fields to files."""
    directory = REPO / "lambda" / "release_automation"
    sys.path.insert(0, str(directory))
    try:
        spec = importlib.util.spec_from_file_location(
            "loop_release_baselines", directory / "baselines.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(directory))


BASELINE_FILES: dict[tuple[str, str], tuple[str, str]] = release_baselines().BASELINE_FILES
_FOLDERS = "|".join(sorted({folder for folder, _ in BASELINE_FILES.values()}))


def monitored_files(platform: SynthesizedPlatform) -> dict[str, set[tuple[str, str]]]:
    """Model name -> (monitor folder, file) every monitoring job definition of it reads
    (``<baselines>/<model>/<released version>/<folder>/<file>``)."""
    files: dict[str, set[tuple[str, str]]] = {}
    for model in platform.platform.models:
        template = model_template(platform, model)
        for resource in template["Resources"].values():
            if resource["Type"] not in _MONITOR_TYPES:
                continue
            text = json.dumps(resource["Properties"])
            assert f"/baselines/{model}/" in text, model
            for folder, name in re.findall(rf'"/({_FOLDERS})/([a-z_.]+)"', text):
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
    configs = [
        r["Properties"]
        for r in model_template(platform, model)["Resources"].values()
        if r["Type"] == "AWS::SageMaker::EndpointConfig"
    ]
    return {
        v["InstanceType"]
        for config in configs
        for v in config.get("ProductionVariants", []) + config.get("ShadowProductionVariants", [])
        if "InstanceType" in v
    }


def test_every_instance_type_a_model_is_served_on_is_listed_by_its_packages(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    """Issue 11, defect 6: packages listed ml.m5.large and ml.m5.xlarge whatever served them."""
    checked = 0
    for platform in platforms.values():
        for model in platform.platform.models:
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
def test_every_kind_of_pipeline_tracks_to_the_environments_mlflow(
    platforms: dict[str, SynthesizedPlatform], model: str
) -> None:
    for platform in platforms.values():
        workspace = platform.template_json(platform.platform.workspace)
        mlflow = definition_of(platform, model)["MlflowConfig"]
        assert mlflow["MlflowExperimentName"] == f"{platform.config.name_prefix}-{model}"
        servers = [
            r["Properties"]
            for r in workspace["Resources"].values()
            if r["Type"] == "AWS::SageMaker::MlflowTrackingServer"
        ]
        arn = mlflow["MlflowResourceArn"]
        if servers:
            (server,) = servers
            assert arn == (
                f"arn:aws:sagemaker:{platform.config.region}:{platform.config.account}:"
                f"mlflow-tracking-server/{server['TrackingServerName']}"
            )
            continue
        # An MLflow app's ARN holds an id SageMaker makes: the pipeline resolves it at deploy
        # time from the parameter the workspace stack writes.
        parameters = {
            r["Properties"]["Name"]
            for r in workspace["Resources"].values()
            if r["Type"] == "AWS::SSM::Parameter"
        }
        (name,) = re.fullmatch(r"\{\{resolve:ssm:(.+)\}\}", arn).groups()  # type: ignore[union-attr]
        assert name in parameters, platform.config.name

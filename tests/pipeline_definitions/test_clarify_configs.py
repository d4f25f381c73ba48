"""The Clarify analysis configurations ``preprocess.py`` writes at run time are the ones the
SDK would have written, given the headers and codes only the data reveals.

``preprocess.py`` runs on real data with a categorical facet; the SDK's own configuration
comes from the definition's check steps (``RuntimeConfigClarifyCheckStep.
sdk_analysis_config``) and the SDK's monitor-configuration classes, built with the headers
the run produced.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from pipeline_definitions import offline_sdk
from pipeline_definitions.clarify_checks import (
    SHADOW_ENDPOINT_PREFIX,
    ClarifyChecks,
    RuntimeConfigClarifyCheckStep,
)
from pipeline_definitions.pipeline_arguments import NetworkPlacement
from pipeline_definitions.training_pipeline import TrainingPipelineSettings, _Build, _Parameters
from platform_config.pipeline_spec import TrainingPipelineSpec

offline_sdk.import_sdk()
from sagemaker.core.clarify import BiasConfig, SHAPConfig  # noqa: E402
from sagemaker.core.model_monitor import (  # noqa: E402
    BiasAnalysisConfig,
    ExplainabilityAnalysisConfig,
)
from sagemaker.mlops.workflow import ModelStep, ProcessingStep  # noqa: E402

STEPS_DIR = Path(__file__).resolve().parents[2] / "pipeline_definitions" / "steps"
CHECKS = ClarifyChecks(
    bias_facet="contract_type", bias_facet_values=("month-to-month",), shap_samples=50
)


def load_preprocess() -> Any:
    spec = importlib.util.spec_from_file_location("clarify_preprocess", STEPS_DIR / "preprocess.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """preprocess.py run with the options the pipeline gives it."""
    root = tmp_path_factory.mktemp("clarify")
    frame = load_breast_cancer(as_frame=True).frame
    frame["contract_type"] = np.where(frame["mean texture"] > 19, "month-to-month", "one-year")
    (root / "raw").mkdir()
    frame.to_csv(root / "raw" / "data.csv", index=False)
    load_preprocess().main(
        [
            "--input-dir", str(root / "raw"),
            "--output-dir", str(root / "out"),
            *CHECKS.preprocess_arguments(),
        ]
    )  # fmt: skip
    return root / "out"


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema(written: Path) -> dict[str, Any]:
    return read(written / "schema" / "schema.json")


@pytest.fixture(scope="module")
def sdk_checks() -> dict[str, RuntimeConfigClarifyCheckStep]:
    """The definition's two Clarify steps, as the training builder makes them."""
    with offline_sdk.offline_pipeline_session(region="eu-west-1", default_bucket="b") as session:
        build = _Build(
            session=session,
            region="eu-west-1",
            role_arn="arn:aws:iam::111122223333:role/r",
            kms_key_arn="arn:aws:kms:eu-west-1:111122223333:key/k",
            spec=TrainingPipelineSpec(),
            settings=TrainingPipelineSettings(clarify=CHECKS),
            network=NetworkPlacement.of(subnet_ids=(), security_group_ids=()),
            output_root="s3://b/p",
            model_package_group_name="g",
        )
        params = _Parameters(build.spec, "s3://b/in/")
        preprocess = build.preprocess_step(params, "s3://b/preprocess.py", "s3://b/in/")
        assert isinstance(preprocess, ProcessingStep)
        train = build.train_step(params, preprocess)
        model = build.create_model_step(train)
        assert isinstance(model, ModelStep)
        return {
            "bias": build.bias_check_step(params, preprocess, model),
            "explainability": build.explainability_check_step(params, preprocess, model),
        }


def test_bias_job_config_is_the_sdks_with_headers_and_the_facets_code(
    written: Path, schema: dict[str, Any], sdk_checks: dict[str, Any]
) -> None:
    expected = dict(sdk_checks["bias"].sdk_analysis_config)
    code = schema["categories"]["contract_type"].index("month-to-month")
    expected["facet"] = [{"name_or_index": "contract_type", "value_or_threshold": [code]}]
    expected["headers"] = [schema["label"], *schema["features"]]
    assert read(written / "clarify-bias" / "analysis_config.json") == expected


def test_explainability_job_config_is_the_sdks_with_headers_and_the_medians_baseline(
    written: Path, schema: dict[str, Any], sdk_checks: dict[str, Any]
) -> None:
    expected = json.loads(json.dumps(sdk_checks["explainability"].sdk_analysis_config))
    baseline = pd.read_csv(written / "baseline" / "baseline.csv").median().tolist()
    expected["methods"]["shap"]["baseline"] = [baseline]
    expected["headers"] = [schema["label"], *schema["features"]]
    actual = read(written / "clarify-explainability" / "analysis_config.json")
    assert actual == expected
    assert actual["predictor"]["endpoint_name_prefix"] == SHADOW_ENDPOINT_PREFIX


def test_monitor_configs_are_the_sdks_monitor_analysis_configs(
    written: Path, schema: dict[str, Any]
) -> None:
    code = schema["categories"]["contract_type"].index("month-to-month")
    headers = [schema["label"], *schema["features"]]
    bias = BiasAnalysisConfig(
        BiasConfig(
            label_values_or_threshold=[1],
            facet_name="contract_type",
            facet_values_or_threshold=[code],
        ),
        headers=headers,
        label=schema["label"],
    )._to_dict()
    assert read(written / "clarify-monitors" / "bias_analysis_config.json") == bias
    baseline = [pd.read_csv(written / "baseline" / "baseline.csv").median().tolist()]
    explainability = ExplainabilityAnalysisConfig(
        SHAPConfig(baseline=baseline, num_samples=50, agg_method="mean_abs"),
        CHECKS.model_config("model-of-the-endpoint"),
        headers=list(schema["features"]),
    )._to_dict()
    explainability["predictor"].pop("model_name", None)  # the monitor takes the endpoint's
    assert (
        read(written / "clarify-monitors" / "explainability_analysis_config.json") == explainability
    )


def test_without_clarify_options_no_configuration_is_written(tmp_path: Path) -> None:
    frame = load_breast_cancer(as_frame=True).frame
    (tmp_path / "raw").mkdir()
    frame.to_csv(tmp_path / "raw" / "data.csv", index=False)
    load_preprocess().main(
        ["--input-dir", str(tmp_path / "raw"), "--output-dir", str(tmp_path / "out")]
    )
    assert not list((tmp_path / "out").glob("clarify-*"))
    assert ClarifyChecks().preprocess_arguments() == []


def test_a_facet_the_model_does_not_see_is_refused(written: Path, tmp_path: Path) -> None:
    frame = load_breast_cancer(as_frame=True).frame
    (tmp_path / "raw").mkdir()
    frame.to_csv(tmp_path / "raw" / "data.csv", index=False)
    with pytest.raises(ValueError, match=r"--clarify-facet 'region' is not a feature"):
        load_preprocess().main(
            [
                "--input-dir", str(tmp_path / "raw"),
                "--output-dir", str(tmp_path / "out"),
                "--clarify-facet", "region", "--clarify-facet-value", "eu",
            ]
        )  # fmt: skip

"""Drift-triggered retraining, run here: the step scripts on deliberately drifted data,
through the training pipeline's definition, with each trigger's parameters.

The definition is the one the stacks embed; the step scripts run for real; the check
steps' analyzer is a stand-in, their decisions SageMaker's (see ``local_pipeline.py``).
Issue 13, defect 2: drift retraining started with ``SkipDriftCheck=false`` failed on the
drift that triggered it, and ``RegisterNewBaseline=false`` kept the first baseline forever.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from pipeline_definitions.pipeline_arguments import ServingInstanceTypes
from pipeline_definitions.training_pipeline import TrainingPipelineSettings, build_training_pipeline
from platform_contracts.retraining import INPUT_DATA_URI, RULES, Trigger, rule_for
from tests.pipeline_definitions.local_pipeline import (
    CheckFailedError,
    DataQualityAnalyzer,
    LocalRun,
    feature_values,
)
from tests.pipeline_definitions.test_training_pipeline import build_arguments

STEPS_DIR = Path(__file__).resolve().parents[2] / "pipeline_definitions" / "steps"
DRIFTED_FEATURE = "mean radius"
TRAINING_PREFIX = "s3://ml-platform-dev-datasets/churn-prediction/training/"


def load_step(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"local_step_{name}", STEPS_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    """The training pipeline as a stack builds it (its monitors' Clarify checks aside)."""
    arguments = build_arguments(
        settings=TrainingPipelineSettings(num_round=40, max_depth=3),
        serving=ServingInstanceTypes(real_time=("ml.m5.large",)),
        mlflow_tracking_server_arn=None,
    )
    return json.loads(build_training_pipeline(**arguments))


def customers(drifted: bool) -> pd.DataFrame:
    """Real data with a categorical column; drifted: larger radii, more month-to-month."""
    frame = load_breast_cancer(as_frame=True).frame.copy()
    rng = np.random.default_rng(11)
    frame["contract_type"] = np.where(frame["mean texture"] > 19, "month-to-month", "one-year")
    if drifted:
        frame[DRIFTED_FEATURE] = frame[DRIFTED_FEATURE] * 1.6 + rng.normal(0, 0.5, len(frame))
        frame.loc[rng.random(len(frame)) < 0.4, "contract_type"] = "month-to-month"
    return frame


def write_batch(root: Path, frame: pd.DataFrame) -> Path:
    """A training prefix holding one batch (a sub-prefix), as new data lands."""
    batch = root / "training" / "batch-0001"
    batch.mkdir(parents=True)
    frame.to_csv(batch / "part-0.csv", index=False)
    return root / "training"


def run(
    definition: dict[str, Any],
    tmp: Path,
    trigger: Trigger,
    data: Path,
    approved: dict[str, Any] | None,
) -> dict[str, Any]:
    """One execution started as the trigger's row says; the registered package."""
    rule = rule_for(trigger, has_approved_version=approved is not None)
    parameters = {**rule.parameters(TRAINING_PREFIX), INPUT_DATA_URI: str(data)}
    local = LocalRun(definition, parameters, approved, tmp / "run", load_step)
    return local.run()


@pytest.fixture(scope="module")
def approved(definition: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The first version, trained on the original data and approved."""
    tmp = tmp_path_factory.mktemp("first")
    return run(definition, tmp, Trigger.SCHEDULE, write_batch(tmp, customers(False)), None)


@pytest.fixture(scope="module")
def drifted_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_batch(tmp_path_factory.mktemp("drifted"), customers(True))


def data_quality(package: dict[str, Any], section: str = "DriftCheckBaselines") -> Path:
    return Path(package[section]["ModelDataQuality"]["Statistics"]["S3Uri"])


def test_the_first_version_has_baselines_of_its_own_data(approved: dict[str, Any]) -> None:
    """No approved version yet: whatever the trigger, the run is a first run."""
    assert data_quality(approved) == data_quality(approved, "ModelMetrics")
    values = feature_values(data_quality(approved), DRIFTED_FEATURE)
    assert values.mean() == pytest.approx(customers(False)[DRIFTED_FEATURE].mean(), rel=0.05)


def test_the_stand_in_sees_the_drift_against_the_approved_baseline(
    definition: dict[str, Any], approved: dict[str, Any], drifted_data: Path, tmp_path: Path
) -> None:
    """Calibration: the drifted data does violate the approved baseline."""
    package = run(definition, tmp_path, Trigger.DRIFT_ALARM, drifted_data, approved)
    calculated = data_quality(package, "ModelMetrics").parent
    violations = DataQualityAnalyzer().violations(calculated, data_quality(approved).parent)
    assert any(DRIFTED_FEATURE in v for v in violations), violations


@pytest.mark.parametrize("trigger", [Trigger.SCHEDULE, Trigger.NEW_DATA])
def test_routine_runs_on_drifted_data_fail_on_the_data_quality_check(
    definition: dict[str, Any],
    approved: dict[str, Any],
    drifted_data: Path,
    tmp_path: Path,
    trigger: Trigger,
) -> None:
    assert not RULES[trigger].skip_drift_check
    with pytest.raises(CheckFailedError) as failed:
        run(definition, tmp_path, trigger, drifted_data, approved)
    assert failed.value.step == "DataQualityBaseline"
    assert any(DRIFTED_FEATURE in v for v in failed.value.violations)


@pytest.mark.parametrize("trigger", [Trigger.DRIFT_ALARM, Trigger.MONITORING_VIOLATION])
def test_drift_retraining_registers_a_new_baseline_instead_of_failing(
    definition: dict[str, Any],
    approved: dict[str, Any],
    drifted_data: Path,
    tmp_path: Path,
    trigger: Trigger,
) -> None:
    package = run(definition, tmp_path, trigger, drifted_data, approved)
    new = data_quality(package)
    assert new != data_quality(approved)
    assert new == data_quality(package, "ModelMetrics")  # this run's own baseline
    drifted = customers(True)[DRIFTED_FEATURE]
    assert feature_values(new, DRIFTED_FEATURE).mean() == pytest.approx(drifted.mean(), rel=0.05)
    # The monitors will compare live (drifted) traffic with the new baseline: no violation.
    assert DataQualityAnalyzer().violations(new.parent, new.parent) == []
    model_quality = package["DriftCheckBaselines"]["ModelQuality"]["Constraints"]["S3Uri"]
    assert Path(model_quality).is_relative_to(tmp_path)


def test_without_an_approved_version_a_routine_run_would_fail_so_it_runs_as_a_first_run(
    definition: dict[str, Any], drifted_data: Path, tmp_path: Path
) -> None:
    """Why the trigger asks whether the group has an approved version (``rule_for``)."""
    parameters = {
        **RULES[Trigger.SCHEDULE].parameters(TRAINING_PREFIX),
        INPUT_DATA_URI: str(drifted_data),
    }
    with pytest.raises(CheckFailedError, match="no approved model package"):
        LocalRun(definition, parameters, None, tmp_path / "fails", load_step).run()
    package = run(definition, tmp_path / "first", Trigger.SCHEDULE, drifted_data, None)
    assert data_quality(package) == data_quality(package, "ModelMetrics")


def test_defaults_are_the_schedule_row(definition: dict[str, Any]) -> None:
    """A run started without parameters (the EventBridge schedule) is a routine run."""
    local = LocalRun(definition, {}, None, Path("unused"), load_step)
    rule = RULES[Trigger.SCHEDULE]
    assert local.parameter("SkipDriftCheck") is rule.skip_drift_check
    assert local.parameter("RegisterNewBaseline") is rule.register_new_baseline

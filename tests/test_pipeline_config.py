"""The ``pipeline:`` section of a catalogue model: defaults, the committed catalogue, and
every kind of mistake as one line naming the file, the field, the value and what is allowed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from platform_config import ConfigError, load_environment
from platform_config.environment_spec import DEFAULT_INTERFACE_ENDPOINTS
from platform_config.foundation_models import foundation_models
from platform_config.loader import DEFAULT_CONFIG_DIR
from platform_config.pipeline_spec import (
    AutoMlMode,
    AutoMlPipelineSpec,
    Distribution,
    FineTuningPipelineSpec,
    PipelineKind,
    PipelineSpec,
    TrainingPipelineSpec,
)

REPO = Path(__file__).resolve().parent.parent
NEURON_MODEL = "meta-textgenerationneuron-llama-3-2-1b"
GPU_MODEL = "meta-textgeneration-llama-3-2-1b"


# --- defaults and the committed catalogue ----------------------------------------------


def test_default_is_the_tabular_training_pipeline_on_spot() -> None:
    spec = TypeAdapter(PipelineSpec).validate_python({})
    assert isinstance(spec, TrainingPipelineSpec)
    assert spec.kind == PipelineKind.TRAINING.value
    assert spec.target_column == "target"
    assert spec.training_instance_type == "ml.m5.xlarge"
    assert spec.use_spot is True
    assert (spec.max_run_seconds, spec.max_wait_seconds) == (3600, 7200)
    assert spec.quality_threshold == 0.75
    assert spec.distribution is Distribution.NONE
    assert spec.schedule is None


def test_max_wait_defaults_to_twice_the_run_at_most_28_days() -> None:
    assert TrainingPipelineSpec(max_run_seconds=600).max_wait_seconds == 1200
    longest = TrainingPipelineSpec(use_spot=False, max_run_seconds=20 * 24 * 3600)
    assert longest.max_wait_seconds == 28 * 24 * 3600


def test_each_kind_is_its_own_model_chosen_by_kind() -> None:
    adapter = TypeAdapter(PipelineSpec)
    automl = adapter.validate_python({"kind": "automl", "target_column": "converted"})
    assert isinstance(automl, AutoMlPipelineSpec)
    assert automl.automl_mode is AutoMlMode.ENSEMBLING
    tuning = adapter.validate_python(
        {"kind": "fine_tuning", "base_model": GPU_MODEL, "accept_eula": True}
    )
    assert isinstance(tuning, FineTuningPipelineSpec)


def test_fine_tuning_defaults_to_on_demand_on_the_base_models_first_fleet() -> None:
    spec = FineTuningPipelineSpec(base_model=GPU_MODEL, accept_eula=True)
    assert spec.use_spot is False
    assert spec.training_instance_type == foundation_models()[GPU_MODEL].instance_types[0]
    assert (spec.epochs, spec.batch_size) == (1, 4)


def test_committed_catalogue_exercises_every_kind_and_trainium() -> None:
    models = load_environment("sandbox").models
    kinds = {model.pipeline.kind for model in models}
    assert kinds == {kind.value for kind in PipelineKind}
    pipelines = [m.pipeline for m in models]
    tuned = [p for p in pipelines if isinstance(p, FineTuningPipelineSpec)]
    trainium = [p for p in tuned if p.training_instance_type.startswith("ml.trn1.")]
    assert trainium and trainium[0].distribution is Distribution.TORCHRUN
    trained = [p for p in pipelines if isinstance(p, TrainingPipelineSpec)]
    assert any(p.training_instance_count > 1 for p in trained)
    assert any(p.schedule for p in pipelines)
    automl = [p for p in pipelines if isinstance(p, AutoMlPipelineSpec)]
    assert automl and all(p.automl_mode is AutoMlMode.ENSEMBLING for p in automl)


def test_every_pinned_foundation_model_resolves_offline_in_every_target_region() -> None:
    regions = {load_environment(name).region for name in ("sandbox", "dev", "staging", "prod")}
    for model in foundation_models().values():
        for region in regions:
            assert model.training_image.uri(region).startswith("763104351884.dkr.ecr.")
            assert model.inference_image.uri(region).endswith(model.inference_image.tag)
            assert model.artifacts_uri(region).startswith("s3://jumpstart-")


def test_pipeline_spec_is_frozen() -> None:
    with pytest.raises(Exception, match="frozen"):
        TrainingPipelineSpec().kind = PipelineKind.AUTOML.value  # type: ignore[assignment]


# --- mistakes ---------------------------------------------------------------------------


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the committed configuration, for a test to break."""
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _add_model(config_dir: Path, pipeline: dict[str, Any]) -> int:
    """Append a model with this ``pipeline:`` to the catalogue; return its index."""
    path = config_dir / "models.yaml"
    data = yaml.safe_load(path.read_text())
    data["models"].append({"name": "probe", "description": "test", "pipeline": pipeline})
    path.write_text(yaml.safe_dump(data))
    return len(data["models"]) - 1


TUNING = {
    "kind": "fine_tuning",
    "base_model": NEURON_MODEL,
    "accept_eula": True,
    "distribution": "torchrun",
}

BAD_PIPELINES = [
    (
        {"kind": "deep_learning"},
        "pipeline.kind: 'deep_learning' is not allowed (allowed: automl, fine_tuning, training)",
    ),
    ({"knd": "training"}, "pipeline.knd: 'training' is not a known field"),
    (
        {"quality_threshold": 1.5},
        "pipeline.quality_threshold: 1.5 is not allowed (allowed: a metric value from 0 to 1",
    ),
    (
        {"quality_threshold": -0.1},
        "pipeline.quality_threshold: -0.1 is not allowed (allowed: a metric value from 0 to 1",
    ),
    (
        {"max_run_seconds": 3600, "max_wait_seconds": 3600},
        (
            "pipeline.max_wait_seconds: 3600 leaves no time to wait for spot capacity:"
            " max_wait_seconds (3600) must be greater than max_run_seconds (3600)"
        ),
    ),
    (
        {"max_run_seconds": 7200, "max_wait_seconds": 3600},
        "pipeline.max_wait_seconds: 3600 leaves no time to wait for spot capacity",
    ),
    (
        {"max_run_seconds": 2419200},
        "pipeline.max_run_seconds: 2419200 leaves no time to wait for spot capacity",
    ),
    (
        {"training_instance_type": "ml.trn1.32xlarge"},
        (
            "pipeline.training_instance_type: 'ml.trn1.32xlarge' is a Trainium/Inferentia type,"
            " which the XGBoost training container cannot use"
        ),
    ),
    (
        {"training_instance_type": "ml.t3.medium"},
        (
            "pipeline.training_instance_type: 'ml.t3.medium' is a burstable (ml.t*) type, not"
            " allowed for training jobs"
        ),
    ),
    (
        {"training_instance_type": "ml.x9.huge"},
        (
            "pipeline.training_instance_type: 'ml.x9.huge' is not an instance type SageMaker"
            " accepts for training jobs"
        ),
    ),
    (
        {"processing_instance_type": "ml.inf2.xlarge"},
        (
            "pipeline.processing_instance_type: 'ml.inf2.xlarge' is not an instance type SageMaker"
            " accepts for processing jobs"
        ),
    ),
    (
        {"training_instance_count": 0},
        (
            "pipeline.training_instance_count: 0 is invalid: input should be greater than or"
            " equal to 1"
        ),
    ),
    (
        {"distribution": "torchrun"},
        (
            "pipeline.distribution: 'torchrun' is not allowed for kind training (allowed: none,"
            " or sharded_by_s3_key"
        ),
    ),
    (
        {"distribution": "sharded_by_s3_key"},
        "pipeline.distribution: 'sharded_by_s3_key' needs training_instance_count of 2 or more",
    ),
    (
        {"distribution": "parameter_server"},
        (
            "pipeline.distribution: 'parameter_server' is not allowed (allowed: 'none',"
            " 'sharded_by_s3_key' or 'torchrun')"
        ),
    ),
    (
        {"automl_mode": "ENSEMBLING"},
        "pipeline.automl_mode: 'ENSEMBLING' is set but kind is training (it applies to: automl)",
    ),
    ({"epochs": 3}, "pipeline.epochs: 3 is set but kind is training (it applies to: fine_tuning)"),
    (
        {"kind": "automl"},
        "pipeline.target_column: None is required when kind is automl",
    ),
    (
        {"kind": "automl", "target_column": "converted", "automl_mode": "HYPERPARAMETER_TUNING"},
        (
            "pipeline.automl_mode: 'HYPERPARAMETER_TUNING' is not supported by SageMaker Pipelines'"
            " AutoML step (allowed: ENSEMBLING)"
        ),
    ),
    (
        {"kind": "automl", "target_column": "converted", "automl_mode": "AUTO"},
        "pipeline.automl_mode: 'AUTO' is not supported by SageMaker Pipelines' AutoML step",
    ),
    (
        {"kind": "automl", "target_column": "converted", "automl_mode": "FAST"},
        (
            "pipeline.automl_mode: 'FAST' is not allowed (allowed: 'ENSEMBLING',"
            " 'HYPERPARAMETER_TUNING' or 'AUTO')"
        ),
    ),
    (
        {"kind": "automl", "target_column": "converted", "training_instance_type": "ml.m5.xlarge"},
        (
            "pipeline.training_instance_type: 'ml.m5.xlarge' is set but kind is automl (it applies"
            " to: training, fine_tuning)"
        ),
    ),
    ({"kind": "automl", "target_column": "a,b"}, "pipeline.target_column: 'a,b' is not a column"),
    (
        {"kind": "fine_tuning"},
        f"pipeline.base_model: None is required when kind is fine_tuning (one of: {GPU_MODEL}",
    ),
    (
        {**TUNING, "base_model": "llama-9000"},
        (
            "pipeline.base_model: 'llama-9000' is not a pinned foundation model (allowed:"
            f" {GPU_MODEL}, {NEURON_MODEL}; see platform_config/foundation_models.json)"
        ),
    ),
    (
        {**TUNING, "accept_eula": False},
        (
            f"pipeline.accept_eula: False must be true: {NEURON_MODEL} is distributed under a"
            " licence that must be accepted"
        ),
    ),
    (
        {**TUNING, "training_instance_type": "ml.g5.2xlarge"},
        (
            f"pipeline.training_instance_type: 'ml.g5.2xlarge' is not supported by {NEURON_MODEL}"
            " (neuron; allowed: ml.trn1.2xlarge, ml.trn1.32xlarge, ml.trn1n.32xlarge)"
        ),
    ),
    (
        {**TUNING, "base_model": GPU_MODEL, "training_instance_type": "ml.m5.xlarge"},
        f"pipeline.training_instance_type: 'ml.m5.xlarge' is not supported by {GPU_MODEL} (gpu;",
    ),
    (
        {**TUNING, "distribution": "none"},
        "pipeline.distribution: 'none' must be torchrun on Trainium",
    ),
    (
        {**TUNING, "distribution": "sharded_by_s3_key"},
        (
            "pipeline.distribution: 'sharded_by_s3_key' is not allowed for kind fine_tuning"
            " (allowed: none or torchrun)"
        ),
    ),
    (
        {**TUNING, "quality_threshold": 0.5},
        (
            "pipeline.quality_threshold: 0.5 is set but kind is fine_tuning (it applies to:"
            " training, automl)"
        ),
    ),
    (
        {**TUNING, "epochs": 0},
        "pipeline.epochs: 0 is invalid: input should be greater than or equal to 1",
    ),
    (
        {"schedule": "every monday"},
        (
            "pipeline.schedule: 'every monday' is not an EventBridge schedule expression (allowed:"
            " rate(<n> minute[s]|hour[s]|day[s]) or cron("
        ),
    ),
    (
        {"schedule": "cron(0 3 * * * *)"},
        (
            "pipeline.schedule: 'cron(0 3 * * * *)' is not an EventBridge schedule expression"
            " (allowed: "
        ),
    ),
    ({"schedule": "cron(0 3 ? * MON)"}, "it has 5 fields, not 6"),
    ({"schedule": "cron(0 3 ? * ? *)"}, "exactly one of day-of-month and day-of-week must be '?'"),
    ({"schedule": "cron(0 25x ? * MON *)"}, "'25x' is not a valid hours field"),
    ({"schedule": "rate(1 days)"}, "with 1 write minute, hour or day"),
    ({"schedule": "rate(2 day)"}, "with 2 write minutes, hours or days"),
    ({"schedule": "rate(0 minutes)"}, "pipeline.schedule: 'rate(0 minutes)' is not an"),
    (
        {"training_source": {"feature_group": "customer-activity", "table": "x"}},
        "pipeline.training_source.table: 'x' is not a known field",
    ),
    (
        {"kind": "automl", "target_column": "c", "training_source": {"feature_group": "x1"}},
        "pipeline.training_source: {...} is set but kind is automl (it applies to: training)",
    ),
]


@pytest.mark.parametrize(("pipeline", "expected"), BAD_PIPELINES, ids=[e for _, e in BAD_PIPELINES])
def test_bad_pipeline_is_one_line_naming_file_field_value_and_allowed(
    config_dir: Path, pipeline: dict[str, Any], expected: str
) -> None:
    index = _add_model(config_dir, pipeline)
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{config_dir / 'models.yaml'}: models[{index}].pipeline"), message
    assert expected in message, message


def test_good_schedules_are_accepted(config_dir: Path) -> None:
    for schedule in (
        "rate(1 day)",
        "rate(12 hours)",
        "cron(0 3 ? * MON *)",
        "cron(15 2 1 * ? *)",
        "cron(0 */6 ? * MON-FRI *)",
    ):
        assert TrainingPipelineSpec(schedule=schedule).schedule == schedule


def test_an_override_is_reported_in_the_environment_file(config_dir: Path) -> None:
    path = config_dir / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["model_overrides"] = {"churn-prediction": {"pipeline": {"quality_threshold": 2}}}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    assert str(raised.value).startswith(
        f"{path}: model_overrides.churn-prediction.pipeline.quality_threshold: 2 is not allowed"
    ), raised.value


def test_app_exits_2_with_the_one_line_and_no_traceback(config_dir: Path) -> None:
    index = _add_model(config_dir, {"kind": "automl"})
    context = {"env": "dev", "config_dir": str(config_dir)}
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context)}
    env["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"models.yaml: models[{index}].pipeline.target_column: None is required when kind is"
        " automl" in result.stderr
    )


# --- a feature group as the training source ----------------------------------------------


def _with_athena(config_dir: Path) -> None:
    """Give dev's VPC the Athena endpoint a pipeline reading an offline store needs."""
    path = config_dir / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    endpoints = [endpoint.value for endpoint in DEFAULT_INTERFACE_ENDPOINTS]
    data["network"]["interface_endpoints"] = [*endpoints, "athena"]
    path.write_text(yaml.safe_dump(data))


def test_a_feature_group_of_the_catalogue_can_be_the_training_source(config_dir: Path) -> None:
    source = {"feature_group": "customer-activity", "features": ["contract_type", "tenure_months"]}
    index = _add_model(config_dir, {"target_column": "churned", "training_source": source})
    with pytest.raises(ConfigError, match=re.escape("add athena to network.interface_endpoints")):
        load_environment("dev", config_dir)
    _with_athena(config_dir)
    spec = load_environment("dev", config_dir).models[index].pipeline
    assert spec.training_source is not None
    assert spec.training_source.feature_group == "customer-activity"
    assert spec.training_source.features == ("contract_type", "tenure_months")


BAD_SOURCES = [
    (
        {"feature_group": "customer-activty"},
        (
            "pipeline.training_source.feature_group: 'customer-activty' is not a feature group of"
            " feature_groups.yaml (allowed: customer-activity, transaction-features)"
        ),
    ),
    (
        {"feature_group": "customer-activity", "features": ["customer_id"]},
        (
            "pipeline.training_source.features[0]: 'customer_id' is not a feature of"
            " customer-activity to train on (allowed: tenure_months, monthly_charges,"
            " support_calls_30d, contract_type)"
        ),
    ),
]


@pytest.mark.parametrize(("source", "expected"), BAD_SOURCES, ids=[e for _, e in BAD_SOURCES])
def test_a_training_source_the_catalogue_cannot_serve_is_one_line(
    config_dir: Path, source: dict[str, Any], expected: str
) -> None:
    """Checked across the two catalogues (EnvironmentConfig); which file the line names
    follows the loader's reading of ``models[<i>]`` in a cross-check's field."""
    index = _add_model(config_dir, {"training_source": source})
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    message = str(raised.value)
    assert "\n" not in message
    assert f": models[{index}].{expected}" in message, message


def test_a_group_without_an_offline_store_is_not_a_training_source(config_dir: Path) -> None:
    path = config_dir / "feature_groups.yaml"
    data = yaml.safe_load(path.read_text())
    data["feature_groups"][0]["offline_store"] = False
    path.write_text(yaml.safe_dump(data))
    index = _add_model(config_dir, {"training_source": {"feature_group": "customer-activity"}})
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    assert str(raised.value).endswith(
        f"models[{index}].pipeline.training_source.feature_group: 'customer-activity' has no"
        " offline store (offline_store: false) to read a training set from"
    ), raised.value
    assert "\n" not in str(raised.value)

"""Monitoring and retraining settings of a catalogue model: bad input is one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from platform_config import ConfigError, load_environment
from platform_config.loader import DEFAULT_CONFIG_DIR


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _first_model(config_dir: Path, section: str, settings: dict[str, object]) -> None:
    path = config_dir / "models.yaml"
    catalogue = yaml.safe_load(path.read_text())
    catalogue["models"][0][section] = settings
    path.write_text(yaml.safe_dump(catalogue))


BAD = [
    (
        "monitoring",
        {"model_quality": True},
        (
            "models.yaml: models[0].monitoring.ground_truth_uri: None is required when model_quality is"
            " on"
        ),
    ),
    (
        "monitoring",
        {"bias": True},
        "models[0].monitoring.ground_truth_uri: None is required when bias is on",
    ),
    (
        "monitoring",
        {"bias": True, "ground_truth_uri": "s3://labels-bucket/churn/"},
        (
            "models[0].monitoring.bias_facet: None is required when bias is on (the group bias is"
            " measured for)"
        ),
    ),
    (
        "monitoring",
        {
            "bias": True,
            "ground_truth_uri": "s3://labels-bucket/churn/",
            "bias_facet": {"name": "contract_type"},
        },
        (
            "models[0].monitoring.bias_facet.values: [] give exactly one of values (a list) and"
            " threshold"
        ),
    ),
    (
        "monitoring",
        {"ground_truth_delay_hours": 48},
        (
            "models[0].monitoring.ground_truth_delay_hours: 48 applies to model_quality and bias,"
            " which are both off"
        ),
    ),
    (
        "monitoring",
        {"shap_samples": 0},
        (
            "models[0].monitoring.shap_samples: 0 is invalid: input should be greater than or equal"
            " to 1"
        ),
    ),
    (
        "monitoring",
        {"schedule": "rate(1 hour)"},
        "models[0].monitoring.schedule: 'rate(1 hour)' must be a cron(...) expression",
    ),
    (
        "monitoring",
        {"schedule": "hourly"},
        "models[0].monitoring.schedule: 'hourly' is not a schedule Model Monitor accepts",
    ),
    (
        "monitoring",
        {"ground_truth_uri": "labels/"},
        "models[0].monitoring.ground_truth_uri: 'labels/' is invalid",
    ),
    (
        "monitoring",
        {"problem_type": "Ranking"},
        "models[0].monitoring.problem_type: 'Ranking' is invalid",
    ),
    (
        "retraining",
        {"cooldown_minutes": -5},
        (
            "models[0].retraining.cooldown_minutes: -5 is invalid: input should be greater than or"
            " equal to 0"
        ),
    ),
    (
        "retraining",
        {"on_drift": "sometimes"},
        "models[0].retraining.on_drift: 'sometimes' is invalid",
    ),
]


@pytest.mark.parametrize(("section", "settings", "expected"), BAD, ids=[b[2] for b in BAD])
def test_bad_monitoring_or_retraining_setting_is_one_line(
    config_dir: Path, section: str, settings: dict[str, object], expected: str
) -> None:
    _first_model(config_dir, section, settings)
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    assert "\n" not in str(raised.value)
    assert expected in str(raised.value), str(raised.value)


def test_model_quality_with_ground_truth_is_accepted(config_dir: Path) -> None:
    _first_model(
        config_dir,
        "monitoring",
        {"model_quality": True, "ground_truth_uri": "s3://labels-bucket/churn/"},
    )
    monitoring = load_environment("dev", config_dir).models[0].monitoring
    assert monitoring.model_quality and monitoring.enabled


def _model(config_dir: Path, name: str, section: str, settings: object) -> None:
    path = config_dir / "models.yaml"
    catalogue = yaml.safe_load(path.read_text())
    index = next(i for i, m in enumerate(catalogue["models"]) if m["name"] == name)
    catalogue["models"][index][section] = settings
    path.write_text(yaml.safe_dump(catalogue))


def test_monitoring_a_serverless_endpoint_is_refused(config_dir: Path) -> None:
    _model(config_dir, "fraud-detection", "monitoring", {"data_quality": True})
    with pytest.raises(
        ConfigError,
        match=r"models.yaml: models\[1\].monitoring: \{\.\.\.\} needs"
        r" data capture, which this model's endpoint does not do \(serving.kind"
        r" serverless",
    ):
        load_environment("dev", config_dir)


def test_monitoring_an_endpoint_with_capture_switched_off_is_refused(config_dir: Path) -> None:
    path = config_dir / "models.yaml"
    catalogue = yaml.safe_load(path.read_text())
    catalogue["models"][0]["serving"]["data_capture"] = {"enabled": False}
    path.write_text(yaml.safe_dump(catalogue))
    with pytest.raises(ConfigError, match=r"models\[0\].monitoring: \{\.\.\.\} needs data capture"):
        load_environment("dev", config_dir)


def test_monitoring_settings_of_a_model_not_served_here_are_kept(config_dir: Path) -> None:
    _model(config_dir, "churn-prediction", "serving", None)
    model = load_environment("dev", config_dir).models[0]
    assert model.serving is None and model.monitoring.model_quality


# --- every monitor has a baseline -------------------------------------------------------------


def test_the_sample_catalogue_exercises_all_four_monitor_types_on_churn() -> None:
    churn = load_environment("dev").models[0]
    monitoring = churn.monitoring
    assert churn.name == "churn-prediction"
    assert (monitoring.data_quality, monitoring.model_quality) == (True, True)
    assert (monitoring.bias, monitoring.explainability) == (True, True)
    assert monitoring.bias_facet is not None and monitoring.bias_facet.name == "contract_type"


def test_churn_labels_arrive_90_days_late_so_quality_looks_that_far_back() -> None:
    monitoring = load_environment("dev").models[0].monitoring
    assert monitoring.ground_truth_offsets == ("-PT2161H", "-PT2160H")


def test_no_delay_means_no_offsets(config_dir: Path) -> None:
    _first_model(
        config_dir,
        "monitoring",
        {"model_quality": True, "ground_truth_uri": "s3://labels-bucket/churn/"},
    )
    assert load_environment("dev", config_dir).models[0].monitoring.ground_truth_offsets is None


def test_a_daily_window_of_requests_two_weeks_back(config_dir: Path) -> None:
    _first_model(
        config_dir,
        "monitoring",
        {
            "schedule": "cron(0 4 ? * * *)",
            "model_quality": True,
            "ground_truth_uri": "s3://labels-bucket/churn/",
            "ground_truth_delay_hours": 336,
            "ground_truth_window_hours": 24,
        },
    )
    monitoring = load_environment("dev", config_dir).models[0].monitoring
    assert monitoring.ground_truth_offsets == ("-PT360H", "-PT336H")


def test_a_fine_tuned_model_gets_no_monitor_by_default() -> None:
    """support-assistant captures data, but its pipeline registers no baseline."""
    model = next(m for m in load_environment("dev").models if m.name == "support-assistant")
    assert model.serving is not None and model.serving.captures_data
    assert not model.monitoring.enabled


@pytest.mark.parametrize("monitor", ["data_quality", "explainability"])
def test_a_monitor_without_a_baseline_is_refused_in_one_line(
    config_dir: Path, monitor: str
) -> None:
    _model(config_dir, "support-assistant", "monitoring", {monitor: True})
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    message = str(raised.value)
    assert "\n" not in message
    assert message.endswith(
        f"models.yaml: models[3].monitoring.{monitor}: True has no baseline to compare with:"
        " kind fine_tuning registers none for it (its baselines: none), so it would fail on"
        " every run; allowed: false"
    ), message


def test_a_training_model_keeps_the_default_data_quality_monitor(config_dir: Path) -> None:
    model = next(m for m in load_environment("dev").models if m.name == "claims-triage")
    assert model.pipeline.kind == "training" and model.monitoring.data_quality

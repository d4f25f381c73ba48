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
        "models.yaml: models[0].monitoring.ground_truth_uri: None is required when model_quality is"
        " on",
    ),
    (
        "monitoring",
        {"bias": True},
        "models[0].monitoring.ground_truth_uri: None is required when bias is on",
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
        "models[0].retraining.cooldown_minutes: -5 is invalid: input should be greater than or"
        " equal to 0",
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

"""Configuration of the idle-cost knobs: every mistake is one line naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_config import ConfigError, load_environment
from platform_config.loader import DEFAULT_CONFIG_DIR
from platform_config.serving_defaults import scales_to_zero


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the committed configuration, for a test to break."""
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(config_dir: Path, name: str, change: dict[str, Any]) -> None:
    path = config_dir / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    for dotted, value in change.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path.write_text(yaml.safe_dump(data))


def _serve(config_dir: Path, serving: dict[str, Any]) -> None:
    """Make ``support-assistant``'s catalogue serving ``serving``."""
    path = config_dir / "models.yaml"
    data = yaml.safe_load(path.read_text())
    (model,) = [entry for entry in data["models"] if entry["name"] == "support-assistant"]
    model["serving"] = serving
    path.write_text(yaml.safe_dump(data))


def _error(config_dir: Path, env: str = "sandbox") -> str:
    with pytest.raises(ConfigError) as raised:
        load_environment(env, config_dir)
    message = str(raised.value)
    assert "\n" not in message
    return message


RT = {"kind": "real_time", "instance_type": "ml.g5.xlarge", "scale_to_zero": True}
BAD_SCALE_TO_ZERO = [
    (
        {**RT, "variants": [{"name": "a"}, {"name": "b"}]},
        "scale_to_zero: True is not possible: it has 2 production variants",
    ),
    (
        {**RT, "variants": [{"name": "a"}], "shadow_variants": [{"name": "s"}]},
        "scale_to_zero: True is not possible: it has a shadow variant",
    ),
    (
        {**RT, "data_capture": {"sampling_percent": 5}},
        "scale_to_zero: True is not possible: it captures data (set data_capture.enabled: false",
    ),
    (
        {"kind": "async", "scale_to_zero": True, "data_capture": {"enabled": False}},
        "scale_to_zero: True is not possible: serving.kind is async",
    ),
    (
        {**RT, "data_capture": {"enabled": False}, "autoscaling": {"min_capacity": 1}},
        "scale_to_zero: True is not possible: autoscaling.min_capacity 1 keeps instances warm",
    ),
    (
        {**RT, "data_capture": {"enabled": False}, "deployment": {"strategy": "canary"}},
        "scale_to_zero: True is not possible: deployment.strategy canary shifts traffic",
    ),
]


@pytest.mark.parametrize(("serving", "expected"), BAD_SCALE_TO_ZERO)
def test_scale_to_zero_where_sagemaker_does_not_allow_it_is_one_line(
    config_dir: Path, serving: dict[str, Any], expected: str
) -> None:
    _serve(config_dir, serving)
    message = _error(config_dir, "staging")  # staging overrides nothing of this model
    assert f"models.yaml: models[3].serving.{expected}" in message, message


def test_scale_to_zero_of_an_instance_type_of_unknown_size_is_one_line(config_dir: Path) -> None:
    _serve(
        config_dir, {**RT, "instance_type": "ml.m5.24xlarge", "data_capture": {"enabled": False}}
    )
    message = _error(config_dir, "staging")
    assert "models[3].serving.instance_type: 'ml.m5.24xlarge' has no size in" in message
    assert "platform_config/instance_sizes.yaml" in message


def test_explicit_scale_to_zero_allows_an_autoscaling_floor_of_zero(config_dir: Path) -> None:
    serving = {**RT, "data_capture": {"enabled": False}}
    serving["autoscaling"] = {"min_capacity": 0, "max_capacity": 3}
    _serve(config_dir, serving)
    config = load_environment("prod", config_dir)  # prod's default is off: explicit wins
    (model,) = [model for model in config.models if model.name == "support-assistant"]
    assert model.serving is not None and scales_to_zero(model.serving, config.serving_defaults)


def test_autoscaling_floor_of_zero_without_scale_to_zero_is_still_rejected(
    config_dir: Path,
) -> None:
    _serve(config_dir, {"kind": "real_time", "autoscaling": {"min_capacity": 0}})
    assert "autoscaling.min_capacity: 0 can be 0 on async endpoints only" in _error(config_dir)


def test_a_model_can_opt_out_of_the_environment_default(config_dir: Path) -> None:
    path = config_dir / "sandbox.yaml"
    data = yaml.safe_load(path.read_text())
    data["model_overrides"]["support-assistant"]["serving"]["scale_to_zero"] = False
    path.write_text(yaml.safe_dump(data))
    config = load_environment("sandbox", config_dir)
    (model,) = [model for model in config.models if model.name == "support-assistant"]
    assert model.serving is not None
    assert not scales_to_zero(model.serving, config.serving_defaults)


BAD_ENVIRONMENT = [
    (
        {"network.interface_endpoint_zones": 3},
        (
            "sandbox.yaml: network.interface_endpoint_zones: 3 is more than the VPC's 2 zones"
            " (allowed: 1 to 2)"
        ),
    ),
    (
        {"network.interface_endpoint_zones": 0},
        "sandbox.yaml: network.interface_endpoint_zones: 0 is invalid",
    ),
    (
        {"mlflow.size": "Small"},
        "sandbox.yaml: mlflow.size: 'Small' is only for kind tracking_server (this is app)",
    ),
    (
        {"mlflow.kind": "serverless"},
        (
            "sandbox.yaml: mlflow.kind: 'serverless' is not allowed (allowed: 'tracking_server'"
            " or 'app')"
        ),
    ),
    (
        {"serving_defaults.scale_to_zro": True},
        "sandbox.yaml: serving_defaults.scale_to_zro: True is not a known field",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BAD_ENVIRONMENT)
def test_bad_cost_knob_is_one_line_naming_file_field_value_and_allowed(
    config_dir: Path, change: dict[str, Any], expected: str
) -> None:
    _edit(config_dir, "sandbox", change)
    message = _error(config_dir)
    assert message.endswith(expected) or f"/{expected}" in message, message

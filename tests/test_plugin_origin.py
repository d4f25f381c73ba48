"""Pipeline plugins load only from the repository's plugin packages (issue 14: config is code)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from platform_config import ConfigError, load_environment
from platform_config.loader import PLUGIN_PACKAGES
from tests.conftest import REPO


def _with_plugins(tmp_path: Path, plugins: list[str]) -> Path:
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    catalogue = yaml.safe_load((config / "models.yaml").read_text())
    (config / "models.yaml").write_text(yaml.safe_dump({"pipeline_plugins": plugins, **catalogue}))
    return config


@pytest.mark.parametrize(
    ("module", "why"),
    [
        ("json", "is not a module of a plugin package"),
        ("config.evil", "is not a module of a plugin package"),
        ("os.path", "is not a module of a plugin package"),
        ("examples", "is not a module of a plugin package"),
        ("examples.no_such_module", "is not a module of this repository"),
        ("pipeline_plugins.../config/evil", "is not a module of a plugin package"),
    ],
)
def test_a_plugin_outside_the_plugin_packages_is_refused_before_import(
    tmp_path: Path, module: str, why: str
) -> None:
    config = _with_plugins(tmp_path, [module])
    with pytest.raises(ConfigError) as error:
        load_environment("sandbox", config)
    message = str(error.value)
    assert "\n" not in message
    assert f"pipeline_plugins[0]: {module!r} {why}" in message
    assert ", ".join(f"{p}.<module>" for p in PLUGIN_PACKAGES) in message


def test_a_file_dropped_into_config_is_never_imported(tmp_path: Path) -> None:
    config = _with_plugins(tmp_path, ["evil"])
    (config / "evil.py").write_text("raise SystemExit('imported')\n")
    with pytest.raises(ConfigError, match="is not a module of a plugin package"):
        load_environment("sandbox", config)


def test_the_example_plugin_still_loads(tmp_path: Path) -> None:
    config = _with_plugins(tmp_path, ["examples.custom_pipeline_kind"])
    assert load_environment("sandbox", config).name == "sandbox"

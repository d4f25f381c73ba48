"""The definition cache's key covers every file a plugin's definition is built from."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_definitions.definition_cache import _source_digest


@pytest.fixture
def plugin_package(tmp_path: Path) -> Iterator[Path]:
    """A plugin package whose builder calls a second module of the package."""
    package = tmp_path / "cache_probe_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kind.py").write_text(
        "def build(spec, **arguments):\n"
        "    from cache_probe_plugin.definition import text\n"
        "    return text()\n"
    )
    (package / "definition.py").write_text("def text():\n    return '{}'\n")
    sys.path.insert(0, str(tmp_path))
    yield package
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("cache_probe_plugin")]:
        del sys.modules[name]


def test_a_change_in_any_module_of_the_plugins_package_changes_the_key(
    plugin_package: Path,
) -> None:
    build = importlib.import_module("cache_probe_plugin.kind").build
    before = _source_digest(build)
    assert _source_digest(build) == before
    (plugin_package / "definition.py").write_text("def text():\n    return '[]'\n")
    assert _source_digest(build) != before

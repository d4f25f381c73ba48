"""Reads and validates the configuration files; the only module that touches them.

Errors are :class:`ConfigError`: one line naming the file, the field, the value and what is
allowed, for example::

    config/dev.yaml: network.new_vpc.cidr: '10.0.0.0/33' is not a valid IPv4 CIDR (for example 10.20.0.0/16)
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from platform_config.base import ConfigError
from platform_config.error_lines import first_problem, short_value
from platform_config.pipeline_spec import REGISTERED_KINDS, PipelineKind, RegisteredKind
from platform_config.schema import EnvironmentConfig
from platform_config.yaml_reader import field_path, read_yaml

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
CATALOGUE_FILE = "models.yaml"
FEATURE_GROUPS_FILE = "feature_groups.yaml"
DELIVERY_FILE = "delivery.yaml"
SHARED_FILES = (CATALOGUE_FILE, FEATURE_GROUPS_FILE, DELIVERY_FILE)
OVERRIDES_KEY = "model_overrides"
PLUGINS_KEY = "pipeline_plugins"
#: The only packages pipeline plugins may come from: code of this repository, reviewed like
#: the rest of it. A catalogue names a module; it cannot make the app import anything else
#: (a file dropped into config/, a package installed in the environment).
PLUGIN_PACKAGES = ("pipeline_plugins", "examples")
_REPOSITORY = Path(__file__).resolve().parent.parent


def available_environments(config_dir: Path = DEFAULT_CONFIG_DIR) -> list[str]:
    """Names of the environments that have a file in ``config_dir``."""
    return sorted(path.stem for path in config_dir.glob("*.yaml") if path.name not in SHARED_FILES)


def load_environment(name: str, config_dir: Path = DEFAULT_CONFIG_DIR) -> EnvironmentConfig:
    """Load ``<config_dir>/<name>.yaml`` with the shared catalogues and validate them.

    The shared catalogues are ``models.yaml`` (changed per environment by
    ``model_overrides``) and ``feature_groups.yaml``. The modules listed under
    ``pipeline_plugins`` in ``models.yaml`` are imported first, and the pipeline kinds they
    declare (``PIPELINE_KINDS``) given to the validation, in its context: the catalogue may
    use those and the built-in kinds, whatever else the process imported.

    Parameters
    ----------
    name:
        The environment's name (the file name without ``.yaml``).
    config_dir:
        Folder of the configuration files (default: the repository's ``config/``).

    Raises
    ------
    ConfigError
        With a one-line message naming the file, the field, the value and what is allowed.
    """
    env_file, catalogue_file, feature_groups_file = _files(name, config_dir)
    if name in {Path(shared).stem for shared in SHARED_FILES} or not env_file.is_file():
        known = ", ".join(available_environments(config_dir)) or "none"
        raise ConfigError(
            f"{_shown(env_file)}: no such environment {short_value(name)} (available: {known})"
        )
    environment = _read_mapping(env_file)
    catalogue = _read_mapping(catalogue_file) if catalogue_file.is_file() else {"models": []}
    feature_groups = _read_mapping(feature_groups_file) if feature_groups_file.is_file() else {}
    return environment_from_settings(name, environment, catalogue, feature_groups, config_dir)


def environment_from_settings(
    name: str,
    environment: dict[str, Any],
    catalogue: dict[str, Any],
    feature_groups: dict[str, Any],
    config_dir: Path = DEFAULT_CONFIG_DIR,
) -> EnvironmentConfig:
    """Validate the settings read from an environment's files (see :func:`load_environment`).

    ``environment``, ``catalogue`` and ``feature_groups`` are the mappings of
    ``<name>.yaml``, ``models.yaml`` and ``feature_groups.yaml`` in ``config_dir`` (whose
    paths errors name); they are not changed.

    Raises
    ------
    ConfigError
        With a one-line message naming the file, the field, the value and what is allowed.
    """
    env_file, catalogue_file, feature_groups_file = _files(name, config_dir)
    environment, catalogue = dict(environment), dict(catalogue)
    where_instead = {
        "name": "the name is the file's name",
        "models": f"models are declared in {CATALOGUE_FILE}; use {OVERRIDES_KEY}",
        "feature_groups": f"feature groups are declared in {FEATURE_GROUPS_FILE}",
    }
    for key, instead in where_instead.items():
        if key in environment:
            raise ConfigError(
                f"{_shown(env_file)}: {key}: is not set in an environment file ({instead})"
            )
    groups = _entries(feature_groups, feature_groups_file, "feature_groups")
    overrides = environment.pop(OVERRIDES_KEY, None) or {}
    registered = _import_pipeline_plugins(catalogue.pop(PLUGINS_KEY, None), catalogue_file)
    models = _apply_overrides(catalogue, overrides, env_file, catalogue_file)
    data = {"name": name, **environment, "models": models, "feature_groups": groups}
    try:
        return EnvironmentConfig.model_validate(data, context={REGISTERED_KINDS: registered})
    except ValidationError as error:
        raise ConfigError(
            _describe(error, data, env_file, catalogue_file, feature_groups_file, overrides)
        ) from None


def _files(name: str, config_dir: Path) -> tuple[Path, Path, Path]:
    """The environment's file, the model catalogue and the feature group catalogue."""
    return (
        config_dir / f"{name}.yaml",
        config_dir / CATALOGUE_FILE,
        config_dir / FEATURE_GROUPS_FILE,
    )


def read_settings(path: Path) -> dict[str, Any]:
    """The mapping of settings in the YAML file ``path``, read as every configuration file is.

    Raises
    ------
    ConfigError
        One line naming the file: too large, not UTF-8, invalid YAML, nested too deep,
        aliases expanding too far, a key that is not a string or given twice, not a mapping.
    """
    return _read_mapping(path)


def describe_error(error: ValidationError, path: Path, data: Any = None) -> str:
    """One line for the first error of a model validated from the one file ``path``.

    ``<file>: <field>: <value> <what is allowed>``, as for the environment files (a
    :class:`~platform_config.base.FieldError` raised by a cross-field check names its own
    field and value). ``data`` is what was validated: the field is located as written there.
    """
    return f"{_shown(path)}: {first_problem(error, data).line()}"


def _entries(data: dict[str, Any], path: Path, key: str) -> list[Any]:
    """The list under ``key`` in a shared catalogue file's mapping (empty if absent)."""
    unknown = sorted(set(data) - {key})
    if unknown:
        raise ConfigError(f"{_shown(path)}: {unknown[0]}: is not a known field (allowed: {key})")
    entries = data.get(key) or []
    if not isinstance(entries, list):
        raise ConfigError(f"{_shown(path)}: {key}: {short_value(entries)} must be a list")
    return entries


def _read_mapping(path: Path) -> dict[str, Any]:
    data = read_yaml(path, _shown(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{_shown(path)}: (top level): {short_value(data)} must be a mapping of settings,"
            f" not {type(data).__name__}"
        )
    return data


def _import_pipeline_plugins(modules: Any, catalogue_file: Path) -> Mapping[str, RegisteredKind]:
    """Import the plugin modules; the kinds they declare, by name.

    Each module is imported by its dotted path (from the Python path, never downloaded)
    and must define ``PIPELINE_KINDS``, a sequence of ``PipelineKindPlugin``; a kind may
    take neither a built-in kind's name nor another plugin's.
    """
    if modules is None:
        modules = []
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise ConfigError(
            f"{_shown(catalogue_file)}: {PLUGINS_KEY}: must be a list of module"
            " paths (e.g. examples.custom_pipeline_kind)"
        )
    kinds: dict[str, RegisteredKind] = {}
    for index, path in enumerate(modules):
        where = f"{_shown(catalogue_file)}: {PLUGINS_KEY}[{index}]: {path!r}"
        for plugin in _plugin_kinds(path, where):
            taken = plugin.name in {kind.value for kind in PipelineKind} or (
                kinds.get(plugin.name, plugin) is not plugin
            )
            if taken:
                raise ConfigError(f"{where}: pipeline kind {plugin.name!r} is already registered")
            kinds[plugin.name] = plugin
    return kinds


def _plugin_kinds(path: str, where: str) -> tuple[RegisteredKind, ...]:
    """The ``PIPELINE_KINDS`` of the plugin module ``path`` (of this repository)."""
    _check_plugin_origin(path, where)
    try:
        module = importlib.import_module(path)
    except Exception as error:
        reason = " ".join(str(error).split())
        raise ConfigError(
            f"{where} cannot be imported ({type(error).__name__}: {reason})"
        ) from None
    plugins = getattr(module, "PIPELINE_KINDS", None)
    if not isinstance(plugins, list | tuple) or not all(
        isinstance(plugin, RegisteredKind) for plugin in plugins
    ):
        raise ConfigError(f"{where} does not define PIPELINE_KINDS, a list of PipelineKindPlugin")
    return tuple(plugins)


def _check_plugin_origin(path: str, where: str) -> None:
    """Refuse a plugin module outside :data:`PLUGIN_PACKAGES` of this repository."""
    allowed = ", ".join(f"{package}.<module>" for package in PLUGIN_PACKAGES)
    parts = path.split(".")
    valid = len(parts) >= 2 and all(part.isidentifier() for part in parts)
    if not valid or parts[0] not in PLUGIN_PACKAGES:
        raise ConfigError(f"{where} is not a module of a plugin package (allowed: {allowed})")
    location = _REPOSITORY.joinpath(*parts)
    candidates = (location.with_suffix(".py"), location / "__init__.py")
    if not any(candidate.is_file() for candidate in candidates):
        raise ConfigError(
            f"{where} is not a module of this repository (looked for"
            f" {location.relative_to(_REPOSITORY)}.py; allowed: {allowed})"
        )


def _apply_overrides(
    catalogue: dict[str, Any], overrides: Any, env_file: Path, catalogue_file: Path
) -> list[dict[str, Any]]:
    unknown = sorted(set(catalogue) - {"models"})
    if unknown:
        raise ConfigError(
            f"{_shown(catalogue_file)}: {unknown[0]}: is not a known field (allowed:"
            f" {PLUGINS_KEY}, models)"
        )
    entries = catalogue.get("models") or []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError(f"{_shown(catalogue_file)}: models: must be a list of mappings")
    for index, entry in enumerate(entries):
        if "name" in entry and not isinstance(entry["name"], str):
            raise ConfigError(
                f"{_shown(catalogue_file)}: models[{index}].name: {short_value(entry['name'])}"
                " must be a string (the model's name)"
            )
    if not isinstance(overrides, dict):
        raise ConfigError(
            f"{_shown(env_file)}: {OVERRIDES_KEY}: {short_value(overrides)} must map model names"
            " to settings"
        )
    names = [entry.get("name") for entry in entries]
    merged = []
    for entry in entries:
        override = overrides.get(entry.get("name"), {})
        if not isinstance(override, dict):
            raise ConfigError(
                f"{_shown(env_file)}: {OVERRIDES_KEY}.{entry.get('name')}: {short_value(override)}"
                " must be a mapping of settings"
            )
        if "name" in override:
            raise ConfigError(
                f"{_shown(env_file)}: {OVERRIDES_KEY}.{entry.get('name')}.name: cannot be overridden"
            )
        merged.append(_deep_merge(entry, override))
    for name in overrides:
        if name not in names:
            known = ", ".join(str(n) for n in names) or "none"
            raise ConfigError(
                f"{_shown(env_file)}: {OVERRIDES_KEY}.{name}: {short_value(name)} is not a model of"
                f" {CATALOGUE_FILE} (models: {known})"
            )
    return merged


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _describe(
    error: ValidationError,
    data: dict[str, Any],
    env_file: Path,
    catalogue_file: Path,
    feature_groups_file: Path,
    overrides: dict[str, Any],
) -> str:
    """One line for the first error of ``error``, naming where the bad value was written."""
    problem = first_problem(error, data)
    loc = list(problem.path)
    where, path = env_file, field_path(loc)
    models = data["models"]
    if loc and loc[0] == "models" and len(loc) > 1 and isinstance(loc[1], int):
        model = models[loc[1]]
        rest = loc[2:]
        override = overrides.get(model.get("name"), {})
        if rest and _contains(override, rest):
            path = field_path([OVERRIDES_KEY, str(model.get("name")), *rest])
        else:
            where = catalogue_file
    elif loc and loc[0] == "feature_groups":
        where = feature_groups_file
    elif loc == ["models"]:
        where = catalogue_file
    return f"{_shown(where)}: {problem.line(path)}"


def _contains(mapping: Any, path: list[Any]) -> bool:
    for part in path:
        if (isinstance(mapping, dict) and part in mapping) or (
            isinstance(mapping, list) and isinstance(part, int) and part < len(mapping)
        ):
            mapping = mapping[part]
        else:
            return False
    return True


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

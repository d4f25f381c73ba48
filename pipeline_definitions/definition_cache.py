"""A content-addressed cache of built pipeline definitions, under ``build/``.

Building a definition with the ``sagemaker`` SDK costs a few tenths of a second per model,
and importing the SDK about a second and a half: most of a synth's time once the catalogue
grows. A definition is a pure function of its inputs (the kind, the validated spec, the
builder's arguments, the builders' source and the pinned SDK and botocore versions), so
it is stored under a digest of all of them and reused while none changes. The cache never
changes what a synth produces: a hit returns the same text a build would (tested), and
any change of an input is a miss. Deleting ``build/`` is always safe.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO / "build" / "pipeline-definitions"
#: Files of ``platform_config`` whose content changes what the builders produce.
BUILDER_TABLES = (
    "container_images.py",
    "container_images.yaml",
    "foundation_models.py",
    "foundation_models.json",
)
#: Distributions whose version changes what the builders produce.
_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "botocore")


def cached_definition(
    build: Callable[..., str],
    spec: Any,
    *,
    kind: str,
    source: Callable[..., Any] | None = None,
    **arguments: Any,
) -> str:
    """``build(spec, **arguments)``, or the text a previous identical call stored.

    ``source`` is the function whose module's text is part of the key (default ``build``):
    give the plugin's builder when ``build`` wraps it.
    """
    key = _key(source or build, spec, kind, arguments)
    path = CACHE_DIR / f"{key}.json"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    definition = build(spec, **arguments)
    _store(path, definition)
    return definition


def _key(build: Callable[..., str], spec: Any, kind: str, arguments: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    parts = {
        "kind": kind,
        "spec": spec.model_dump(mode="json") if hasattr(spec, "model_dump") else repr(spec),
        "arguments": {name: _plain(value) for name, value in sorted(arguments.items())},
        "builders": _builders_digest(),
        "plugin": _source_digest(build),
        "versions": _versions(),
    }
    digest.update(json.dumps(parts, sort_keys=True, default=repr).encode())
    return digest.hexdigest()[:32]


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@cache
def _builders_digest() -> str:
    """Digest of every file of ``pipeline_definitions`` (builders, data, step scripts) and
    of the configuration's tables the builders read (images, foundation models)."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    tables = [REPO / "platform_config" / name for name in BUILDER_TABLES]
    for path in [*sorted(_data_files(root)), *tables]:
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _source_digest(build: Callable[..., str]) -> str:
    """Digest of the package defining ``build`` (a plugin kind lives outside this package,
    and its definition may span several modules of its own package)."""
    module = inspect.getmodule(build)
    source = inspect.getsourcefile(module) if module is not None else None
    if source is None:
        return repr(build)
    path = Path(source)
    package = path.parent if (path.parent / "__init__.py").is_file() else None
    files = sorted(_data_files(package)) if package is not None else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(
            str(file.relative_to(path.parent)).encode() + b"\0" + file.read_bytes() + b"\0"
        )
    return digest.hexdigest()


def _data_files(root: Path) -> list[Path]:
    """The source and data files under ``root`` (no caches)."""
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".json", ".yaml")
        and "__pycache__" not in path.parts
    ]


@cache
def _versions() -> dict[str, str]:
    versions = {}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _store(path: Path, definition: str) -> None:
    """Write atomically, so that synths running at once never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=".definition-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(definition)
        Path(scratch).replace(path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise

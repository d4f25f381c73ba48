"""Lambda deployment packages, assembled without Docker from ``lambda/<function>/``.

A package is the function's own modules (not its tests) plus the pure-Python libraries it
imports that the Lambda runtime lacks (aws-lambda-powertools and its dependencies), copied
from the versions pinned in ``requirements-dev.txt`` and installed in this environment. The
result is deterministic: the same pins give the same files and so the same asset hash.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO / "lambda"
BUILD_DIR = REPO / "build" / "lambda"

#: Libraries vendored into every package (the runtime provides boto3 and botocore).
VENDORED = ("aws_lambda_powertools", "jmespath", "typing_extensions")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "conftest.py", "py.typed")


def function_package(name: str) -> Path:
    """Assemble ``build/lambda/<name>`` and return it, ready for ``Code.from_asset``."""
    source = FUNCTIONS_DIR / name
    if not source.is_dir():
        known = ", ".join(sorted(p.name for p in FUNCTIONS_DIR.iterdir() if p.is_dir()))
        raise ValueError(f"lambda/{name} does not exist (functions: {known})")
    target = BUILD_DIR / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=_SKIP)
    for library in VENDORED:
        spec = importlib.util.find_spec(library)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{library} is not installed: run `make setup`")
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, target / library, ignore=_SKIP)
        else:
            shutil.copy2(origin, target / origin.name)
    return target

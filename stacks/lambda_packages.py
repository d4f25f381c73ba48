"""Lambda deployment packages, assembled without Docker from ``lambda/<function>/``.

A package is the function's own modules (not its tests), the project's code every function
shares (``lambda/shared/``, and ``platform_contracts/``, the facts the stacks write and the
functions read), plus the pure-Python libraries it imports that the Lambda runtime lacks
(aws-lambda-powertools and its dependencies), copied from the versions pinned in
``requirements.txt`` and installed in this environment. The
result is deterministic: the same sources and pins give the same files and so the same
asset hash. Packages are built in a scratch folder and moved into place in one rename, so
synths running at the same time never see a half-built package.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO / "lambda"
BUILD_DIR = REPO / "build" / "lambda"
#: The modules every function's package gets, at its top level.
SHARED_DIR = FUNCTIONS_DIR / "shared"
#: Project packages every function's package gets, as packages.
SHARED_PACKAGES = (REPO / "platform_contracts",)

#: Libraries vendored into every package (the runtime provides boto3 and botocore), with
#: the distribution that pins each one.
VENDORED = {
    "aws_lambda_powertools": "aws-lambda-powertools",
    "jmespath": "jmespath",
    "typing_extensions": "typing_extensions",
}
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "conftest.py", "py.typed")


def function_package(name: str) -> Path:
    """The folder holding ``name``'s package, built if needed, ready for ``Code.from_asset``."""
    source = FUNCTIONS_DIR / name
    if not source.is_dir() or source == SHARED_DIR:
        known = ", ".join(sorted(p.name for p in _function_dirs()))
        raise ValueError(f"lambda/{name} is not a function (functions: {known})")
    target = BUILD_DIR / f"{name}-{_inputs_digest(source)}"
    if target.is_dir():
        return target
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=BUILD_DIR))
    try:
        package = scratch / "package"
        shutil.copytree(source, package, ignore=_SKIP)
        for module in sorted(SHARED_DIR.glob("*.py")):
            shutil.copy2(module, package / module.name)
        for shared in SHARED_PACKAGES:
            shutil.copytree(shared, package / shared.name, ignore=_SKIP)
        for library in VENDORED:
            origin = _origin(library)
            if origin.name == "__init__.py":
                shutil.copytree(origin.parent, package / library, ignore=_SKIP)
            else:
                shutil.copy2(origin, package / origin.name)
        try:
            package.rename(target)
        except OSError:
            if not target.is_dir():  # another synth won the race with identical content
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _function_dirs() -> list[Path]:
    return [
        p
        for p in FUNCTIONS_DIR.iterdir()
        if p.is_dir() and p != SHARED_DIR and p.name[0] not in "._"
    ]


def _origin(library: str) -> Path:
    spec = importlib.util.find_spec(library)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{library} is not installed: run `make setup`")
    return Path(spec.origin)


def _inputs_digest(source: Path) -> str:
    """Digest of the function's and the shared source files and the vendored libraries' versions."""
    digest = hashlib.sha256()
    for root in (source, SHARED_DIR, *SHARED_PACKAGES):
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root.parent)
            if {"tests", "__pycache__"} & set(relative.parts) or path.name == "conftest.py":
                continue
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    for distribution in sorted(VENDORED.values()):
        digest.update(f"{distribution}=={importlib.metadata.version(distribution)}\0".encode())
    return digest.hexdigest()[:16]

"""Lambda packages: each function gets the shared module and the contracts, and imports alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stacks.lambda_packages import SHARED_DIR, function_package

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("function", "modules"),
    [
        ("release_automation", ["release_automation", "release_flow", "release_record"]),
        ("model_package_resolver", ["model_package_resolver"]),
        ("retraining_trigger", ["retraining_trigger"]),
    ],
)
def test_every_package_holds_the_shared_module_and_the_contracts(
    function: str, modules: list[str]
) -> None:
    package = function_package(function)
    names = {path.relative_to(package).parts[0] for path in package.rglob("*")}

    assert {f"{m}.py" for m in modules} | {"automation_runtime.py", "platform_contracts"} <= names
    assert "tests" not in names and "conftest.py" not in names
    assert not (package / "platform_contracts" / "__pycache__").exists()


@pytest.mark.parametrize(
    ("function", "handler"),
    [
        ("release_automation", "release_automation"),
        ("model_package_resolver", "model_package_resolver"),
        ("retraining_trigger", "retraining_trigger"),
    ],
)
def test_a_handler_imports_from_its_package_alone(function: str, handler: str) -> None:
    """As Lambda loads it: the package's root first, nothing of the repository on the path."""
    package = function_package(function)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        f"import {handler}, automation_runtime, platform_contracts.releases as r; "
        "mods = [sys.modules[n].__file__ for n in "
        f"('{handler}', 'automation_runtime', 'platform_contracts.releases')]; "
        "assert all(m.startswith(sys.argv[1]) for m in mods), mods"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", code, str(package)],
        cwd="/",
        capture_output=True,
        text=True,
        env={"AWS_DEFAULT_REGION": "eu-west-1", "PATH": "/usr/bin:/bin"},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert not list(package.rglob("__pycache__"))  # -B: the asset stays as built


def test_the_shared_folder_is_not_a_function() -> None:
    with pytest.raises(ValueError, match="lambda/shared is not a function"):
        function_package(SHARED_DIR.name)

"""The real synth through the CDK CLI: offline, validated, deterministic, reported.

Runs ``cdk synth`` twice in a network namespace with no interface up (``unshare --net``), so
any attempt to reach AWS or anything else fails; CDK's built-in template validation is on,
as in ``make synth``.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.synth_report import main as synth_report
from tests.conftest import REPO

CDK = REPO / "node_modules" / ".bin" / "cdk"


def _cli_synth(outdir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    env.pop("CDK_VALIDATION", None)
    env["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    command = [str(CDK), "synth", "-c", "env=sandbox", "--quiet", "--output", str(outdir)]
    return subprocess.run(
        ["unshare", "--net", *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def two_synths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to prove synth is offline")
    first, second = tmp_path_factory.mktemp("synth-a"), tmp_path_factory.mktemp("synth-b")
    for outdir in (first, second):
        result = _cli_synth(outdir)
        assert result.returncode == 0, result.stderr[-3000:]
    return first, second


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_synth_succeeds_with_no_network_at_all(two_synths: tuple[Path, Path]) -> None:
    first, _ = two_synths
    assert (first / "manifest.json").is_file()
    assert any(name.endswith(".template.json") for name in _tree(first))


def test_two_synths_of_the_same_commit_are_byte_identical(two_synths: tuple[Path, Path]) -> None:
    first, second = two_synths
    assert _tree(first) == _tree(second)
    _, mismatch, errors = filecmp.cmpfiles(first, second, _tree(first), shallow=False)
    assert mismatch == [] and errors == []


def test_validation_plugins_ran_and_left_no_open_violation(two_synths: tuple[Path, Path]) -> None:
    report = json.loads((two_synths[0] / "validation-report.json").read_text())
    plugins = {plugin["pluginName"]: plugin for plugin in report["pluginReports"]}
    assert {"HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"} <= set(plugins)
    for name, plugin in plugins.items():
        assert plugin["violations"] == [], name


def test_synth_report_prints_a_row_per_stack(
    two_synths: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert synth_report([str(two_synths[0])]) == 0
    table = capsys.readouterr().out
    for stack_name in ("ml-platform-sandbox-data", "ml-platform-sandbox-network"):
        assert stack_name in table
    assert "open findings: 0" in table
    assert "Sandbox: SageMaker requests validated: " in table
    assert "(0 errors); API rules checked: " in table
    assert "(0 violations); service deliveries checked: " in table
    assert "every CloudFormation, Lambda, IAM and EventBridge limit met; headroom: " in table
    assert "(0 denied); IAM actions checked: " in table and "(0 unscoped)" in table


def test_synth_needs_no_context_lookup(two_synths: tuple[Path, Path]) -> None:
    manifest = json.loads((two_synths[0] / "manifest.json").read_text())
    assert "missing" not in manifest, manifest.get("missing")
    cached = REPO / "cdk.context.json"
    assert not cached.exists() or json.loads(cached.read_text()) == {}

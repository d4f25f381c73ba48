"""Session fixtures: each environment's app is built and synthesized once per test session."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii starts Node when aws_cdk is imported: the repository's Node 22 (package.json) must
# come first on PATH before that, also when pytest is run without `make test`.
REPO = Path(__file__).resolve().parent.parent
os.environ["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from platform_config import (  # noqa: E402
    EnvironmentConfig,
    available_environments,
    load_environment,
)
from stacks import MlPlatform, build_platform  # noqa: E402
from stacks.platform_app import APP_CONTEXT  # noqa: E402

ENVIRONMENTS = available_environments()


def cdk_context() -> dict[str, object]:
    """The feature flags and settings of ``cdk.json``, as the CLI would pass them."""
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    return {**APP_CONTEXT, **{key: value for key, value in context.items() if key != "env"}}


@dataclass(frozen=True)
class SynthesizedPlatform:
    """One environment's app, built and synthesized."""

    config: EnvironmentConfig
    platform: MlPlatform
    assembly: cdk.cx_api.CloudAssembly
    outdir: Path

    def template(self, stack: cdk.Stack) -> Template:
        """The synthesized template, for assertions (no second synthesis)."""
        return Template.from_json(self.template_json(stack))

    def template_json(self, stack: cdk.Stack) -> dict[str, Any]:
        """The synthesized template as written to the cloud assembly."""
        artifact = self.assembly.get_stack_artifact(stack.artifact_id)
        return json.loads(Path(artifact.template_full_path).read_text())  # type: ignore[no-any-return]


_CACHE: dict[str, SynthesizedPlatform] = {}


def synthesize(env_name: str, outdir: Path) -> SynthesizedPlatform:
    """Build and synthesize ``env_name``'s app as ``app.py`` does (rule packs included).

    CDK's built-in template validation is off here (it costs ~2 s an app); the real synth
    through the CLI, exercised in ``test_synth_command.py``, runs it.
    """
    if env_name not in _CACHE:
        config = load_environment(env_name)
        app = cdk.App(
            context=cdk_context(),
            outdir=str(outdir),
            stack_traces=False,
            builtin_cloud_formation_validation=False,
        )
        platform = build_platform(app, config)
        _CACHE[env_name] = SynthesizedPlatform(config, platform, app.synth(), outdir)
    return _CACHE[env_name]


@pytest.fixture(scope="session")
def platforms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedPlatform]:
    """Every environment of ``config/``, synthesized once."""
    return {name: synthesize(name, tmp_path_factory.mktemp(f"cdk-{name}")) for name in ENVIRONMENTS}


@pytest.fixture(scope="session")
def sandbox(platforms: dict[str, SynthesizedPlatform]) -> SynthesizedPlatform:
    return platforms["sandbox"]

"""Synthesize an environment with a generated catalogue of N models (the scale gate).

``python -m scripts.scale_gate <env> <outdir> [--models 100]`` writes the configuration
(``scripts.scaled_catalogue``) under ``<outdir>/config`` and synthesizes the environment's
app into ``<outdir>/cdk.out`` as ``app.py`` would (compliance packs included; CDK's own
template validation off, as in the other in-process test apps), then prints the limits
report (``scripts.platform_limits``). Exits 1 when a limit is exceeded or synth fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def synthesize(env_name: str, outdir: Path, models: int) -> Path:
    """Write the scaled configuration and synthesize it; return the cloud assembly's path."""
    os.environ["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
    import aws_cdk as cdk

    from platform_config import load_environment
    from scripts.scaled_catalogue import write_scaled_config
    from stacks import build_platform
    from stacks.platform_app import APP_CONTEXT

    config_dir = write_scaled_config(models, outdir / "config")
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    context.pop("env", None)
    app = cdk.App(
        context={**APP_CONTEXT, **context},
        outdir=str(outdir / "cdk.out"),
        stack_traces=False,
        builtin_cloud_formation_validation=False,
    )
    build_platform(app, load_environment(env_name, config_dir))
    app.synth()
    return outdir / "cdk.out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--models", type=int, default=100)
    arguments = parser.parse_args()
    started = time.monotonic()
    assembly = synthesize(arguments.environment, arguments.outdir, arguments.models)
    print(f"synthesized {arguments.models} models in {time.monotonic() - started:.1f} s")
    from scripts.platform_limits import main as limits_report

    return limits_report([str(assembly)])


if __name__ == "__main__":
    sys.exit(main())

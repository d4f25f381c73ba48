#!/usr/bin/env python3
"""CDK entry point: the ML platform of one environment (``cdk synth -c env=<name>``).

The environment defaults to ``sandbox`` (``cdk.json``). A configuration error stops synth
with exit code 2 and one line naming the file, the field, the value and what is allowed.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from ml_constructs import add_compliance_checks
from platform_config import ConfigError, load_environment
from stacks import MlPlatform

CONFIG_ERROR_EXIT_CODE = 2


def main() -> None:
    """Build and synthesize the app for the environment named in the ``env`` context."""
    app = cdk.App(stack_traces=False)
    env_name = app.node.try_get_context("env") or "sandbox"
    try:
        config = load_environment(str(env_name))
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(CONFIG_ERROR_EXIT_CODE)
    add_compliance_checks(app)
    MlPlatform(app, construct_id_of(config.name), config=config)
    app.synth()


def construct_id_of(env_name: str) -> str:
    """``staging`` -> ``Staging``, ``eu-prod`` -> ``EuProd``: the environment's construct id."""
    return "".join(part.capitalize() for part in env_name.split("-"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CDK entry point: the ML platform of one environment (``cdk synth -c env=<name>``).

The environment defaults to ``sandbox`` (``cdk.json``); ``-c config_dir=<path>`` reads the
configuration from another folder. A configuration error stops synth with exit code 2 and
one line naming the file, the field, the value and what is allowed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from platform_config import ConfigError, load_environment
from platform_config.__main__ import CONFIG_ERROR_EXIT_CODE
from platform_config.loader import DEFAULT_CONFIG_DIR
from stacks.platform_app import APP_CONTEXT, build_platform


def main() -> None:
    """Build and synthesize the app for the environment named in the ``env`` context."""
    app = cdk.App(stack_traces=False, context=APP_CONTEXT)
    env_name = str(app.node.try_get_context("env") or "sandbox")
    config_dir = Path(app.node.try_get_context("config_dir") or DEFAULT_CONFIG_DIR)
    try:
        config = load_environment(env_name, config_dir)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(CONFIG_ERROR_EXIT_CODE)
    build_platform(app, config)
    app.synth()


if __name__ == "__main__":
    main()

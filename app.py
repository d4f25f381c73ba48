#!/usr/bin/env python3
"""CDK entry point: the ML platform of one environment (``cdk synth -c env=<name>``).

The environment defaults to ``sandbox`` (``cdk.json``); ``-c config_dir=<path>`` reads the
configuration from another folder. ``-c delivery=true`` builds the delivery pipeline
(``config/delivery.yaml``) in the tooling account instead of one environment. A
configuration error stops synth with exit code 2 and one line naming the file, the field,
the value and what is allowed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from platform_config import ConfigError, load_environment
from platform_config.__main__ import CONFIG_ERROR_EXIT_CODE
from platform_config.delivery import load_delivery
from platform_config.loader import DEFAULT_CONFIG_DIR
from stacks.delivery_stack import build_delivery
from stacks.platform_app import APP_CONTEXT, build_platform


def main() -> None:
    """Build and synthesize the environment named in ``env``, or the delivery pipeline."""
    app = cdk.App(stack_traces=False, context=APP_CONTEXT)
    env_name = str(app.node.try_get_context("env") or "sandbox")
    config_dir = Path(app.node.try_get_context("config_dir") or DEFAULT_CONFIG_DIR)
    delivery = str(app.node.try_get_context("delivery") or "false").lower() in {"true", "1"}
    try:
        if delivery:
            build_delivery(app, load_delivery(config_dir))
        else:
            build_platform(app, load_environment(env_name, config_dir))
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(CONFIG_ERROR_EXIT_CODE)
    app.synth()


if __name__ == "__main__":
    main()

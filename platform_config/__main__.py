"""Validate environment files: ``python -m platform_config [--config-dir DIR] [ENV ...]``.

Runs the rules synth runs before it builds anything (default: every environment of the
folder, ``config/`` unless ``--config-dir`` names another). Prints one line per
environment; on the first invalid one, prints its error on one line to standard error and
exits with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from platform_config.base import ConfigError
from platform_config.loader import DEFAULT_CONFIG_DIR, available_environments, load_environment

CONFIG_ERROR_EXIT_CODE = 2
USAGE_EXIT_CODE = 64


def main(argv: list[str]) -> int:
    """Validate the environments named in ``argv`` (all when none); the exit code."""
    config_dir = DEFAULT_CONFIG_DIR
    names = list(argv)
    if names[:1] == ["--config-dir"]:
        if len(names) < 2:
            print("usage: python -m platform_config [--config-dir DIR] [ENV ...]", file=sys.stderr)
            return USAGE_EXIT_CODE
        config_dir, names = Path(names[1]), names[2:]
    for name in names or available_environments(config_dir):
        try:
            config = load_environment(name, config_dir)
        except ConfigError as error:
            print(f"configuration error: {error}", file=sys.stderr)
            return CONFIG_ERROR_EXIT_CODE
        print(f"{name}: valid ({config.account} {config.region}, {len(config.models)} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

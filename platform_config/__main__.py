"""Validate environment files: ``python -m platform_config [ENV ...]`` (default: all).

Prints one line per environment; on the first invalid one, prints its error on one line to
standard error and exits with code 2.
"""

from __future__ import annotations

import sys

from platform_config.loader import ConfigError, available_environments, load_environment

CONFIG_ERROR_EXIT_CODE = 2


def main(argv: list[str]) -> int:
    for name in argv or available_environments():
        try:
            config = load_environment(name)
        except ConfigError as error:
            print(f"configuration error: {error}", file=sys.stderr)
            return CONFIG_ERROR_EXIT_CODE
        print(f"{name}: valid ({config.account} {config.region}, {len(config.models)} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

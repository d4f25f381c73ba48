"""A generated model catalogue of N entries, for the scale gate and synth-time measurements.

The sample catalogue's entries come first, unchanged (so the environments' overrides still
apply), then copies of them, round-robin, named ``<name>-<NNN>``: every kind of pipeline,
every kind of serving, every fleet and every monitor of the sample catalogue appears
``N / 5`` times. ``python -m scripts.scaled_catalogue 100 /tmp/config-100`` writes a
configuration folder (the repository's ``config/`` with the generated ``models.yaml``) that
``cdk synth -c config_dir=/tmp/config-100`` reads.
"""

from __future__ import annotations

import argparse
import copy
import shutil
from pathlib import Path
from typing import Any

import yaml

from platform_config.loader import CATALOGUE_FILE, DEFAULT_CONFIG_DIR


def scaled_catalogue(count: int, source: Path = DEFAULT_CONFIG_DIR) -> dict[str, Any]:
    """The sample catalogue grown to ``count`` models (at least the sample's own)."""
    catalogue = yaml.safe_load((source / CATALOGUE_FILE).read_text(encoding="utf-8"))
    sample = catalogue["models"]
    models = [copy.deepcopy(entry) for entry in sample]
    index = 0
    while len(models) < count:
        entry = copy.deepcopy(sample[index % len(sample)])
        entry["name"] = f"{entry['name']}-{index // len(sample) + 1:03d}"
        models.append(entry)
        index += 1
    return {**catalogue, "models": models}


def write_scaled_config(count: int, target: Path, source: Path = DEFAULT_CONFIG_DIR) -> Path:
    """Copy ``source`` to ``target`` with a catalogue of ``count`` models; return ``target``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    text = yaml.safe_dump(scaled_catalogue(count, source), sort_keys=False, width=100)
    (target / CATALOGUE_FILE).write_text(text, encoding="utf-8")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of models")
    parser.add_argument("target", type=Path, help="folder to write the configuration into")
    arguments = parser.parse_args()
    print(write_scaled_config(arguments.count, arguments.target))


if __name__ == "__main__":
    main()

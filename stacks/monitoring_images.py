"""Image URIs of Model Monitor's containers, per region, read offline.

The ``sagemaker`` SDK ships the account of each AWS-owned image repository per region as
JSON (``sagemaker/core/image_uri_config``); this reads those files without importing the
SDK (which is slow to import), so the URIs follow the pinned SDK version.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _config(name: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sagemaker SDK is not installed: run `make setup`")
    path = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config"
    return json.loads((path / f"{name}.json").read_text())  # type: ignore[no-any-return]


def _uri(entry: dict[str, Any], region: str, what: str) -> str:
    registries = entry["registries"]
    if region not in registries:
        raise ValueError(
            f"{what} has no image in region {region} (regions: {', '.join(sorted(registries))})"
        )
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{registries[region]}.dkr.ecr.{region}.{domain}/{entry['repository']}"


def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer (data and model quality) in ``region``."""
    return _uri(_config("model-monitor")["versions"][""], region, "Model Monitor") + ":latest"


def clarify_image(region: str) -> str:
    """SageMaker Clarify's processing image (bias and explainability) in ``region``."""
    return _uri(_config("clarify")["processing"]["versions"]["1.0"], region, "Clarify") + ":1.0"

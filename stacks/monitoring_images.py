"""Image URIs of Model Monitor's containers, per region, from the container image table.

The table (``platform_config/container_images.yaml``) records the registry account of
each region for every image the platform runs; see ``docs/images.md``.
"""

from __future__ import annotations

from platform_config.container_images import image

#: The Model Monitor analyzer (AWS publishes only ``latest``) and Clarify's processing image.
MODEL_MONITOR = "sagemaker-model-monitor-analyzer:latest"
CLARIFY = "sagemaker-clarify-processing:1.0"


def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer (data and model quality) in ``region``."""
    return image(MODEL_MONITOR).uri(region)


def clarify_image(region: str) -> str:
    """SageMaker Clarify's processing image (bias and explainability) in ``region``."""
    return image(CLARIFY).uri(region)

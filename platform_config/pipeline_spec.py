"""How a model of the catalogue is trained: its SageMaker pipeline (``pipeline:`` key)."""

from __future__ import annotations

from platform_config.base import Frozen


class PipelineSpec(Frozen):
    """The model's training pipeline (default: the tabular training pipeline)."""

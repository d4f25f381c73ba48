"""How a model of the catalogue is served: its endpoint (``serving:`` key)."""

from __future__ import annotations

from platform_config.base import Frozen


class ServingSpec(Frozen):
    """The model's endpoint."""

"""A real-time endpoint of one model: instance-backed variants, shadow variants, capture."""

from __future__ import annotations

from typing import ClassVar

from ml_constructs.model_endpoint import ModelEndpoint
from platform_config.serving_spec import EndpointKind


class RealTimeEndpoint(ModelEndpoint):
    """A real-time endpoint (``kind: real_time``): one or more production variants on
    instances (A/B tests by weight), an optional shadow variant, optional data capture, and
    the blue/green or rolling deployment of ``spec.deployment``.

    Parameters and attributes are those of :class:`~ml_constructs.model_endpoint.ModelEndpoint`.
    """

    KINDS: ClassVar[tuple[EndpointKind, ...]] = (EndpointKind.REAL_TIME,)

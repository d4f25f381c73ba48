"""An environment's serving defaults (``serving_defaults:``) and when a model scales to zero.

A real-time model is served on an inference component of an endpoint with managed instance
scaling down to zero instances (``ml_constructs.InferenceComponentEndpoint``) when its
``serving.scale_to_zero`` is ``true`` or, left unset, when the environment's
``serving_defaults.scale_to_zero`` is on and SageMaker allows it for that model
(:func:`~platform_config.serving_spec.scale_to_zero_blocker`, which the ``ServingSpec``
validator also calls): one production variant, no shadow variant, no data capture
(the SageMaker SDK's inference-component deployment passes no data capture configuration,
and Model Monitor documents support for endpoints that host a single model), no autoscaling
floor above zero, and a deployment that rolls copies rather than shifting traffic between
fleets. A model that asks for it explicitly where it is not allowed is a one-line error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from platform_config.base import FieldError, Frozen
from platform_config.model_spec import ModelSpec
from platform_config.serving_spec import ServingSpec, scale_to_zero_blocker

__all__ = [
    "INSTANCE_SIZES_FILE",
    "InstanceSize",
    "ServingDefaults",
    "check_scale_to_zero",
    "instance_sizes",
    "scales_to_zero",
]

#: vCPUs, memory and accelerator devices of each hosting instance type (source inside).
INSTANCE_SIZES_FILE = Path(__file__).resolve().parent / "instance_sizes.yaml"


class ServingDefaults(Frozen):
    """Serving settings of an environment that a model's own ``serving:`` may override.

    Attributes
    ----------
    scale_to_zero:
        Serve every real-time model that SageMaker allows on an inference component whose
        endpoint scales down to zero instances when idle and back up on the first requests
        (default off: warm capacity; the sandbox and dev turn it on, staging and prod keep
        it off by choice). A model's ``serving.scale_to_zero`` overrides it.
    """

    scale_to_zero: bool = False


@dataclass(frozen=True)
class InstanceSize:
    """What one instance of a hosting type offers (``instance_sizes.yaml``).

    Attributes
    ----------
    vcpus:
        vCPUs.
    memory_gib:
        Memory, GiB.
    accelerators:
        Accelerator devices: NVIDIA GPUs, or NeuronCores (two per Inferentia2 or Trainium
        chip); default 0 for CPU types.
    """

    vcpus: int
    memory_gib: int
    accelerators: int = 0


@cache
def instance_sizes() -> dict[str, InstanceSize]:
    """The instance size table (``instance_sizes.yaml``), by instance type."""
    data = yaml.safe_load(INSTANCE_SIZES_FILE.read_text(encoding="utf-8"))
    return {name: InstanceSize(**size) for name, size in data["types"].items()}


def scales_to_zero(spec: ServingSpec, defaults: ServingDefaults) -> bool:
    """Whether ``spec`` is served on a scale-to-zero inference component in an environment
    with ``defaults``: its own ``scale_to_zero`` if set (validated), else the default
    wherever SageMaker allows it."""
    if spec.scale_to_zero is not None:
        return spec.scale_to_zero
    return defaults.scale_to_zero and scale_to_zero_blocker(spec) is None


def check_scale_to_zero(models: Sequence[ModelSpec], defaults: ServingDefaults) -> None:
    """Every model that scales to zero has an instance type of known size.

    Raises
    ------
    FieldError
        On ``models[<i>].serving.instance_type``.
    """
    sizes = instance_sizes()
    for index, model in enumerate(models):
        serving = model.serving
        if serving is None or not scales_to_zero(serving, defaults):
            continue
        variant = serving.production_variants[0]
        instance_type = serving.variant_instance_type(variant)
        if instance_type not in sizes:
            field = "variants[0].instance_type" if variant.instance_type else "instance_type"
            raise FieldError(
                f"models[{index}].serving.{field}",
                instance_type,
                "has no size in platform_config/instance_sizes.yaml, which sizes the inference"
                " component of a model that scales to zero (add it there, or set"
                " serving.scale_to_zero: false)",
            )

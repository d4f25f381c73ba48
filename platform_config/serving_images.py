"""A served model's image: one AWS publishes for the region, and one that fits its fleet.

:func:`check_serving_image` is called with the environment's region by
``aws_rules.check_serving_regions``, once per model of the catalogue. It checks the
``serving.image_uri`` override against the container image table
(``platform_config/container_images.yaml``) and, for an LMI Neuron image, the
``serving.llm`` settings against the instance types (:mod:`llm_serving_spec`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from platform_config.aws_facts import Accelerator
from platform_config.base import FieldError
from platform_config.container_images import (
    ContainerImage,
    container_images,
    instance_accelerator,
    neuron_sdk_line,
    published_image,
)
from platform_config.foundation_models import foundation_models
from platform_config.llm_serving_spec import (
    DTYPE_BYTES,
    NEURON_CORE_MEMORY_GIB,
    NEURON_CORES,
    LlmServingSpec,
)
from platform_config.model_spec import ModelSpec
from platform_config.serving_spec import ServingSpec

#: The model server of the LMI images for Inferentia2 and Trainium (the table's ``server``).
LMI_NEURONX = "lmi-neuronx"


def check_serving_image(field: str, model: ModelSpec, region: str) -> None:
    """Reject an image override or LLM settings that would not deploy or would not serve.

    ``field`` is the model's serving path (``models[3].serving``).

    Raises
    ------
    FieldError
        One line: the image is not in the table, not this region's registry, not for the
        instance types served, not on the Neuron SDK line the pipeline trains with; or the
        LLM settings do not fit the instance types.
    """
    serving: ServingSpec | None = model.serving
    if serving is None:
        return
    image = None
    if serving.image_uri is not None:
        try:
            image = published_image(serving.image_uri, region)
        except ValueError as error:
            raise FieldError(f"{field}.image_uri", serving.image_uri, str(error)) from None
        _check_accelerators(f"{field}.image_uri", serving, image)
        _check_neuron_sdk(f"{field}.image_uri", model, image)
    if image is not None and image.server == LMI_NEURONX:
        if serving.kind.value not in ("real_time", "async"):
            raise FieldError(
                f"{field}.image_uri",
                serving.image_uri,
                f"is an LMI server for real_time or async endpoints (this is {serving.kind.value})",
            )
        _check_llm(f"{field}.llm", model, serving.llm or LlmServingSpec())
    elif serving.llm is not None:
        lmi = sorted(
            ref for ref, found in container_images().items() if found.server == LMI_NEURONX
        )
        raise FieldError(
            f"{field}.llm",
            {},
            "needs image_uri to be an LMI Neuron image of the container image table"
            f" ({', '.join(lmi)})",
        )


def _instance_types(serving: ServingSpec) -> Sequence[str]:
    # Serverless endpoints run on CPU, with no instance type of their own.
    types = [instance_type for _, instance_type in serving.instance_types()]
    return types or (["ml.m5.large"] if serving.kind.value == "serverless" else [])


def _check_accelerators(field: str, serving: ServingSpec, image: ContainerImage) -> None:
    runs_on = image.jobs.get("inference", frozenset())
    for instance_type in _instance_types(serving):
        accelerator = instance_accelerator(instance_type)
        if accelerator not in runs_on:
            what = "serverless (CPU)" if serving.kind.value == "serverless" else instance_type
            raise FieldError(
                field,
                serving.image_uri,
                f"is an image for {_names(runs_on)} inference and cannot serve on {what}"
                f" ({accelerator.value if accelerator else 'Inferentia1'})",
            )


def _check_neuron_sdk(field: str, model: ModelSpec, image: ContainerImage) -> None:
    base_model = getattr(model.pipeline, "base_model", None)
    trained = foundation_models()[base_model].training_image if base_model else None
    if image.neuron_sdk is None or trained is None or trained.neuron_sdk is None:
        return
    if neuron_sdk_line(image.neuron_sdk) != neuron_sdk_line(trained.neuron_sdk):
        raise FieldError(
            field,
            model.serving.image_uri if model.serving else None,
            f"serves with Neuron SDK {image.neuron_sdk}, but the pipeline trains {base_model}"
            f" with {trained.neuron_sdk}: use an image of the {neuron_sdk_line(trained.neuron_sdk)}"
            " line",
        )


def _check_llm(field: str, model: ModelSpec, llm: LlmServingSpec) -> None:
    serving = model.serving
    assert serving is not None
    base_model = getattr(model.pipeline, "base_model", None)
    parameters = foundation_models()[base_model].parameters_billions if base_model else None
    for instance_type in _instance_types(serving):
        cores = NEURON_CORES.get(instance_type)
        if cores is None:
            raise FieldError(
                field, {}, f"has no NeuronCore count for {instance_type} (known: {_known()})"
            )
        degree = llm.tensor_parallel_degree_on(instance_type)
        if cores % degree:
            divisors = ", ".join(str(d) for d in range(1, cores + 1) if cores % d == 0)
            raise FieldError(
                f"{field}.tensor_parallel_degree",
                degree,
                f"does not fit {instance_type} ({cores} NeuronCores; allowed: {divisors})",
            )
        if parameters is not None:
            weights_gib = parameters * 1e9 * DTYPE_BYTES[llm.dtype] / 2**30
            needed = math.ceil(weights_gib / NEURON_CORE_MEMORY_GIB)
            if needed > degree:
                raise FieldError(
                    f"{field}.tensor_parallel_degree",
                    degree,
                    f"is too small for {base_model} on {instance_type}: its {llm.dtype} weights"
                    f" ({weights_gib:.1f} GiB) need at least {needed} NeuronCores"
                    f" ({NEURON_CORE_MEMORY_GIB} GiB each)",
                )


def _names(accelerators: frozenset[Accelerator]) -> str:
    return "/".join(sorted(a.value for a in accelerators)) or "no"


def _known() -> str:
    return ", ".join(NEURON_CORES)

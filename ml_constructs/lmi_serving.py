"""LMI (DJL Serving) on Inferentia2 and Trainium: the container's environment and timeouts.

Pure functions of the catalogue entry (:class:`~platform_config.llm_serving_spec.LlmServingSpec`)
and the instance type; :class:`~ml_constructs.model_endpoint.ModelEndpoint` applies them to
the model's container and the production variant when it serves an LMI Neuron image.

The names are LMI's own (djl-serving ``serving/docs/lmi``, v12, the last that documents
the Neuron container): ``option.<name>`` is read from the environment variable
``OPTION_<NAME>``. The model artifacts are the package's ``model.tar.gz``, which SageMaker
unpacks to ``/opt/ml/model``. Transformers NeuronX compiles the model for
``n_positions`` tokens and the tensor-parallel degree when it loads; LMI runs one model copy
per group of ``tensor_parallel_degree`` NeuronCores, and its rolling batch (``auto``:
Transformers NeuronX continuous batching) serves up to ``max_rolling_batch_size`` requests
per copy. SageMaker waits for the container's ``/ping`` for
``ContainerStartupHealthCheckTimeoutInSeconds``: LMI's documentation asks for at least the
model loading timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from platform_config.container_images import container_images, parse_image_uri
from platform_config.llm_serving_spec import LlmServingSpec
from platform_config.serving_images import LMI_NEURONX
from platform_config.serving_spec import ServingSpec

#: Where SageMaker unpacks the model package's artifacts in the container.
MODEL_DIRECTORY = "/opt/ml/model"
#: LMI's handler for Transformers NeuronX.
NEURONX_ENTRYPOINT = "djl_python.transformers_neuronx"
#: Seconds the startup health check waits beyond the model loading timeout.
STARTUP_MARGIN_SECONDS = 300


@dataclass(frozen=True)
class VariantTimeouts:
    """Timeouts of the production variant serving the model (CreateEndpointConfig).

    Attributes
    ----------
    container_startup_health_check_seconds:
        ``ContainerStartupHealthCheckTimeoutInSeconds``: LMI's model loading timeout and
        :data:`STARTUP_MARGIN_SECONDS`.
    model_data_download_seconds:
        ``ModelDataDownloadTimeoutInSeconds``.
    """

    container_startup_health_check_seconds: int
    model_data_download_seconds: int


def llm_settings(spec: ServingSpec, image: str | None) -> LlmServingSpec | None:
    """The LMI settings when ``image`` is an LMI Neuron image of the table, else ``None``."""
    parts = parse_image_uri(image) if image else None
    found = container_images().get(parts.reference) if parts else None
    if found is None or found.server != LMI_NEURONX:
        return None
    return spec.llm or LlmServingSpec()


def lmi_environment(*, instance_type: str, settings: LlmServingSpec) -> dict[str, str]:
    """The container environment that serves the model on ``instance_type``.

    Raises
    ------
    KeyError
        ``instance_type`` is not an Inferentia2 or Trainium type (the configuration
        rejects it first).
    """
    return {
        "HF_MODEL_ID": MODEL_DIRECTORY,
        "OPTION_ENTRYPOINT": NEURONX_ENTRYPOINT,
        "OPTION_ROLLING_BATCH": "auto",
        "OPTION_TENSOR_PARALLEL_DEGREE": str(settings.tensor_parallel_degree_on(instance_type)),
        "OPTION_N_POSITIONS": str(settings.max_sequence_length),
        "OPTION_MAX_ROLLING_BATCH_SIZE": str(settings.batch_size),
        "OPTION_DTYPE": settings.dtype,
        "OPTION_MODEL_LOADING_TIMEOUT": str(settings.model_loading_timeout_seconds),
    }


def lmi_variant_timeouts(settings: LlmServingSpec) -> VariantTimeouts:
    """The production variant's startup health check and model download timeouts."""
    return VariantTimeouts(
        container_startup_health_check_seconds=(
            settings.model_loading_timeout_seconds + STARTUP_MARGIN_SECONDS
        ),
        model_data_download_seconds=settings.model_download_timeout_seconds,
    )

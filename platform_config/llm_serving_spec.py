"""How a large language model is served by LMI (DJL Serving) on Inferentia2 or Trainium.

``serving.llm`` of a catalogue entry whose ``image_uri`` is an LMI Neuron image of the
container image table (``server: lmi-neuronx``); every field has a default, so the entry may
leave it out. ``ml_constructs.lmi_serving`` turns it into the container's environment and
the production variant's timeouts; ``docs/images.md`` shows the result per instance type.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from platform_config.base import Frozen

#: NeuronCores per instance type: two NeuronCore-v2 per Inferentia2 or Trainium chip, and
#: 1, 1, 6 or 12 chips in inf2.xlarge, .8xlarge, .24xlarge, .48xlarge; 1 or 16 in
#: trn1.2xlarge and trn1(n).32xlarge (AWS Neuron documentation, "Amazon EC2 Inf2
#: Architecture" and "Amazon EC2 Trn1/Trn1n Architecture").
NEURON_CORES = {
    "ml.inf2.xlarge": 2,
    "ml.inf2.8xlarge": 2,
    "ml.inf2.24xlarge": 12,
    "ml.inf2.48xlarge": 24,
    "ml.trn1.2xlarge": 2,
    "ml.trn1.32xlarge": 32,
    "ml.trn1n.32xlarge": 32,
}
#: Device memory (HBM) of one NeuronCore-v2: 32 GiB per chip, two cores per chip.
NEURON_CORE_MEMORY_GIB = 16
#: Bytes per parameter of each ``dtype``.
DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}


class LlmServingSpec(Frozen):
    """LMI's settings for one model (the ``serving.llm`` key).

    Attributes
    ----------
    tensor_parallel_degree:
        NeuronCores one copy of the model is sharded across (default: every NeuronCore of
        the instance type, e.g. 2 on ml.inf2.xlarge, 24 on ml.inf2.48xlarge). Must divide
        the instance's NeuronCores; LMI runs one copy per group of that many cores.
    max_sequence_length:
        Prompt plus generated tokens, at most (default 4096; 128 to 32768). The model is
        compiled for this length when it loads.
    batch_size:
        Requests one model copy works on at once, by continuous (rolling) batching
        (default 8; 1 to 256).
    dtype:
        ``bf16`` (default: the precision Llama-family weights are trained in), ``fp16`` or
        ``fp32``.
    model_loading_timeout_seconds:
        How long LMI may take to load and compile the model (default 1800; 60 to 3300);
        SageMaker's startup health check waits 300 seconds longer.
    model_download_timeout_seconds:
        How long SageMaker may take to copy the model from S3 to the instance (default
        1200; 60 to 3600).
    """

    tensor_parallel_degree: int | None = Field(default=None, ge=1, le=32)
    max_sequence_length: int = Field(default=4096, ge=128, le=32768)
    batch_size: int = Field(default=8, ge=1, le=256)
    dtype: Literal["bf16", "fp16", "fp32"] = "bf16"
    model_loading_timeout_seconds: int = Field(default=1800, ge=60, le=3300)
    model_download_timeout_seconds: int = Field(default=1200, ge=60, le=3600)

    def tensor_parallel_degree_on(self, instance_type: str) -> int:
        """The degree on ``instance_type`` (every NeuronCore unless set)."""
        return self.tensor_parallel_degree or NEURON_CORES[instance_type]

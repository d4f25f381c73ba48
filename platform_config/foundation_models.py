"""The foundation models a fine-tuning pipeline may start from, pinned in the repository.

``foundation_models.json`` (beside this module) holds, per JumpStart model id, what a
training job needs: the training image, the script archive and the model weights in the
region's JumpStart bucket, the hyperparameter names of its script, the accelerator and
the instance types it supports, its size, and whether its licence must be accepted.
Nothing here fetches JumpStart metadata: the SDK would download the model's spec from S3
at synth.

The images are entries of the container image table (:mod:`container_images`); one file
of the ``sagemaker`` package is read as data (no import of the SDK, so the configuration
can use this module cheaply): ``core/jumpstart/region_config.json`` for the JumpStart
bucket of each region.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from platform_config.container_images import ContainerImage, image

CATALOGUE_FILE = Path(__file__).resolve().parent / "foundation_models.json"


@dataclass(frozen=True, kw_only=True)
class FoundationModel:
    """One entry of ``foundation_models.json``.

    Parameters
    ----------
    description:
        What the model is, in a few words (shown in the configuration reference).
    model_id:
        The JumpStart model id, e.g. ``"meta-textgeneration-llama-3-2-1b"``.
    accelerator:
        ``"gpu"`` (NVIDIA, ``ml.g*``/``ml.p*``) or ``"neuron"`` (Trainium, ``ml.trn*``).
    instance_types:
        Training instance types its script supports.
    gated:
        Its licence must be accepted (``accept_eula: true`` in the model's config).
    parameters_billions:
        Its size, in billions of parameters.
    training_image, inference_image:
        :class:`~container_images.ContainerImage` of the training job and of the
        registered model.
    inference_instance_types:
        Real-time instance types recorded on the model package.
    source_key, artifacts_key:
        Keys of the script archive and of the weights in the region's JumpStart bucket.
    entry_point:
        The script inside the archive.
    epochs_hyperparameter, batch_size_hyperparameter:
        Hyperparameter names the script reads for the epochs and the batch size.
    """

    model_id: str
    description: str
    accelerator: str
    instance_types: tuple[str, ...]
    inference_instance_types: tuple[str, ...]
    gated: bool
    parameters_billions: float
    training_image: ContainerImage
    inference_image: ContainerImage
    source_key: str
    artifacts_key: str
    entry_point: str
    epochs_hyperparameter: str
    batch_size_hyperparameter: str

    def source_uri(self, region: str) -> str:
        """The training script archive, in the region's public JumpStart bucket."""
        return f"s3://{_jumpstart_bucket(region, gated=False)}/{self.source_key}"

    def artifacts_uri(self, region: str) -> str:
        """The weights, in the region's JumpStart bucket (the private one if gated)."""
        return f"s3://{_jumpstart_bucket(region, gated=self.gated)}/{self.artifacts_key}"


@cache
def foundation_models() -> dict[str, FoundationModel]:
    """Every pinned foundation model, by JumpStart model id."""
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    models = {}
    for model_id, entry in data["models"].items():
        models[model_id] = FoundationModel(
            model_id=model_id,
            description=entry["description"],
            accelerator=entry["accelerator"],
            instance_types=tuple(entry["instance_types"]),
            inference_instance_types=tuple(entry["inference_instance_types"]),
            gated=bool(entry["gated"]),
            parameters_billions=float(entry["parameters_billions"]),
            training_image=image(entry["training_image"]),
            inference_image=image(entry["inference_image"]),
            source_key=entry["source_key"],
            artifacts_key=entry["artifacts_key"],
            entry_point=entry["entry_point"],
            epochs_hyperparameter=entry["epochs_hyperparameter"],
            batch_size_hyperparameter=entry["batch_size_hyperparameter"],
        )
    return models


def _jumpstart_bucket(region: str, *, gated: bool) -> str:
    regions = _sdk_data("core/jumpstart/region_config.json")
    if region not in regions:
        raise ValueError(f"SageMaker JumpStart has no content bucket in region {region!r}")
    return str(regions[region]["gated_content_bucket" if gated else "content_bucket"])


@cache
def _sdk_data(relative: str) -> Any:
    """A JSON data file of the installed ``sagemaker`` package, read without importing it."""
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("the sagemaker package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return json.loads(path.read_text(encoding="utf-8"))

"""Facts about AWS that the configuration is checked against, read from ``aws_facts.json``.

The file is generated (``python -m scripts.regenerate_aws_facts``) from pinned packages,
whose versions it records: SageMaker's regions (botocore's endpoint data), the instance
types its API accepts per kind of job (botocore's service model), the instance types
offered per region (the AWS Price List as collected by cfn-lint) and where each built-in
kind of pipeline and monitor cannot be built (the ``sagemaker`` SDK's image tables,
through the project's builders). A new instance type or region is a change of that file, not of code.

What no pinned package says is written here, once, for every layer: which instance
families have NVIDIA GPUs or AWS Neuron chips (:func:`instance_accelerator`) and which
come with local NVMe storage (:func:`has_local_storage`), from the EC2 instance type
specifications (https://aws.amazon.com/ec2/instance-types/).

Each ``*_problem`` function returns what is wrong as a message that reads after the value
(``'ml.m5.huge' is not an instance type ...``), or ``None``.
"""

from __future__ import annotations

import difflib
import enum
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

FACTS_FILE = Path(__file__).resolve().parent / "aws_facts.json"
REGENERATE = "python -m scripts.regenerate_aws_facts"
#: How to list the regions where SageMaker is offered, for an error message.
LIST_REGIONS = (
    "aws ssm get-parameters-by-path --path"
    " /aws/service/global-infrastructure/services/sagemaker/regions --query Parameters[].Value"
)


class JobKind(str, enum.Enum):
    """What an instance type is for; each has its own list in the SageMaker API."""

    ENDPOINT = "endpoint"
    BATCH_TRANSFORM = "batch_transform"
    TRAINING = "training"
    PROCESSING = "processing"
    MONITORING = "monitoring"
    STUDIO_APP = "studio_app"

    @property
    def described(self) -> str:
        """The kind in words, for messages."""
        return {
            "endpoint": "endpoints (real-time and asynchronous)",
            "batch_transform": "batch transform jobs",
            "training": "training jobs",
            "processing": "processing jobs",
            "monitoring": "Model Monitor jobs",
            "studio_app": "Studio apps (JupyterLab, Code Editor)",
        }[self.value]


class Accelerator(str, enum.Enum):
    """What an instance computes with, as far as a container image is concerned."""

    CPU = "cpu"
    GPU = "gpu"
    NEURON = "neuron"


#: Families with NVIDIA GPUs (the EC2 accelerated-computing ``g`` and ``p`` families).
GPU_FAMILIES = frozenset(
    {
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "g7",
        "g7e",
        "p2",
        "p3",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "p6-b200",
        "p6-b300",
        "p6e-gb200",
    }
)
#: Families with AWS Neuron chips: Inferentia and Trainium.
NEURON_FAMILIES = frozenset({"inf1", "inf2", "trn1", "trn1n", "trn2"})
#: Of those, the NeuronCore-v1 family: it runs neither CUDA nor ``neuronx`` images.
NEURON_V1_FAMILIES = frozenset({"inf1"})
#: Families with local NVMe instance storage, which SageMaker encrypts with a hardware key:
#: it refuses a volume KMS key for them (``VolumeKmsKeyId`` of training, processing and
#: transform jobs; ``KmsKeyId`` of an endpoint config). A ``d`` after the generation
#: (``m5d``, ``c6gd``, ``g4dn``, ``p4d``) or a family sold only with instance storage.
LOCAL_STORAGE_FAMILIES = frozenset(
    {
        "c5d",
        "c6gd",
        "c6id",
        "m5d",
        "m6gd",
        "m6id",
        "r5d",
        "r6gd",
        "r6id",
        "r7gd",
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "trn1",
        "trn1n",
        "trn2",
    }
)


def instance_family(instance_type: str) -> str:
    """``ml.g5.xlarge`` -> ``g5``."""
    return instance_type.split(".")[1]


def instance_accelerator(instance_type: str) -> Accelerator:
    """``ml.g5.xlarge`` -> GPU, ``ml.inf2.xlarge`` -> NEURON, ``ml.m5.large`` -> CPU."""
    family = instance_family(instance_type)
    if family in GPU_FAMILIES:
        return Accelerator.GPU
    return Accelerator.NEURON if family in NEURON_FAMILIES else Accelerator.CPU


def has_local_storage(instance_type: str) -> bool:
    """Whether the type has local NVMe storage (and SageMaker refuses a volume KMS key)."""
    return instance_family(instance_type) in LOCAL_STORAGE_FAMILIES


def is_burstable(instance_type: str) -> bool:
    """``ml.t2.*``, ``ml.t3.*``: CPU credits that run out under sustained load."""
    return re.fullmatch(r"t\d+[a-z]*", instance_family(instance_type)) is not None


@cache
def facts() -> dict[str, Any]:
    """The whole facts file."""
    data: dict[str, Any] = json.loads(FACTS_FILE.read_text(encoding="utf-8"))  # a JSON object
    return data


def source(package: str) -> str:
    """``botocore 1.44.8``: a package the facts came from, with its version."""
    return f"{package} {facts()['sources'][package]}"


@cache
def sagemaker_regions() -> frozenset[str]:
    """Regions with a SageMaker API endpoint."""
    return frozenset(facts()["regions"])


@cache
def accepted_instance_types(kind: JobKind) -> frozenset[str]:
    """Instance types the SageMaker API accepts for ``kind``."""
    return frozenset(facts()["instance_types"][kind.value]["types"])


@cache
def offered_instance_types(kind: JobKind, region: str) -> frozenset[str] | None:
    """Instance types offered for ``kind`` in ``region``; ``None`` where no data says."""
    offer = facts()["regional_offer"].get(kind.value)
    if offer is None or region not in offer["regions"]:
        return None
    return frozenset(offer["regions"][region])


@cache
def _priced_instance_types(kind: JobKind) -> frozenset[str]:
    """Instance types the price list knows in some region (others: too new for it)."""
    offer = facts()["regional_offer"].get(kind.value)
    if offer is None:
        return frozenset()
    return frozenset(t for types in offer["regions"].values() for t in types)


def region_problem(region: str) -> str | None:
    """Why ``region`` cannot host the platform, or ``None``."""
    if region in sagemaker_regions():
        return None
    return (
        f"is not a region where SageMaker is offered (the {len(sagemaker_regions())} regions"
        f" known to {source('botocore')} are listed in platform_config/{FACTS_FILE.name}; list"
        f" the current ones with `{LIST_REGIONS}`; a new region needs `{REGENERATE}` after a"
        " botocore bump)"
    )


def instance_type_problem(value: str, kind: JobKind, region: str | None = None) -> str | None:
    """Why ``value`` cannot run ``kind`` (in ``region``, where the price list says), or ``None``.

    A type the API does not accept for the kind is refused everywhere. A type the API
    accepts is refused in a region only when the price list knows the type (in some
    region) and the region (with some types) but not the type there; a type too new for
    the price list is not refused.
    """
    accepted = accepted_instance_types(kind)
    if value not in accepted:
        close = difflib.get_close_matches(value, sorted(accepted), n=3, cutoff=0.8)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        api_enum = facts()["instance_types"][kind.value]["api_enum"]
        return (
            f"is not an instance type SageMaker accepts for {kind.described} ({hint}allowed:"
            f" one of the {len(accepted)} types of the API's {api_enum} enum, {source('botocore')},"
            f" listed in platform_config/{FACTS_FILE.name})"
        )
    if region is None:
        return None
    offered = offered_instance_types(kind, region)
    if offered is None or value not in _priced_instance_types(kind):
        return None
    if value in offered:
        return None
    family = value.rsplit(".", 1)[0] + "."
    same_family = sorted(t for t in offered if t.startswith(family))
    there = ", ".join(same_family) if same_family else f"no {family}* type"
    return (
        f"is not offered for {kind.described} in {region} (offered there: {there}; source:"
        f" the AWS price list via {source('cfn-lint')}, platform_config/{FACTS_FILE.name})"
    )


def build_problem(key: str, region: str) -> str | None:
    """Why synth cannot build ``key`` in ``region``, or ``None``.

    ``key`` is ``pipeline:<kind>`` (a built-in kind: ``training``, ``automl``,
    ``fine_tuning:<base model>``, ``batch``) or ``monitor:<type>``; a kind registered by a
    plugin has no facts here (its builder is run at synth only).
    """
    reason = facts().get("unbuildable", {}).get(key, {}).get(region)
    if reason is None:
        return None
    shown = reason if len(reason) <= 300 else reason[:297] + "..."
    return (
        f"cannot be built in region {region}: {shown} (from the sagemaker SDK's tables,"
        f" {source('sagemaker')}; platform_config/{FACTS_FILE.name})"
    )

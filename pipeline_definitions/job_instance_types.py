"""Which SageMaker instance types each kind of pipeline job accepts.

The lists come from the SageMaker API model shipped with botocore (the enums
``TrainingInstanceType``, ``ProcessingInstanceType``, ``TransformInstanceType`` and
``ProductionVariantInstanceType``), read offline, so a new instance type becomes valid
when botocore is bumped, in a reviewed change. On top of the API's own lists, two rules
that the API accepts but that would make a poor or failing job:

* training rejects burstable types (``ml.t*``): credits run out under sustained load;
* the XGBoost training container runs on CPU or NVIDIA GPU only, so Trainium
  (``ml.trn*``) is rejected for XGBoost training (Inferentia is not a training type).

Whether a type is offered in a given region is not known offline; CloudFormation or the
first execution reports that.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import cache

from botocore.loaders import create_loader
from botocore.model import ServiceModel


class JobKind(Enum):
    """A kind of SageMaker job and the API enum that lists its instance types."""

    PROCESSING = "ProcessingInstanceType"
    TRAINING = "TrainingInstanceType"
    TRANSFORM = "TransformInstanceType"
    REAL_TIME_INFERENCE = "ProductionVariantInstanceType"


_BURSTABLE = re.compile(r"^ml\.t\d")
_NEURON = re.compile(r"^ml\.(trn|inf)\d")
# Families with NVMe instance storage: SageMaker rejects VolumeKmsKeyId for them (the
# instance store is encrypted by the hardware). Letter "d" after the generation
# (m5d, c6id, g4dn, p4d, p3dn...) or a family that only comes with instance storage.
_INSTANCE_STORAGE = re.compile(
    r"^ml\.([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|p5en|trn1|trn1n|trn2)\."
)


@cache
def api_instance_types(kind: JobKind) -> frozenset[str]:
    """Instance types the SageMaker API accepts for ``kind`` (from botocore's model)."""
    # The loader alone: a botocore session would read the caller's AWS profile.
    model = ServiceModel(create_loader().load_service_model("sagemaker", "service-2"), "sagemaker")
    return frozenset(model.shape_for(kind.value).enum)


def has_instance_storage(instance_type: str) -> bool:
    """True for types with NVMe instance storage, which take no volume KMS key."""
    return _INSTANCE_STORAGE.match(instance_type) is not None


def check_instance_type(*, field: str, value: str, kind: JobKind) -> None:
    """Raise ``ValueError`` naming ``field`` unless ``value`` suits a ``kind`` job."""
    allowed = api_instance_types(kind)
    examples = ", ".join(sorted(t for t in allowed if t.startswith(("ml.m5.", "ml.c5.")))[:4])
    job = kind.name.lower().replace("_", "-")
    if value not in allowed:
        raise ValueError(
            f"{field}={value!r} is not an instance type SageMaker accepts for {job} jobs; "
            f"allowed: one of the {len(allowed)} types of the API's {kind.value} enum "
            f"(e.g. {examples})"
        )
    if kind is JobKind.TRAINING and _BURSTABLE.match(value):
        raise ValueError(
            f"{field}={value!r} is a burstable (ml.t*) type, not allowed for training jobs; "
            f"allowed: a non-burstable training type (e.g. {examples})"
        )


def check_xgboost_training_instance_type(*, field: str, value: str) -> None:
    """Like :func:`check_instance_type` for training, and CPU or NVIDIA GPU only."""
    check_instance_type(field=field, value=value, kind=JobKind.TRAINING)
    if _NEURON.match(value):
        raise ValueError(
            f"{field}={value!r} is a Trainium/Inferentia type, which the XGBoost training "
            "container cannot use; allowed: a CPU or NVIDIA GPU training type "
            "(e.g. ml.m5.xlarge, ml.c5.2xlarge, ml.g5.xlarge)"
        )

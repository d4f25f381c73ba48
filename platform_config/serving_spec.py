"""How a model of the catalogue is served: its endpoint (``serving:`` key).

Every check SageMaker would otherwise make at deploy time is made here, at load time, with a
:class:`~platform_config.base.FieldError` naming the field. The instance types (accepted by
the API, offered in the environment's region) need the environment's region:
:func:`~platform_config.aws_rules.check_serving_regions` checks them among
``EnvironmentConfig``'s cross-checks.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, StrictStr, model_validator

from platform_config.aws_facts import (
    Accelerator,
    instance_accelerator,
)
from platform_config.base import FieldError, Frozen
from platform_config.llm_serving_spec import LlmServingSpec

#: Serverless memory sizes SageMaker accepts (MB).
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)

InstanceType = Annotated[StrictStr, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")]
VariantName = Annotated[StrictStr, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")]
#: ``latest`` (the latest approved package of the model's group) or a package version number.
ModelVersion = Literal["latest"] | Annotated[int, Field(ge=1)]
ImageUri = Annotated[
    StrictStr,
    Field(
        pattern=r"^\d{12}\.dkr\.ecr\.(\{region\}|[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
        r"/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$"
    ),
]


#: Repositories of SageMaker's framework and algorithm containers that serve on CPU only.
CPU_ONLY_IMAGE_REPOSITORIES = (
    "sagemaker-xgboost",
    "sagemaker-scikit-learn",
    "sagemaker-sparkml-serving",
    "linear-learner",
)


def image_runs_on(image_uri: str) -> str | None:
    """What a container image can use, from its repository and tag: ``neuron`` (AWS
    Neuron SDK: Inferentia, Trainium), ``gpu`` (a CUDA or ``-gpu`` tag), ``cpu`` (a ``-cpu``
    tag or a CPU-only SageMaker container), or ``None`` when the name does not tell."""
    name = image_uri.rsplit("/", 1)[-1].lower()
    repository = name.split(":", 1)[0].split("@", 1)[0]
    if "neuron" in name:
        return "neuron"
    if re.search(r"(^|[-_.:])(gpu|cu\d+)([-_.]|$)", name):
        return "gpu"
    if re.search(r"(^|[-_.:])cpu([-_.]|$)", name) or repository in CPU_ONLY_IMAGE_REPOSITORIES:
        return "cpu"
    return None


class EndpointKind(str, enum.Enum):
    """How a model is served."""

    REAL_TIME = "real_time"
    SERVERLESS = "serverless"
    ASYNC = "async"
    BATCH = "batch"


class VariantSpec(Frozen):
    """A production or shadow variant of a real-time endpoint.

    Attributes
    ----------
    name:
        Variant name (letters, digits, '-'; up to 63). Keep it stable: blue/green and rolling
        updates match variants by name.
    weight:
        Share of traffic relative to the other variants' (default 1; must be positive). On a
        shadow variant, the share of requests copied to it.
    instance_type:
        Default: the serving's ``instance_type``.
    instance_count:
        Initial instance count (default 1).
    model_version:
        Default: the serving's ``model_version``.
    """

    name: VariantName
    weight: float = 1.0
    instance_type: InstanceType | None = None
    instance_count: int = Field(default=1, ge=1, le=100)
    model_version: ModelVersion | None = None

    @model_validator(mode="after")
    def _positive_weight(self) -> VariantSpec:
        if not self.weight > 0:
            raise FieldError("weight", self.weight, "must be positive (a share of traffic)")
        return self


class AutoscalingSpec(Frozen):
    """Target-tracking autoscaling of each production variant (instance-backed kinds).

    Attributes
    ----------
    min_capacity, max_capacity:
        Instance bounds (default 1 and 2). ``min_capacity: 0`` is allowed for asynchronous
        endpoints and for real-time ones with ``scale_to_zero: true`` (where the bounds
        count copies of the inference component).
    target_invocations_per_instance:
        Real-time target: invocations per instance per minute (default 100).
    target_backlog_per_instance:
        Asynchronous target: queued requests per instance (default 5).
    scale_in_cooldown_seconds, scale_out_cooldown_seconds:
        Cooldowns (default 300 and 60).
    """

    min_capacity: int = Field(default=1, ge=0, le=100)
    max_capacity: int = Field(default=2, ge=1, le=100)
    target_invocations_per_instance: int = Field(default=100, ge=1)
    target_backlog_per_instance: float = Field(default=5.0, gt=0)
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingSpec:
        if self.min_capacity > self.max_capacity:
            raise FieldError(
                "min_capacity",
                self.min_capacity,
                f"is greater than max_capacity ({self.max_capacity})",
            )
        return self


class DeploymentSpec(Frozen):
    """How CloudFormation moves traffic to a new model: a deploy, or a release (docs/releases.md).

    Attributes
    ----------
    strategy:
        ``all_at_once`` (blue/green, default), ``canary`` (blue/green: a canary share first,
        then the rest), ``linear`` (blue/green in equal steps) or ``rolling`` (replace
        instances in batches; for large accelerator fleets that cannot be doubled).
    canary_size_percent:
        Share of capacity of the canary (default 10; 1 to 50).
    linear_step_percent:
        Share of capacity per linear step (default 20; 1 to 50).
    rolling_batch_percent:
        Share of instances replaced per rolling batch (default 25; 5 to 50).
    wait_seconds:
        Baking time between steps (default 300; 0 to 3600).
    termination_wait_seconds:
        How long the old fleet is kept after the shift (default 120; 0 to 3600).
    maximum_execution_timeout_seconds:
        Deployment timeout (default 3600; 600 to 14400).
    auto_rollback:
        Roll back when the endpoint's 5xx or latency alarm fires (default on).
    """

    strategy: Literal["all_at_once", "canary", "linear", "rolling"] = "all_at_once"
    canary_size_percent: int = Field(default=10, ge=1, le=100)
    linear_step_percent: int = Field(default=20, ge=1, le=100)
    rolling_batch_percent: int = Field(default=25, ge=1, le=100)
    wait_seconds: int = Field(default=300, ge=0, le=3600)
    termination_wait_seconds: int = Field(default=120, ge=0, le=3600)
    maximum_execution_timeout_seconds: int = Field(default=3600, ge=600, le=14400)
    auto_rollback: bool = True

    @model_validator(mode="after")
    def _sizes(self) -> DeploymentSpec:
        limits = {
            "canary_size_percent": (1, 50),
            "linear_step_percent": (1, 50),
            "rolling_batch_percent": (5, 50),
        }
        for field, (low, high) in limits.items():
            value = getattr(self, field)
            if not low <= value <= high:
                raise FieldError(
                    field, value, f"must be from {low} to {high} (percent of capacity)"
                )
        return self


class DataCaptureSpec(Frozen):
    """Requests and responses captured to the data capture bucket (for Model Monitor).

    Attributes
    ----------
    enabled:
        Capture (default on).
    sampling_percent:
        Share of requests captured (default 100; 0 to 100).
    """

    enabled: bool = True
    sampling_percent: int = Field(default=100, ge=0, le=100)


class ServerlessSpec(Frozen):
    """A serverless endpoint's compute.

    Attributes
    ----------
    memory_size_mb:
        1024 to 6144 in steps of 1024 (default 2048).
    max_concurrency:
        Concurrent invocations (default 5; 1 to 200).
    provisioned_concurrency:
        Invocations kept warm, billed while provisioned (default none; at most
        ``max_concurrency``).
    """

    memory_size_mb: int = 2048
    max_concurrency: int = 5
    provisioned_concurrency: int | None = Field(default=None, ge=1, le=200)

    @model_validator(mode="after")
    def _limits(self) -> ServerlessSpec:
        if self.memory_size_mb not in SERVERLESS_MEMORY_MB:
            raise FieldError(
                "memory_size_mb",
                self.memory_size_mb,
                "is not a serverless memory size"
                f" (allowed: {', '.join(map(str, SERVERLESS_MEMORY_MB))})",
            )
        if not 1 <= self.max_concurrency <= 200:
            raise FieldError("max_concurrency", self.max_concurrency, "must be from 1 to 200")
        provisioned = self.provisioned_concurrency
        if provisioned is not None and provisioned > self.max_concurrency:
            raise FieldError(
                "provisioned_concurrency",
                provisioned,
                f"is greater than max_concurrency ({self.max_concurrency})",
            )
        return self


class AsyncInferenceSpec(Frozen):
    """An asynchronous endpoint's queue and notifications.

    Attributes
    ----------
    max_concurrent_invocations_per_instance:
        Requests an instance works on at once (default: SageMaker's choice; 1 to 1000).
    include_response_in_notification:
        Put the inference response in the success notification, not only its S3 location
        (default off).
    """

    max_concurrent_invocations_per_instance: int | None = Field(default=None, ge=1, le=1000)
    include_response_in_notification: bool = False


class BatchTransformSpec(Frozen):
    """Batch transform settings, published for the batch pipeline and ad-hoc jobs.

    Attributes
    ----------
    max_payload_mb:
        Largest mini-batch (default 6; 1 to 100).
    max_concurrent_transforms:
        Parallel requests per instance (default 1; 1 to 100).
    batch_strategy:
        ``MultiRecord`` (default) or ``SingleRecord``.
    split_type:
        ``Line`` (default), ``RecordIO``, ``TFRecord`` or ``None``.
    """

    max_payload_mb: int = Field(default=6, ge=1, le=100)
    max_concurrent_transforms: int = Field(default=1, ge=1, le=100)
    batch_strategy: Literal["MultiRecord", "SingleRecord"] = "MultiRecord"
    split_type: Literal["Line", "RecordIO", "TFRecord", "None"] = "Line"


class AlarmSpec(Frozen):
    """Thresholds of the endpoint's alarms (sent to the environment's alert topic).

    Attributes
    ----------
    errors_5xx:
        5xx responses per minute that raise the alarm (default 5).
    model_latency_p99_ms:
        p99 model latency, milliseconds (default 1000).
    evaluation_periods:
        Consecutive minutes over threshold (default 3).
    """

    errors_5xx: int = Field(default=5, ge=1)
    model_latency_p99_ms: int = Field(default=1000, ge=1)
    evaluation_periods: int = Field(default=3, ge=1, le=60)


#: Settings that only one kind accepts.
_KIND_ONLY = {
    "serverless": EndpointKind.SERVERLESS,
    "async_inference": EndpointKind.ASYNC,
    "batch_transform": EndpointKind.BATCH,
}
_REAL_TIME_ONLY = ("variants", "shadow_variants")


class ServingSpec(Frozen):
    """The model's endpoint, named ``ml-platform-<environment>-<model>``.

    The endpoint serves a package of the model's registry group: ``model_version: latest``
    is resolved at deploy time to the latest approved package; a number pins that version.

    Attributes
    ----------
    kind:
        ``real_time``, ``serverless``, ``async`` or ``batch`` (required).
    instance_type:
        Instance of instance-backed kinds (default ``ml.m5.large``): CPU, GPU
        (``ml.g5.*``), Inferentia2 (``ml.inf2.*``) or Trainium (``ml.trn1.*``). Not for
        serverless (give ``null`` in an override that switches to serverless).
    instance_count:
        Initial instances (default 1).
    model_version:
        ``latest`` (default) or a version number of the model's package group.
    image_uri:
        Serve the package's model artifacts with this image instead of the package's own
        (e.g. an AWS Neuron DLC for ``inf2``/``trn1``); ``{region}`` is replaced by the
        environment's region (default: the package's image). It must be an image of the
        container image table, published in the region, for the instance types served
        (``docs/images.md``).
    llm:
        :class:`~platform_config.llm_serving_spec.LlmServingSpec`: how an LMI Neuron
        ``image_uri`` serves the model (default: its defaults; only with such an image).
    network_isolation:
        No network access from the container (default on; ignored by serverless).
    variants:
        Production variants of a real-time endpoint, for A/B tests (default: one
        ``AllTraffic`` variant).
    shadow_variants:
        Variants that receive a copy of the traffic and whose responses are discarded
        (real-time only; needs ``variants``).
    autoscaling:
        :class:`AutoscalingSpec` (default none: fixed count; async: scale to zero needs it).
    deployment:
        :class:`DeploymentSpec` (default: blue/green all at once with alarm rollback).
    data_capture:
        :class:`DataCaptureSpec` (default: 100 %; not for serverless or batch).
    serverless, async_inference, batch_transform:
        Kind-specific settings (each allowed only on its kind; defaulted on it).
    alarms:
        :class:`AlarmSpec`.
    scale_to_zero:
        Serve on an inference component whose endpoint scales down to zero instances when
        idle (``true``), or keep warm instances (``false``); default: the environment's
        ``serving_defaults.scale_to_zero`` wherever SageMaker allows it
        (``platform_config.serving_defaults``).
    """

    kind: EndpointKind
    instance_type: InstanceType | None = None
    instance_count: int = Field(default=1, ge=1, le=100)
    model_version: ModelVersion = "latest"
    image_uri: ImageUri | None = None
    llm: LlmServingSpec | None = None
    network_isolation: bool = True
    variants: tuple[VariantSpec, ...] | None = Field(default=None, max_length=10)
    shadow_variants: tuple[VariantSpec, ...] | None = Field(default=None, max_length=1)
    autoscaling: AutoscalingSpec | None = None
    deployment: DeploymentSpec = DeploymentSpec()
    data_capture: DataCaptureSpec = DataCaptureSpec()
    serverless: ServerlessSpec | None = None
    async_inference: AsyncInferenceSpec | None = None
    batch_transform: BatchTransformSpec | None = None
    alarms: AlarmSpec = AlarmSpec()
    scale_to_zero: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ServingSpec:
        kind = self.kind
        for field, only in _KIND_ONLY.items():
            if getattr(self, field) is not None and kind is not only:
                raise FieldError(
                    field, {}, f"is only for kind {only.value} (this endpoint is {kind.value})"
                )
        for field in _REAL_TIME_ONLY:
            if getattr(self, field) and kind is not EndpointKind.REAL_TIME:
                raise FieldError(field, {}, f"is only for kind real_time (this is {kind.value})")
        if kind is EndpointKind.SERVERLESS:
            self._check_serverless()
        if kind is EndpointKind.BATCH and "data_capture" in self.model_fields_set:
            raise FieldError(
                "data_capture",
                {},
                "is not possible on batch models (batch transform captures nothing; remove it)",
            )
        if self.shadow_variants and len(self.production_variants) != 1:
            production = [variant.name for variant in self.production_variants]
            raise FieldError(
                "shadow_variants",
                [variant.name for variant in self.shadow_variants],
                f"needs exactly one production variant (CreateEndpointConfig allows one with"
                f" shadow variants); this endpoint has {len(production)}: {', '.join(production)}",
            )
        names = [variant.name for variant in self.production_variants + self.shadow]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise FieldError("variants", repeated, "repeats variant names; each must be unique")
        if kind is EndpointKind.SERVERLESS and self.deployment.strategy in ("canary", "linear"):
            raise FieldError(
                "deployment.strategy",
                self.deployment.strategy,
                "is not possible on serverless endpoints, which have no instance capacity to"
                " shift in steps (allowed: all_at_once)",
            )
        if self.deployment.strategy == "rolling":
            if kind in (EndpointKind.SERVERLESS, EndpointKind.BATCH):
                raise FieldError(
                    "deployment.strategy", "rolling", f"is not possible on {kind.value} endpoints"
                )
            if len(names) > 1:
                raise FieldError(
                    "deployment.strategy",
                    "rolling",
                    f"needs a single variant (this endpoint has {len(names)}: {', '.join(names)})",
                )
        scaling = self.autoscaling
        if scaling is not None:
            if kind in (EndpointKind.SERVERLESS, EndpointKind.BATCH):
                raise FieldError(
                    "autoscaling", {}, f"is not for {kind.value} (SageMaker scales it)"
                )
            zero_allowed = kind is EndpointKind.ASYNC or self.scale_to_zero is True
            if scaling.min_capacity == 0 and not zero_allowed:
                raise FieldError(
                    "autoscaling.min_capacity",
                    0,
                    "can be 0 on async endpoints only (scale to zero), unless scale_to_zero is"
                    " true",
                )
        blocker = scale_to_zero_blocker(self) if self.scale_to_zero else None
        if blocker is not None:
            raise FieldError("scale_to_zero", True, f"is not possible: {blocker}")
        return self

    def _check_serverless(self) -> None:
        if self.instance_type is not None:
            accelerated = instance_accelerator(self.instance_type) is not Accelerator.CPU
            raise FieldError(
                "instance_type",
                self.instance_type,
                "is not possible on serverless endpoints, which run on CPU only with no GPU,"
                " Inferentia or Trainium"
                if accelerated
                else "is not used by serverless endpoints (SageMaker picks the compute);"
                " remove it (null in an override)",
            )
        if self.data_capture.enabled and "data_capture" in self.model_fields_set:
            raise FieldError(
                "data_capture.enabled", True, "is not supported by serverless endpoints"
            )

    # --- Derived settings, used by the stacks ------------------------------------------

    @property
    def effective_instance_type(self) -> str:
        """The endpoint's default instance type (``ml.m5.large`` unless set)."""
        return self.instance_type or "ml.m5.large"

    @property
    def production_variants(self) -> tuple[VariantSpec, ...]:
        """The production variants, with the default single ``AllTraffic`` one."""
        if self.variants:
            return self.variants
        return (VariantSpec(name="AllTraffic", instance_count=self.instance_count),)

    @property
    def shadow(self) -> tuple[VariantSpec, ...]:
        """The shadow variants (possibly none)."""
        return self.shadow_variants or ()

    def variant_instance_type(self, variant: VariantSpec) -> str:
        """The variant's instance type, falling back to the serving's."""
        return variant.instance_type or self.effective_instance_type

    def variant_model_version(self, variant: VariantSpec) -> int | str:
        """The variant's model version, falling back to the serving's."""
        return variant.model_version if variant.model_version is not None else self.model_version

    @property
    def serverless_settings(self) -> ServerlessSpec:
        """The serverless settings (defaults when not given)."""
        return self.serverless or ServerlessSpec()

    @property
    def async_settings(self) -> AsyncInferenceSpec:
        """The asynchronous settings (defaults when not given)."""
        return self.async_inference or AsyncInferenceSpec()

    @property
    def batch_settings(self) -> BatchTransformSpec:
        """The batch transform settings (defaults when not given)."""
        return self.batch_transform or BatchTransformSpec()

    @property
    def captures_data(self) -> bool:
        """Whether requests are captured (never for serverless and batch)."""
        instance_backed = self.kind in (EndpointKind.REAL_TIME, EndpointKind.ASYNC)
        return self.data_capture.enabled and instance_backed

    def image_for(self, region: str) -> str | None:
        """``image_uri`` with ``{region}`` replaced, or ``None``."""
        return self.image_uri.replace("{region}", region) if self.image_uri else None

    def instance_types(self) -> Iterator[tuple[str, str]]:
        """(field, instance type) of every instance this serving asks for."""
        if self.kind is EndpointKind.SERVERLESS:
            return
        if self.instance_type is not None or not (self.variants or self.shadow_variants):
            yield "instance_type", self.effective_instance_type
        groups = (("variants", self.variants), ("shadow_variants", self.shadow_variants))
        for field, variants in groups:
            for index, variant in enumerate(variants or ()):
                yield f"{field}[{index}].instance_type", self.variant_instance_type(variant)


def scale_to_zero_blocker(spec: ServingSpec) -> str | None:
    """Why ``spec`` cannot be served on a scale-to-zero inference component, or ``None``."""
    if spec.kind.value != "real_time":
        return f"serving.kind is {spec.kind.value} (inference components serve real_time)"
    variants = spec.production_variants
    if len(variants) > 1:
        return (
            f"it has {len(variants)} production variants (an inference-component endpoint has"
            " one, with no traffic weights)"
        )
    if spec.shadow:
        return "it has a shadow variant (shadow variants need model-based production variants)"
    if spec.captures_data:
        return (
            "it captures data (set data_capture.enabled: false; data capture and Model"
            " Monitor are not offered for inference-component endpoints)"
        )
    if spec.autoscaling is not None and spec.autoscaling.min_capacity > 0:
        return f"autoscaling.min_capacity {spec.autoscaling.min_capacity} keeps instances warm"
    if spec.deployment.strategy in ("canary", "linear"):
        return (
            f"deployment.strategy {spec.deployment.strategy} shifts traffic between fleets;"
            " inference components roll copies (allowed: rolling, all_at_once)"
        )
    return None

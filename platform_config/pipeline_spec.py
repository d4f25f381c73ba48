"""How a model of the catalogue is trained: its SageMaker pipeline (``pipeline:`` key).

Checked here, before any construct is built: the kind (a registered one: see
``pipeline_definitions/pipeline_kinds.py``), the fields that apply to it, a registered
kind's ``settings`` (by its plugin's model), the instance types against the SageMaker API's
own lists (read offline from botocore), spot limits, the quality threshold, the AutoML mode,
the fine-tuning base model (from the catalogue pinned in
``pipeline_definitions/foundation_models.json``) and the schedule.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline_definitions.foundation_models import foundation_models
from pipeline_definitions.job_instance_types import (
    JobKind,
    check_instance_type,
    check_xgboost_training_instance_type,
)
from pipeline_definitions.pipeline_kinds import pipeline_kind, registered_pipeline_kinds
from platform_config.base import FieldError, Frozen, problem_message
from platform_config.schedules import eventbridge_schedule

if TYPE_CHECKING:
    from platform_config.schema import FeatureGroupSpec, ModelSpec

#: Longest run of a training job (and of an AutoML job) SageMaker allows: 28 days.
MAX_RUN_SECONDS = 28 * 24 * 3600


class PipelineKind(str, enum.Enum):
    """The built-in kinds of pipeline; a platform team registers more (``pipeline_kinds``)."""

    TRAINING = "training"
    AUTOML = "automl"
    FINE_TUNING = "fine_tuning"


class Distribution(str, enum.Enum):
    """How a training job spreads over several instances."""

    NONE = "none"
    SHARDED_BY_S3_KEY = "sharded_by_s3_key"
    TORCHRUN = "torchrun"


class AutoMlMode(str, enum.Enum):
    """Autopilot's training mode."""

    ENSEMBLING = "ENSEMBLING"
    HYPERPARAMETER_TUNING = "HYPERPARAMETER_TUNING"
    AUTO = "AUTO"


_COLUMN = re.compile(r"^[^,\s][^,]{0,254}$")
#: The fields of :class:`PipelineSpec` that apply to each built-in kind (``kind``,
#: ``schedule`` and ``settings`` apply to all; a registered kind takes only those). Setting
#: another one is an error, so that a setting is never ignored.
APPLICABLE_FIELDS = {
    PipelineKind.TRAINING.value: {
        "target_column",
        "processing_instance_type",
        "training_instance_type",
        "training_instance_count",
        "use_spot",
        "max_run_seconds",
        "max_wait_seconds",
        "quality_threshold",
        "distribution",
        "training_source",
    },
    PipelineKind.AUTOML.value: {
        "target_column",
        "max_run_seconds",
        "quality_threshold",
        "automl_mode",
    },
    PipelineKind.FINE_TUNING.value: {
        "training_instance_type",
        "training_instance_count",
        "use_spot",
        "max_run_seconds",
        "max_wait_seconds",
        "distribution",
        "base_model",
        "accept_eula",
        "epochs",
        "batch_size",
    },
}


def _column(value: str) -> str:
    if not _COLUMN.fullmatch(value):
        raise ValueError("is not a column name (1 to 255 characters, no comma)")
    return value


def _fraction(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError("is not allowed (allowed: a metric value from 0 to 1, e.g. 0.8)")
    return value


ColumnName = Annotated[StrictStr, AfterValidator(_column)]
Fraction = Annotated[StrictFloat | StrictInt, AfterValidator(_fraction)]
ScheduleExpression = Annotated[StrictStr, AfterValidator(eventbridge_schedule)]


class TrainingSourceSpec(Frozen):
    """Train on features of a feature group of ``config/feature_groups.yaml``.

    The pipeline's ``InputDataUri`` then holds label files (CSV with the group's record
    identifier, its event-time feature and the target column); each label row gets the
    group's latest record at or before its event time, read from the offline store with
    Athena (point in time: no feature from after the prediction's moment).

    Attributes
    ----------
    feature_group:
        The group's catalogue name; it must have an offline store.
    features:
        The group's features to train on, in order (default: all but the record
        identifier and the event time).
    """

    feature_group: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$")]
    features: tuple[StrictStr, ...] = ()


class PipelineSpec(Frozen):
    """The model's SageMaker pipeline (default: the tabular training pipeline).

    Attributes
    ----------
    kind:
        ``training`` (default: preprocess, XGBoost on managed spot, evaluate, AUC gate,
        baselines, registration), ``automl`` (Autopilot, best candidate registered),
        ``fine_tuning`` (a pinned foundation model fine-tuned and registered) or a kind a
        platform team registered (``pipeline_plugins`` in ``config/models.yaml``).
    settings:
        A registered kind's own fields, validated by its plugin's ``settings_model`` (and
        then an instance of it); refused for a kind without one (default: none).
    target_column:
        The label column of the raw data (training: default ``target``; automl: required).
    processing_instance_type:
        Instance of the preprocess and evaluate jobs (training; default ``ml.m5.xlarge``).
    training_instance_type:
        Instance of the training job (default ``ml.m5.xlarge`` for training, where it must
        be a CPU or NVIDIA GPU type; for fine_tuning the base model's first supported type,
        and it must be one the base model supports: ``ml.g*``/``ml.p*`` or ``ml.trn*``).
    training_instance_count:
        Instances of the training job (default 1, up to 100).
    use_spot:
        Train on managed spot capacity with checkpoints (default on for training, off for
        fine_tuning).
    max_run_seconds:
        Longest run of the training (or AutoML) job (default 3600; 60 s to 28 days).
    max_wait_seconds:
        With spot: run time plus time waiting for capacity, greater than
        ``max_run_seconds`` (default twice ``max_run_seconds``, at most 28 days).
    quality_threshold:
        Minimum test AUC, from 0 to 1, for the model to be registered (training, automl;
        default 0.75).
    distribution:
        ``none`` (default), ``sharded_by_s3_key`` (training: each instance reads its share
        of the files; needs 2 or more instances) or ``torchrun`` (fine_tuning: one process
        per accelerator, across instances; required on Trainium).
    automl_mode:
        Autopilot mode (default ``ENSEMBLING``). ``HYPERPARAMETER_TUNING`` and ``AUTO`` are
        refused: SageMaker Pipelines' AutoML step runs ensembling only.
    base_model:
        The JumpStart model id to fine-tune, one of ``pipeline_definitions/
        foundation_models.json`` (fine_tuning: required).
    accept_eula:
        Accept the base model's licence; required for gated models (default off).
    epochs, batch_size:
        Fine-tuning epochs (default 1, up to 100) and per-device batch size (default 4, up
        to 1024).
    schedule:
        Start the pipeline on this EventBridge schedule, ``rate(7 days)`` or
        ``cron(0 3 ? * MON *)`` (UTC) (default: no schedule).
    training_source:
        Read the features from a feature group's offline store (training;
        :class:`TrainingSourceSpec`; default: ``InputDataUri`` holds the training data).
    """

    kind: StrictStr = PipelineKind.TRAINING.value
    target_column: ColumnName | None = None
    processing_instance_type: StrictStr = "ml.m5.xlarge"
    training_instance_type: StrictStr | None = None
    training_instance_count: int = Field(default=1, ge=1, le=100)
    use_spot: bool | None = None
    max_run_seconds: int = Field(default=3600, ge=60, le=MAX_RUN_SECONDS)
    max_wait_seconds: int | None = Field(default=None, ge=61, le=MAX_RUN_SECONDS)
    quality_threshold: Fraction = 0.75
    distribution: Distribution = Distribution.NONE
    automl_mode: AutoMlMode = AutoMlMode.ENSEMBLING
    base_model: StrictStr | None = None
    accept_eula: bool = False
    epochs: int = Field(default=1, ge=1, le=100)
    batch_size: int = Field(default=4, ge=1, le=1024)
    schedule: ScheduleExpression | None = None
    training_source: TrainingSourceSpec | None = None
    settings: Any = Field(default=None, validate_default=True)

    @field_validator("kind", mode="before")
    @classmethod
    def _registered_kind(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, PipelineKind):
            value = value.value
        # The loader names the kinds this catalogue may use (built-ins and its plugins').
        allowed = (info.context or {}).get("pipeline_kinds") or registered_pipeline_kinds()
        if isinstance(value, str) and value not in allowed:
            raise ValueError(f"is not allowed (allowed: {', '.join(sorted(allowed))})")
        return value

    @field_validator("settings")
    @classmethod
    def _settings_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        if "kind" not in info.data:  # the kind itself was refused
            return value
        kind = info.data["kind"]
        model = pipeline_kind(kind).settings_model
        if model is None:
            if value is not None:
                raise ValueError(f"is set but kind {kind} takes no settings")
            return None
        if not isinstance(value, dict | None):
            raise ValueError(f"must be a mapping of the settings of kind {kind}")
        try:
            return model.model_validate(value or {}, context=info.context)
        except ValidationError as error:
            first = error.errors()[0]
            field = "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
            ).lstrip(".")
            missing = first["type"] == "missing"
            raise FieldError(
                field, None if missing else first.get("input"), problem_message(first)
            ) from None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> PipelineSpec:
        applicable = APPLICABLE_FIELDS.get(self.kind, set()) | {"kind", "schedule", "settings"}
        for field in sorted(self.model_fields_set - applicable):
            kinds = [kind for kind, fields in APPLICABLE_FIELDS.items() if field in fields]
            value = getattr(self, field)
            raise FieldError(
                field,
                value.model_dump(exclude_defaults=True) if isinstance(value, Frozen) else value,
                f"is set but kind is {self.kind} (it applies to: {', '.join(kinds)})",
            )
        if self.kind == PipelineKind.AUTOML.value:
            self._check_automl()
        if self.kind == PipelineKind.FINE_TUNING.value:
            self._check_fine_tuning()
        if self.kind == PipelineKind.TRAINING.value:
            self._check_training()
        if self.spot and self.max_wait <= self.max_run_seconds:
            field = "max_wait_seconds" if self.max_wait_seconds is not None else "max_run_seconds"
            raise FieldError(
                field,
                getattr(self, field),
                f"leaves no time to wait for spot capacity: max_wait_seconds ({self.max_wait})"
                f" must be greater than max_run_seconds ({self.max_run_seconds})",
            )
        return self

    def _check_training(self) -> None:
        _instance_type(
            "processing_instance_type", self.processing_instance_type, JobKind.PROCESSING
        )
        field, value = "training_instance_type", self.instance_type
        try:
            check_xgboost_training_instance_type(field=field, value=value)
        except ValueError as error:
            raise FieldError(field, value, _after_value(error, field, value)) from None
        if self.distribution is Distribution.TORCHRUN:
            raise FieldError(
                "distribution",
                self.distribution.value,
                "is not allowed for kind training (allowed: none, or sharded_by_s3_key: the"
                " XGBoost algorithm distributes itself; torchrun is for fine_tuning)",
            )
        if self.distribution is Distribution.SHARDED_BY_S3_KEY and self.training_instance_count < 2:
            raise FieldError(
                "distribution",
                self.distribution.value,
                "needs training_instance_count of 2 or more (each instance reads a share of"
                " the files)",
            )

    def _check_automl(self) -> None:
        if self.target_column is None:
            raise FieldError("target_column", None, "is required when kind is automl")
        if self.automl_mode is not AutoMlMode.ENSEMBLING:
            raise FieldError(
                "automl_mode",
                self.automl_mode.value,
                "is not supported by SageMaker Pipelines' AutoML step (allowed: ENSEMBLING)",
            )

    def _check_fine_tuning(self) -> None:
        models = foundation_models()
        if self.base_model is None:
            raise FieldError(
                "base_model",
                None,
                f"is required when kind is fine_tuning (one of: {', '.join(models)})",
            )
        if self.base_model not in models:
            raise FieldError(
                "base_model",
                self.base_model,
                "is not a pinned foundation model (allowed: "
                f"{', '.join(models)}; see pipeline_definitions/foundation_models.json)",
            )
        model = models[self.base_model]
        if model.gated and not self.accept_eula:
            raise FieldError(
                "accept_eula",
                self.accept_eula,
                f"must be true: {self.base_model} is distributed under a licence that must be"
                " accepted (read it in SageMaker JumpStart first)",
            )
        field, value = "training_instance_type", self.instance_type
        _instance_type(field, value, JobKind.TRAINING)
        if value not in model.instance_types:
            raise FieldError(
                field,
                value,
                f"is not supported by {self.base_model} ({model.accelerator}; allowed:"
                f" {', '.join(model.instance_types)})",
            )
        if self.distribution is Distribution.SHARDED_BY_S3_KEY:
            raise FieldError(
                "distribution",
                self.distribution.value,
                "is not allowed for kind fine_tuning (allowed: none or torchrun)",
            )
        if model.accelerator == "neuron" and self.distribution is not Distribution.TORCHRUN:
            raise FieldError(
                "distribution",
                self.distribution.value,
                "must be torchrun on Trainium (Neuron training runs one process per core)",
            )

    @property
    def baselines(self) -> frozenset[str]:
        """The monitors whose baselines this kind's pipeline registers."""
        return pipeline_kind(self.kind).baselines

    @property
    def instance_type(self) -> str:
        """The training instance type, with the kind's default."""
        if self.training_instance_type is not None:
            return self.training_instance_type
        if self.kind == PipelineKind.FINE_TUNING.value and self.base_model in foundation_models():
            return foundation_models()[self.base_model].instance_types[0]
        return "ml.m5.xlarge"

    @property
    def label_column(self) -> str:
        """The target column, with the training default ``target``."""
        return self.target_column or "target"

    @property
    def spot(self) -> bool:
        """Whether training runs on managed spot capacity (default: training only)."""
        if self.use_spot is not None:
            return self.use_spot
        return self.kind == PipelineKind.TRAINING.value

    @property
    def max_wait(self) -> int:
        """``max_wait_seconds``, by default twice ``max_run_seconds`` (at most 28 days)."""
        if self.max_wait_seconds is not None:
            return self.max_wait_seconds
        return min(2 * self.max_run_seconds, MAX_RUN_SECONDS)


def _instance_type(field: str, value: str, kind: JobKind) -> None:
    try:
        check_instance_type(field=field, value=value, kind=kind)
    except ValueError as error:
        raise FieldError(field, value, _after_value(error, field, value)) from None


def _after_value(error: ValueError, field: str, value: str) -> str:
    """The check's message without its ``<field>=<value> `` prefix."""
    return str(error).removeprefix(f"{field}={value!r} ")


def kind_baselines(pipeline: Any) -> frozenset[str] | None:
    """The baselines of the kind a raw ``pipeline:`` section names (``None``: unknown kind)."""
    kind = (
        pipeline.get("kind", PipelineKind.TRAINING.value) if isinstance(pipeline, Mapping) else None
    )
    if isinstance(pipeline, PipelineSpec):
        kind = pipeline.kind
    if kind not in registered_pipeline_kinds():
        return None
    return pipeline_kind(kind).baselines


def check_training_sources(
    models: Sequence[ModelSpec], feature_groups: Sequence[FeatureGroupSpec]
) -> None:
    """Each ``training_source`` names a group of the catalogue with an offline store, and
    features of it.

    Raises
    ------
    FieldError
        On ``models[<i>].pipeline.training_source.<field>``.
    """
    groups = {group.name: group for group in feature_groups}
    for index, model in enumerate(models):
        source = model.pipeline.training_source
        if source is None:
            continue
        where = f"models[{index}].pipeline.training_source"
        group = groups.get(source.feature_group)
        if group is None:
            known = ", ".join(groups) or "none"
            raise FieldError(
                f"{where}.feature_group",
                source.feature_group,
                f"is not a feature group of feature_groups.yaml (allowed: {known})",
            )
        if not group.offline_store:
            raise FieldError(
                f"{where}.feature_group",
                source.feature_group,
                "has no offline store (offline_store: false) to read a training set from",
            )
        names = [f.name for f in group.features]
        usable = [n for n in names if n not in (group.record_identifier, group.event_time)]
        for position, name in enumerate(source.features):
            if name not in usable:
                raise FieldError(
                    f"{where}.features[{position}]",
                    name,
                    f"is not a feature of {group.name} to train on (allowed: {', '.join(usable)})",
                )

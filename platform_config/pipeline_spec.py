"""How a model of the catalogue is trained: its SageMaker pipeline (``pipeline:`` key).

:data:`PipelineSpec` is a union discriminated by ``kind``. Each built-in kind is its own
model, with its own fields and defaults: :class:`TrainingPipelineSpec` (the default),
:class:`AutoMlPipelineSpec` and :class:`FineTuningPipelineSpec`. Any other kind is one a
plugin module of the catalogue registers (``pipeline_plugins`` in ``config/models.yaml``):
:class:`RegisteredPipelineSpec`, whose ``settings`` the plugin's own ``settings_model``
validates. The registered kinds reach the validators only through pydantic's validation
context (:data:`REGISTERED_KINDS`, filled by the loader): nothing here imports the pipeline
builders, and nothing keeps a registry between validations.

Checked here, before any construct is built: the fields of each kind (a field of another
kind is refused, naming the kinds it applies to), the instance types against the SageMaker
API's own lists (:mod:`platform_config.aws_facts`), spot limits, the quality threshold, the
AutoML mode, the fine-tuning base model (from the catalogue pinned in
``platform_config/foundation_models.json``) and the schedule.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import (
    AfterValidator,
    BaseModel,
    Discriminator,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from platform_config.aws_facts import (
    Accelerator,
    JobKind,
    accepted_instance_types,
    instance_accelerator,
    instance_type_problem,
    is_burstable,
)
from platform_config.base import FieldError, Frozen, problem_message
from platform_config.feature_group_spec import FeatureGroupSpec
from platform_config.foundation_models import FoundationModel, foundation_models
from platform_config.schedules import eventbridge_schedule

#: Longest run of a training job (and of an AutoML job) SageMaker allows: 28 days.
MAX_RUN_SECONDS = 28 * 24 * 3600
#: The validation context's key of the registered kinds: a mapping of name to
#: :class:`RegisteredKind` (the plugins of the catalogue's ``pipeline_plugins``).
REGISTERED_KINDS = "registered_pipeline_kinds"


class PipelineKind(str, enum.Enum):
    """The built-in kinds of pipeline; a platform team registers more (``pipeline_plugins``)."""

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


@runtime_checkable
class RegisteredKind(Protocol):
    """What the configuration reads of a kind a plugin registers (a ``PipelineKindPlugin``).

    Attributes
    ----------
    name:
        The value of ``pipeline.kind``.
    settings_model:
        The pydantic model of ``pipeline.settings`` (``None``: the kind takes no settings).
    baselines:
        The monitors whose baselines the kind's pipeline registers with each package.
    package_image_runs_on:
        ``cpu``, ``gpu`` or ``neuron``: what the inference image of its packages runs on
        (``None``: unknown).
    """

    @property
    def name(self) -> str: ...
    @property
    def settings_model(self) -> type[BaseModel] | None: ...
    @property
    def baselines(self) -> frozenset[str]: ...
    @property
    def package_image_runs_on(self) -> str | None: ...


_COLUMN = re.compile(r"^[^,\s][^,]{0,254}$")


def _column(value: str) -> str:
    if not _COLUMN.fullmatch(value):
        raise ValueError("is not a column name (1 to 255 characters, no comma)")
    return value


def _fraction(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError("is not allowed (allowed: a metric value from 0 to 1, e.g. 0.8)")
    return value


def _job_instance(kind: JobKind) -> AfterValidator:
    """An instance type the SageMaker API accepts for ``kind`` jobs (training: not burstable)."""

    def check(value: str) -> str:
        problem = instance_type_problem(value, kind)
        if problem is not None:
            raise ValueError(problem)
        if kind is JobKind.TRAINING and is_burstable(value):
            examples = sorted(t for t in accepted_instance_types(kind) if t.startswith("ml.m5."))
            raise ValueError(
                "is a burstable (ml.t*) type, not allowed for training jobs (its CPU credits run"
                f" out under sustained load; allowed: a non-burstable type, e.g. {examples[0]})"
            )
        return value

    return AfterValidator(check)


def _xgboost_instance(value: str) -> str:
    """The XGBoost training container runs on CPU or NVIDIA GPU only."""
    if instance_accelerator(value) is Accelerator.NEURON:
        raise ValueError(
            "is a Trainium/Inferentia type, which the XGBoost training container cannot use"
            " (allowed: a CPU or NVIDIA GPU training type, e.g. ml.m5.xlarge, ml.c5.2xlarge,"
            " ml.g5.xlarge)"
        )
    return value


def _pinned_model(value: str) -> str:
    models = foundation_models()
    if value not in models:
        raise ValueError(
            "is not a pinned foundation model (allowed: "
            f"{', '.join(models)}; see platform_config/foundation_models.json)"
        )
    return value


ColumnName = Annotated[StrictStr, AfterValidator(_column)]
Fraction = Annotated[StrictFloat | StrictInt, AfterValidator(_fraction)]
ScheduleExpression = Annotated[StrictStr, AfterValidator(eventbridge_schedule)]
ProcessingInstanceType = Annotated[StrictStr, _job_instance(JobKind.PROCESSING)]
TrainingInstanceType = Annotated[StrictStr, _job_instance(JobKind.TRAINING)]
XgboostTrainingInstanceType = Annotated[TrainingInstanceType, AfterValidator(_xgboost_instance)]
FoundationModelId = Annotated[StrictStr, AfterValidator(_pinned_model)]
RunSeconds = Annotated[int, Field(ge=60, le=MAX_RUN_SECONDS)]


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


class _KindSpec(Frozen):
    """What every kind of pipeline takes, and what the configuration knows of its kind.

    Attributes
    ----------
    kind:
        The kind of pipeline (each kind's model names its own).
    schedule:
        Start the pipeline on this EventBridge schedule, ``rate(7 days)`` or
        ``cron(0 3 ? * MON *)`` (UTC) (default: no schedule).
    """

    #: The monitors whose baselines the kind's pipeline registers with each package; a
    #: model of the kind gets no other monitor (``platform_config.monitoring_spec``).
    baselines: ClassVar[frozenset[str]] = frozenset()
    #: What the inference image of the kind's packages runs on (``None``: unknown).
    package_image_runs_on: ClassVar[str | None] = None

    kind: StrictStr
    schedule: ScheduleExpression | None = None

    @model_validator(mode="before")
    @classmethod
    def _fields_of_this_kind(cls, data: Any) -> Any:
        """Name the kind, and the kinds a field applies to, for a field of another kind or
        a field this kind requires; other unknown keys are pydantic's ``extra_forbidden``."""
        if not isinstance(data, Mapping):
            return data
        kind = data.get("kind", cls.model_fields["kind"].default)
        for field, value in data.items():
            kinds = [name for name, model in _KIND_MODELS.items() if field in model.model_fields]
            if field not in cls.model_fields and kinds:
                applies = ", ".join(_KIND_LABELS.get(name, name) for name in kinds)
                raise FieldError(
                    field, value, f"is set but kind is {kind} (it applies to: {applies})"
                )
        for field, info in cls.model_fields.items():
            if info.is_required() and field not in data:
                raise FieldError(field, None, cls._required(field, kind))
        return data

    @classmethod
    def _required(cls, field: str, kind: object) -> str:  # noqa: ARG003  # an override may name the field's allowed values
        """What the message of a missing required ``field`` says after its name."""
        return f"is required when kind is {kind}"


class _TrainingJobSpec(_KindSpec):
    """The training job's fleet and limits, shared by the kinds that run one.

    Attributes
    ----------
    training_instance_count:
        Instances of the training job (default 1, up to 100).
    max_run_seconds:
        Longest run of the training job (default 3600; 60 s to 28 days).
    max_wait_seconds:
        With spot: run time plus time waiting for capacity, greater than
        ``max_run_seconds`` (default twice ``max_run_seconds``, at most 28 days).
    distribution:
        How the job spreads over its instances (default ``none``).
    """

    training_instance_count: int = Field(default=1, ge=1, le=100)
    use_spot: bool
    max_run_seconds: RunSeconds = 3600
    max_wait_seconds: int = Field(
        default_factory=lambda data: min(2 * data["max_run_seconds"], MAX_RUN_SECONDS),
        ge=61,
        le=MAX_RUN_SECONDS,
    )
    distribution: Distribution = Distribution.NONE

    @model_validator(mode="after")
    def _time_to_wait_for_spot(self) -> _TrainingJobSpec:
        if self.use_spot and self.max_wait_seconds <= self.max_run_seconds:
            field = (
                "max_wait_seconds"
                if "max_wait_seconds" in self.model_fields_set
                else "max_run_seconds"
            )
            raise FieldError(
                field,
                getattr(self, field),
                "leaves no time to wait for spot capacity: max_wait_seconds"
                f" ({self.max_wait_seconds}) must be greater than max_run_seconds"
                f" ({self.max_run_seconds})",
            )
        return self


class TrainingPipelineSpec(_TrainingJobSpec):
    """``kind: training`` (the default): preprocess, XGBoost on managed spot, evaluate, AUC
    gate, baselines, registration.

    Attributes
    ----------
    kind:
        ``training``.
    target_column:
        The label column of the raw data (default ``target``).
    processing_instance_type:
        Instance of the preprocess and evaluate jobs (default ``ml.m5.xlarge``).
    training_instance_type:
        Instance of the training job, a CPU or NVIDIA GPU type (default ``ml.m5.xlarge``).
    use_spot:
        Train on managed spot capacity with checkpoints (default on).
    distribution:
        ``none`` (default) or ``sharded_by_s3_key`` (each instance reads its share of the
        files; needs 2 or more instances). ``torchrun`` is refused: the XGBoost algorithm
        distributes itself.
    quality_threshold:
        Minimum test AUC, from 0 to 1, for the model to be registered (default 0.75).
    training_source:
        Read the features from a feature group's offline store
        (:class:`TrainingSourceSpec`; default: ``InputDataUri`` holds the training data).
    """

    baselines: ClassVar[frozenset[str]] = frozenset(
        {"data_quality", "model_quality", "bias", "explainability"}
    )
    # SageMaker's XGBoost container serves on CPU only.
    package_image_runs_on: ClassVar[str | None] = "cpu"

    kind: Literal["training"] = "training"
    target_column: ColumnName = "target"
    processing_instance_type: ProcessingInstanceType = "ml.m5.xlarge"
    training_instance_type: XgboostTrainingInstanceType = "ml.m5.xlarge"
    use_spot: bool = True
    quality_threshold: Fraction = 0.75
    training_source: TrainingSourceSpec | None = None

    @model_validator(mode="after")
    def _distribution_of_xgboost(self) -> TrainingPipelineSpec:
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
        return self


class AutoMlPipelineSpec(_KindSpec):
    """``kind: automl``: an Autopilot job, the best candidate registered past an AUC gate.

    Attributes
    ----------
    kind:
        ``automl``.
    target_column:
        The label column of the raw data (required).
    max_run_seconds:
        Longest run of the AutoML job (default 3600; 60 s to 28 days).
    quality_threshold:
        Minimum AUC of the best candidate, from 0 to 1, for it to be registered (default
        0.75).
    automl_mode:
        Autopilot mode (default ``ENSEMBLING``). ``HYPERPARAMETER_TUNING`` and ``AUTO`` are
        refused: SageMaker Pipelines' AutoML step runs ensembling only.
    """

    kind: Literal["automl"] = "automl"
    target_column: ColumnName
    max_run_seconds: RunSeconds = 3600
    quality_threshold: Fraction = 0.75
    automl_mode: AutoMlMode = AutoMlMode.ENSEMBLING

    @field_validator("automl_mode")
    @classmethod
    def _ensembling(cls, value: AutoMlMode) -> AutoMlMode:
        if value is not AutoMlMode.ENSEMBLING:
            raise ValueError(
                "is not supported by SageMaker Pipelines' AutoML step (allowed: ENSEMBLING)"
            )
        return value


class FineTuningPipelineSpec(_TrainingJobSpec):
    """``kind: fine_tuning``: a pinned foundation model fine-tuned and registered.

    Attributes
    ----------
    kind:
        ``fine_tuning``.
    base_model:
        The JumpStart model id to fine-tune, one of
        ``platform_config/foundation_models.json`` (required).
    accept_eula:
        Accept the base model's licence; required for gated models (default off).
    training_instance_type:
        Instance of the training job, one the base model supports: ``ml.g*``/``ml.p*`` or
        ``ml.trn*`` (default: the base model's first supported type).
    use_spot:
        Train on managed spot capacity with checkpoints (default off).
    distribution:
        ``none`` (default) or ``torchrun`` (one process per accelerator, across instances;
        required on Trainium).
    epochs, batch_size:
        Fine-tuning epochs (default 1, up to 100) and per-device batch size (default 4, up
        to 1024).
    """

    kind: Literal["fine_tuning"] = "fine_tuning"
    base_model: FoundationModelId
    accept_eula: bool = False
    training_instance_type: TrainingInstanceType = Field(
        default_factory=lambda data: foundation_models()[data["base_model"]].instance_types[0]
    )
    use_spot: bool = False
    epochs: int = Field(default=1, ge=1, le=100)
    batch_size: int = Field(default=4, ge=1, le=1024)

    @classmethod
    def _required(cls, field: str, kind: object) -> str:
        allowed = f" (one of: {', '.join(foundation_models())})" if field == "base_model" else ""
        return super()._required(field, kind) + allowed

    @property
    def foundation_model(self) -> FoundationModel:
        """The pinned entry of :attr:`base_model`."""
        return foundation_models()[self.base_model]

    @model_validator(mode="after")
    def _fits_the_base_model(self) -> FineTuningPipelineSpec:
        model = self.foundation_model
        if model.gated and not self.accept_eula:
            raise FieldError(
                "accept_eula",
                self.accept_eula,
                f"must be true: {self.base_model} is distributed under a licence that must be"
                " accepted (read it in SageMaker JumpStart first)",
            )
        if self.training_instance_type not in model.instance_types:
            raise FieldError(
                "training_instance_type",
                self.training_instance_type,
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
        return self


class RegisteredPipelineSpec(_KindSpec):
    """A kind a plugin module of the catalogue registers (``pipeline_plugins``).

    Attributes
    ----------
    kind:
        The kind's name.
    settings:
        The kind's own fields, validated by its plugin's ``settings_model`` (and then an
        instance of it); refused for a kind without one (default: none).
    """

    kind: StrictStr
    settings: Any = Field(default=None, validate_default=True)
    _registered: RegisteredKind = PrivateAttr()

    @field_validator("kind")
    @classmethod
    def _registered_kind(cls, value: str, info: ValidationInfo) -> str:
        registered = registered_kinds(info.context)
        if value not in registered:
            allowed = sorted({*_KIND_MODELS, *registered} - {_REGISTERED})
            raise ValueError(f"is not allowed (allowed: {', '.join(allowed)})")
        return value

    @field_validator("settings")
    @classmethod
    def _settings_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        if "kind" not in info.data:  # the kind itself was refused
            return value
        kind = info.data["kind"]
        model = registered_kinds(info.context)[kind].settings_model
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
    def _remember_the_kind(self, info: ValidationInfo) -> RegisteredPipelineSpec:
        self._registered = registered_kinds(info.context)[self.kind]
        return self

    @property
    def registered_kind(self) -> RegisteredKind:
        """The plugin's kind this spec was validated with (it builds the pipeline)."""
        return self._registered

    # A class attribute of each built-in kind; the plugin's own value for a registered one.
    @property
    def baselines(self) -> frozenset[str]:  # type: ignore[override]  # a class attribute of the built-in kinds
        """The monitors whose baselines the kind's pipeline registers."""
        return self._registered.baselines

    @property
    def package_image_runs_on(self) -> str | None:  # type: ignore[override]  # a class attribute of the built-in kinds
        """What the inference image of the kind's packages runs on."""
        return self._registered.package_image_runs_on


_REGISTERED = "registered"
#: The model of each tag of :data:`PipelineSpec`: the built-in kinds by name.
_KIND_MODELS: dict[str, type[_KindSpec]] = {
    PipelineKind.TRAINING.value: TrainingPipelineSpec,
    PipelineKind.AUTOML.value: AutoMlPipelineSpec,
    PipelineKind.FINE_TUNING.value: FineTuningPipelineSpec,
    _REGISTERED: RegisteredPipelineSpec,
}
_KIND_LABELS = {_REGISTERED: "kinds of pipeline_plugins"}


def _kind_tag(value: Any) -> str:
    """The tag of :data:`PipelineSpec` a ``pipeline:`` section is validated as."""
    if isinstance(value, Mapping):
        kind = value.get("kind", PipelineKind.TRAINING.value)
    else:
        kind = getattr(value, "kind", PipelineKind.TRAINING.value)
    if isinstance(kind, enum.Enum):
        kind = kind.value
    built_in = isinstance(kind, str) and kind in _KIND_MODELS and kind != _REGISTERED
    return kind if built_in else _REGISTERED


#: A model's pipeline: one model per kind, chosen by ``kind`` (default ``training``).
PipelineSpec = Annotated[
    Annotated[TrainingPipelineSpec, Tag(PipelineKind.TRAINING.value)]
    | Annotated[AutoMlPipelineSpec, Tag(PipelineKind.AUTOML.value)]
    | Annotated[FineTuningPipelineSpec, Tag(PipelineKind.FINE_TUNING.value)]
    | Annotated[RegisteredPipelineSpec, Tag(_REGISTERED)],
    Discriminator(_kind_tag),
]


def registered_kinds(context: Any) -> Mapping[str, RegisteredKind]:
    """The registered kinds a validation context names (none without a context)."""
    found = (context or {}).get(REGISTERED_KINDS, {})
    return found if isinstance(found, Mapping) else {}


def kind_baselines(pipeline: Any, context: Any) -> frozenset[str] | None:
    """The baselines of the kind a raw ``pipeline:`` section names (``None``: unknown kind)."""
    tag = _kind_tag(pipeline)
    if tag != _REGISTERED:
        return _KIND_MODELS[tag].baselines
    kind = pipeline.get("kind") if isinstance(pipeline, Mapping) else None
    registered = registered_kinds(context).get(kind) if isinstance(kind, str) else None
    return registered.baselines if registered is not None else None


def check_training_sources(
    pipelines: Sequence[PipelineSpec], feature_groups: Sequence[FeatureGroupSpec]
) -> None:
    """Each ``training_source`` names a group of the catalogue with an offline store, and
    features of it (``pipelines``: the models' pipelines, in the catalogue's order).

    Raises
    ------
    FieldError
        On ``models[<i>].pipeline.training_source.<field>``.
    """
    groups = {group.name: group for group in feature_groups}
    for index, pipeline in enumerate(pipelines):
        if not isinstance(pipeline, TrainingPipelineSpec) or pipeline.training_source is None:
            continue
        source = pipeline.training_source
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

"""How a model of the catalogue is watched and retrained (``monitoring:``, ``retraining:``).

Every monitor compares live traffic with a baseline that the pipeline which trained the
model registered with its package (``docs/retraining.md``). A kind of pipeline declares
which baselines it registers (``baselines`` of its pipeline spec): a monitor the kind has no
baseline for is **off by default** for that model, and **refused in one line** when the
catalogue turns it on (:func:`monitors_off_without_baseline`,
:func:`check_monitors_have_baselines`). Today the ``fine_tuning`` and ``automl`` kinds
register none, so their models get no monitor that would fail on every schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictFloat, StrictInt, StrictStr, model_validator

from platform_config.base import FieldError, Frozen
from platform_config.schedules import model_monitor_schedule

#: The monitor switches of :class:`MonitoringSpec`, by the baseline each one reads.
MONITORS = ("data_quality", "model_quality", "bias", "explainability")

ScheduleExpression = Annotated[StrictStr, AfterValidator(model_monitor_schedule)]
S3Uri = Annotated[StrictStr, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")]


class RetrainingSpec(Frozen):
    """What starts the model's pipeline again.

    Attributes
    ----------
    on_drift:
        A monitoring violation or a drift alarm starts retraining (default on).
    on_new_data:
        A new batch of files under ``<model>/training/`` in the datasets bucket starts
        retraining on that prefix, once no file has arrived for a quiet period: one run per
        batch, never one per file (default off; see ``docs/retraining.md``).
    cooldown_minutes:
        After a start, further triggers are ignored for this long, so a burst of violations
        starts one retraining (default 360; 0 turns it off).
    """

    on_drift: bool = True
    on_new_data: bool = False
    cooldown_minutes: int = Field(default=360, ge=0, le=10080)


class BiasFacetSpec(Frozen):
    """The group whose outcomes the bias monitor compares with everyone else's.

    Attributes
    ----------
    name:
        A feature column of the raw data (e.g. ``contract_type``).
    values:
        The values marking the group: categories as written in the raw data, or numbers.
    threshold:
        For a numeric column instead: values above it mark the group.

    Exactly one of ``values`` and ``threshold``.
    """

    name: Annotated[StrictStr, Field(pattern=r"^[^,\s][^,]{0,254}$")]
    values: tuple[StrictStr | StrictInt | StrictFloat, ...] = ()
    threshold: StrictFloat | StrictInt | None = None

    @model_validator(mode="after")
    def _values_or_threshold(self) -> BiasFacetSpec:
        if bool(self.values) == (self.threshold is not None):
            raise FieldError(
                "values", list(self.values), "give exactly one of values (a list) and threshold"
            )
        return self


class MonitoringSpec(Frozen):
    """Model Monitor schedules of the model's endpoint (needs data capture on the endpoint).

    Attributes
    ----------
    schedule:
        When the monitors run (default hourly): ``cron(0 * ? * * *)`` hourly,
        ``cron(0 <H> ? * * *)`` daily, ``cron(0 <H>/<N> ? * * *)`` every N hours (the forms
        Model Monitor accepts; see :mod:`platform_config.schedules`).
    data_quality, model_quality, bias, explainability:
        Which monitors run (default data quality only, where the model's kind of pipeline
        registers its baseline; see the module's docstring).
    ground_truth_uri:
        Where labels for captured requests land; required by ``model_quality`` and ``bias``.
    ground_truth_delay_hours:
        How long after a request its label is complete (churn: weeks). The model-quality
        and bias jobs analyse the requests captured between ``delay + window`` and
        ``delay`` hours before each run (``StartTimeOffset``/``EndTimeOffset``); default 0:
        no offsets, the last period's requests.
    ground_truth_window_hours:
        The span of requests each run analyses with a delay: the schedule's period
        (default 1, for the hourly default schedule; 24 for a daily one).
    bias_facet:
        The group the bias monitor (and the training pipeline's bias check) compares;
        required by ``bias`` (:class:`BiasFacetSpec`).
    shap_samples:
        Samples of the SHAP analysis of the explainability monitor and the training
        pipeline's explainability check (default 100).
    problem_type:
        ``BinaryClassification`` (default), ``MulticlassClassification`` or ``Regression``.
    drift_features:
        Features whose drift distance (``feature_baseline_drift_<name>``, published by the
        data-quality monitor) gets an alarm (default none).
    drift_threshold:
        Drift distance above which those alarms fire (default 0.2).
    quality_alarm_threshold:
        With ``model_quality``: alarm when AUC (binary) or accuracy (multiclass) falls below
        this (default 0.7; no quality alarm for regression).
    """

    schedule: ScheduleExpression = "cron(0 * ? * * *)"
    data_quality: bool = True
    model_quality: bool = False
    bias: bool = False
    explainability: bool = False
    ground_truth_uri: S3Uri | None = None
    ground_truth_delay_hours: int = Field(default=0, ge=0, le=8760)
    ground_truth_window_hours: int = Field(default=1, ge=1, le=8760)
    bias_facet: BiasFacetSpec | None = None
    shap_samples: int = Field(default=100, ge=1, le=10000)
    problem_type: Annotated[
        StrictStr, Field(pattern=r"^(BinaryClassification|MulticlassClassification|Regression)$")
    ] = "BinaryClassification"
    drift_features: tuple[Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")], ...] = ()
    drift_threshold: float = Field(default=0.2, gt=0, le=1)
    quality_alarm_threshold: float = Field(default=0.7, ge=0, le=1)

    @model_validator(mode="after")
    def _ground_truth_when_needed(self) -> MonitoringSpec:
        for monitor in ("model_quality", "bias"):
            if getattr(self, monitor) and self.ground_truth_uri is None:
                raise FieldError(
                    "ground_truth_uri",
                    None,
                    f"is required when {monitor} is on (labels to compare predictions with)",
                )
        if self.bias and self.bias_facet is None:
            raise FieldError(
                "bias_facet", None, "is required when bias is on (the group bias is measured for)"
            )
        delayed = self.model_quality or self.bias
        if self.ground_truth_delay_hours and not delayed:
            raise FieldError(
                "ground_truth_delay_hours",
                self.ground_truth_delay_hours,
                "applies to model_quality and bias, which are both off",
            )
        if self.drift_features and not self.data_quality:
            raise FieldError(
                "drift_features", list(self.drift_features), "needs data_quality on (its metrics)"
            )
        return self

    @property
    def enabled(self) -> bool:
        """Whether any monitor runs."""
        return self.data_quality or self.model_quality or self.bias or self.explainability

    @property
    def ground_truth_offsets(self) -> tuple[str, str] | None:
        """``(StartTimeOffset, EndTimeOffset)`` of the jobs that merge labels, or ``None``.

        ISO 8601 durations as Model Monitor takes them, e.g. ``("-PT337H", "-PT336H")`` for
        labels complete after two weeks, analysed an hour at a time.
        """
        if not self.ground_truth_delay_hours:
            return None
        delay = self.ground_truth_delay_hours
        return (f"-PT{delay + self.ground_truth_window_hours}H", f"-PT{delay}H")


def monitors_off_without_baseline(model: Any, baselines: frozenset[str] | None) -> Any:
    """The raw catalogue entry, with the monitors its pipeline registers no baseline for
    switched off where the entry does not name them (``data_quality`` is on by default).

    ``baselines``: the monitors the model's kind registers baselines for (``None``: an
    unknown kind, reported elsewhere).
    """
    if baselines is None or not isinstance(model, Mapping):
        return model
    monitoring = model.get("monitoring", {})
    if not isinstance(monitoring, Mapping):
        return model
    defaults = {
        monitor: False
        for monitor in MONITORS
        if monitor not in baselines
        and monitor not in monitoring
        and MonitoringSpec.model_fields[monitor].default is True
    }
    return {**model, "monitoring": {**monitoring, **defaults}} if defaults else model


def check_monitors_have_baselines(
    monitoring: MonitoringSpec, kind: str, baselines: frozenset[str]
) -> None:
    """Refuse a monitor the model's kind of pipeline registers no baseline for.

    Raises
    ------
    FieldError
        On ``monitoring.<monitor>``: it would fail on every scheduled run.
    """
    for monitor in MONITORS:
        if getattr(monitoring, monitor) and monitor not in baselines:
            has = ", ".join(sorted(baselines)) or "none"
            raise FieldError(
                f"monitoring.{monitor}",
                True,
                f"has no baseline to compare with: kind {kind} registers none for it (its"
                f" baselines: {has}), so it would fail on every run; allowed: false",
            )

"""How a model of the catalogue is watched and retrained (``monitoring:``, ``retraining:``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr, model_validator

from platform_config.base import FieldError, Frozen
from platform_config.schedules import model_monitor_schedule

ScheduleExpression = Annotated[StrictStr, AfterValidator(model_monitor_schedule)]
S3Uri = Annotated[StrictStr, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")]


class RetrainingSpec(Frozen):
    """What starts the model's pipeline again.

    Attributes
    ----------
    on_drift:
        A monitoring violation or a drift alarm starts retraining (default on).
    on_new_data:
        A new object under ``<model>/incoming/`` in the datasets bucket starts retraining,
        with that object as the pipeline's input (default off).
    cooldown_minutes:
        After a start, further triggers are ignored for this long, so a burst of violations
        starts one retraining (default 360; 0 turns it off).
    """

    on_drift: bool = True
    on_new_data: bool = False
    cooldown_minutes: int = Field(default=360, ge=0, le=10080)


class MonitoringSpec(Frozen):
    """Model Monitor schedules of the model's endpoint (needs data capture on the endpoint).

    Attributes
    ----------
    schedule:
        When the monitors run (default hourly): ``cron(0 * ? * * *)`` hourly,
        ``cron(0 <H> ? * * *)`` daily, ``cron(0 <H>/<N> ? * * *)`` every N hours (the forms
        Model Monitor accepts; see :mod:`platform_config.schedules`).
    data_quality, model_quality, bias, explainability:
        Which monitors run (default data quality only).
    ground_truth_uri:
        Where labels for captured requests land; required by ``model_quality`` and ``bias``.
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
        if self.drift_features and not self.data_quality:
            raise FieldError(
                "drift_features", list(self.drift_features), "needs data_quality on (its metrics)"
            )
        return self

    @property
    def enabled(self) -> bool:
        """Whether any monitor runs."""
        return self.data_quality or self.model_quality or self.bias or self.explainability

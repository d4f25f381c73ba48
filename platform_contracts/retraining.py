"""What each reason to retrain a model means for its training pipeline: one table, as data.

The training pipeline (``pipeline_definitions/training_pipeline.py``) declares the
parameters named here, with the defaults of :data:`DEFAULT_RUN`; the retraining trigger
(``lambda/retraining_trigger``, with this module vendored) starts the pipeline with the
values of the row of the event's trigger. Both import the table below, so a run started by a
drift alarm and the pipeline it starts cannot disagree about what ``SkipDriftCheck`` means.
The table, with the reasons for each row, is in ``docs/retraining.md``.

Standard library only: this module is copied into Lambda packages.

The parameters
--------------
``InputDataUri`` (:data:`INPUT_DATA_URI`)
    An ``s3://`` *prefix*, never one object: every ``*.csv`` under it (in sub-prefixes too)
    is read. Every trigger trains on the model's training prefix
    (:func:`training_data_prefix`), where new batches of labelled data land.
``SkipDriftCheck`` (:data:`SKIP_DRIFT_CHECK`)
    ``true``: the check steps (data quality, model quality, model bias, explainability)
    compute this run's baselines but do not compare them with the approved version's, so a
    drift cannot fail the run. ``false``: a violation of the approved version's baselines
    fails the run. SageMaker needs an approved version in the model's group to compare
    with: with none, every trigger runs as :attr:`Trigger.FIRST_RUN`.
``RegisterNewBaseline`` (:data:`REGISTER_NEW_BASELINE`)
    ``true``: the package registered by this run carries this run's baselines as its
    ``DriftCheckBaselines`` (what the monitors compare live traffic with once it is
    released). ``false``: it carries the approved version's baselines forward.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

INPUT_DATA_URI = "InputDataUri"
SKIP_DRIFT_CHECK = "SkipDriftCheck"
REGISTER_NEW_BASELINE = "RegisterNewBaseline"


class Trigger(str, enum.Enum):
    """Why a retraining starts (the values are the trigger function's ``cause`` names)."""

    SCHEDULE = "schedule"
    NEW_DATA = "new-training-data"
    DRIFT_ALARM = "drift-alarm"
    MONITORING_VIOLATION = "monitoring-violation"
    FIRST_RUN = "first-run"


class TrainingData(str, enum.Enum):
    """Which data a run trains on."""

    TRAINING_PREFIX = "training-prefix"
    """Every CSV under ``s3://<datasets bucket>/<model>/training/`` when the run starts."""
    TRAINING_PREFIX_AFTER_QUIET_PERIOD = "training-prefix-after-quiet-period"
    """The same prefix, once no new object has arrived under it for the quiet period: the
    new batch and everything before it, one run per batch, never one per object."""


@dataclass(frozen=True)
class RetrainingRule:
    """One row of the table: what a trigger starts.

    Attributes
    ----------
    trigger:
        The reason.
    training_data:
        What the run trains on.
    skip_drift_check:
        Value of ``SkipDriftCheck``.
    register_new_baseline:
        Value of ``RegisterNewBaseline``.
    why:
        The reason for the two values, one sentence (shown in ``docs/retraining.md``).
    """

    trigger: Trigger
    training_data: TrainingData
    skip_drift_check: bool
    register_new_baseline: bool
    why: str

    def parameters(self, input_data_uri: str) -> dict[str, str]:
        """The ``StartPipelineExecution`` parameters of a run of this row.

        Parameters
        ----------
        input_data_uri:
            The model's training prefix, ``s3://<datasets bucket>/<model>/training/``.

        Raises
        ------
        ValueError
            When ``input_data_uri`` is not an ``s3://`` prefix ending in ``/`` (one object
            would train on one file).
        """
        if not input_data_uri.startswith("s3://") or not input_data_uri.endswith("/"):
            raise ValueError(
                f"{INPUT_DATA_URI}={input_data_uri!r} is not allowed; allowed: an s3:// prefix"
                " ending in '/' (a batch of files, never one object)"
            )
        return {
            INPUT_DATA_URI: input_data_uri,
            SKIP_DRIFT_CHECK: _boolean(self.skip_drift_check),
            REGISTER_NEW_BASELINE: _boolean(self.register_new_baseline),
        }


def _boolean(value: bool) -> str:
    """A pipeline ``Boolean`` parameter's value as StartPipelineExecution takes it."""
    return "true" if value else "false"


RULES: Mapping[Trigger, RetrainingRule] = MappingProxyType(
    {
        rule.trigger: rule
        for rule in (
            RetrainingRule(
                trigger=Trigger.SCHEDULE,
                training_data=TrainingData.TRAINING_PREFIX,
                skip_drift_check=False,
                register_new_baseline=False,
                why="Routine refresh: the data must still look like the approved version's,"
                " and its baselines stay the reference so that slow drift is measured against"
                " one fixed point instead of creeping with every run.",
            ),
            RetrainingRule(
                trigger=Trigger.NEW_DATA,
                training_data=TrainingData.TRAINING_PREFIX_AFTER_QUIET_PERIOD,
                skip_drift_check=False,
                register_new_baseline=False,
                why="A new batch is checked against the approved baselines before a model is"
                " trained on it (a broken or shifted batch fails the run and alerts); the"
                " reference does not move until drift is seen on live traffic.",
            ),
            RetrainingRule(
                trigger=Trigger.DRIFT_ALARM,
                training_data=TrainingData.TRAINING_PREFIX,
                skip_drift_check=True,
                register_new_baseline=True,
                why="Live traffic drifted from the baselines: comparing the new data with them"
                " would fail on the very drift that started the run, and the new version must"
                " be monitored against the data it was trained on.",
            ),
            RetrainingRule(
                trigger=Trigger.MONITORING_VIOLATION,
                training_data=TrainingData.TRAINING_PREFIX,
                skip_drift_check=True,
                register_new_baseline=True,
                why="A monitor reported a violation of the baselines: as for the drift alarm,"
                " the old baselines are what the world left behind.",
            ),
            RetrainingRule(
                trigger=Trigger.FIRST_RUN,
                training_data=TrainingData.TRAINING_PREFIX,
                skip_drift_check=True,
                register_new_baseline=True,
                why="No approved version yet: there is no baseline to compare with (SageMaker"
                " fails a check that has none), and this run's baselines become the first.",
            ),
        )
    }
)
"""The table: trigger -> data, ``SkipDriftCheck``, ``RegisterNewBaseline``."""

DEFAULT_RUN = RULES[Trigger.SCHEDULE]
"""The row whose values are the pipeline's parameter defaults: what a run started without
parameters (the EventBridge schedule, a person in Studio) does."""


def rule_for(trigger: Trigger, *, has_approved_version: bool) -> RetrainingRule:
    """The row a trigger runs with, given whether the model's group has an approved version.

    Without an approved version there is nothing to check against nor to carry forward, so
    the checks and baselines of :attr:`Trigger.FIRST_RUN` apply (the data stays the
    trigger's).
    """
    rule = RULES[trigger]
    if has_approved_version:
        return rule
    first = RULES[Trigger.FIRST_RUN]
    return replace(
        rule,
        skip_drift_check=first.skip_drift_check,
        register_new_baseline=first.register_new_baseline,
        why=first.why,
    )


def training_data_prefix(model: str) -> str:
    """Key prefix, in the datasets bucket, of a model's training data: ``<model>/training/``.

    New batches land under it (``<model>/training/<batch>/...``), and every run reads all of
    it; the new-data trigger watches it (``RetrainingSettings.dataset_prefix``).
    """
    return f"{model}/training/"


def training_data_uri(datasets_bucket: str, model: str) -> str:
    """``s3://<datasets bucket>/<model>/training/``: the ``InputDataUri`` of every trigger."""
    return f"s3://{datasets_bucket}/{training_data_prefix(model)}"

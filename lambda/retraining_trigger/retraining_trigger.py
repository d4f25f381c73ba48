"""Start a model's retraining pipeline when EventBridge reports a reason to retrain it.

Handler: ``retraining_trigger.lambda_handler`` (design: ``docs/retraining.md``). Invoked by:

- EventBridge ``SageMaker Processing Job State Change`` of a Model Monitor execution that
  completed with violations: the schedule (``Environment.sagemaker_monitoring_schedule_name``)
  names the model (``retraining.monitoring_schedule_names``); trigger ``monitoring-violation``;
- EventBridge ``CloudWatch Alarm State Change`` of a model's composite drift alarm entering
  ``ALARM`` (``retraining.drift_alarm_name``); trigger ``drift-alarm``;
- EventBridge ``Object Created`` in the datasets bucket under a model's
  ``retraining.dataset_prefix``: the arrival is noted and a delayed message sent to the
  arrivals queue (``arrivals``);
- its arrivals queue (SQS, batch item failures): once the quiet period passed with no newer
  arrival, trigger ``new-training-data``, one run per batch.

Every start passes the retraining table's parameters (``pipeline_starts``), once per model
and cool-down. EventBridge events are processed once per event id (Powertools
idempotency). Unusable events (malformed, other account, unknown model) are parked in the
dead-letter queue with the reason on the first attempt; AWS errors raise, so that Lambda
(or SQS) retries them. Nothing about the catalogue is in the environment: each model's
settings are its document (``automation_runtime.ModelCatalogue``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import boto3
from arrivals import Arrivals, delay_seconds
from automation_runtime import AutomationFunction, UnusableEventError
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pipeline_starts import PipelineStarts, StartRequest
from trigger_events import (
    AlarmStateChange,
    Arrival,
    MonitoringRun,
    ObjectCreated,
    arrival_message,
    parse_arrival,
    parse_eventbridge,
)
from trigger_settings import TriggerSettings, load_settings

from platform_contracts.model_settings import ModelSettings
from platform_contracts.retraining import Trigger, training_data_prefix

logger = Logger(service="retraining-trigger")

IDEMPOTENCY_KEY_PREFIX = "retraining-trigger"
#: Keys this function appends to its log lines, per invocation.
LOGGED_KEYS = ("event_id", "model", "trigger", "arrival_id")


class RetrainingTrigger(AutomationFunction[TriggerSettings]):
    """The function's state for one cold start: settings, clients and the idempotent entry."""

    logged_keys = LOGGED_KEYS

    def __init__(
        self,
        settings: TriggerSettings,
        *,
        session: boto3.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            settings, session=session, logger=logger, key_prefix=IDEMPOTENCY_KEY_PREFIX
        )
        self.clock = clock
        self.arrivals = Arrivals(self.dynamodb, settings.idempotency_table_name)
        self.starts = PipelineStarts(
            sagemaker=self.session.client("sagemaker"),
            dynamodb=self.dynamodb,
            table_name=settings.idempotency_table_name,
            dataset_bucket=settings.dataset_bucket_name,
            clock=clock,
            logger=logger,
        )

    # --- entry -------------------------------------------------------------------------

    def on_eventbridge(self, event: dict[str, Any]) -> dict[str, Any]:
        """A monitoring run ended, a drift alarm changed state, or an object was created."""
        change = parse_eventbridge(event, self.settings.account_id)
        if isinstance(change, MonitoringRun):
            return self._on_monitoring_run(change, event["id"])
        if isinstance(change, AlarmStateChange):
            return self._on_alarm(change, event["id"])
        return self._on_object_created(change, event["id"])

    # --- drift ---------------------------------------------------------------------------

    def _on_monitoring_run(self, run: MonitoringRun, event_id: str) -> dict[str, Any]:
        if not run.found_violations:
            return self.ignored(f"monitoring job {run.job} is {run.status}: {run.exit_message!r}")
        model = self.catalogue.find(
            lambda m: run.schedule in m.retraining.monitoring_schedule_names,
            f"names monitoring schedule {run.schedule!r}",
            self._named_in(run.schedule),
        )
        description = (
            f"Monitoring schedule {run.schedule} found violations (job {run.job}:"
            f" {run.exit_message}; event {event_id})"
        )
        return self._on_drift(model, Trigger.MONITORING_VIOLATION, event_id, description)

    def _on_alarm(self, change: AlarmStateChange, event_id: str) -> dict[str, Any]:
        if change.state != "ALARM":
            return self.ignored(f"alarm {change.alarm} is {change.state}, not ALARM")
        model = self.catalogue.find(
            lambda m: m.retraining.drift_alarm_name == change.alarm,
            f"names drift alarm {change.alarm!r}",
            self._named_in(change.alarm),
        )
        description = (
            f"Drift alarm {change.alarm} entered ALARM: {change.reason} (event {event_id})"
        )
        return self._on_drift(model, Trigger.DRIFT_ALARM, event_id, description)

    def _on_drift(
        self, model: ModelSettings, trigger: Trigger, event_id: str, description: str
    ) -> dict[str, Any]:
        logger.append_keys(model=model.model, trigger=trigger.value)
        if not model.retraining.on_drift:
            return self.ignored(f"{model.model} does not retrain on drift")
        return self._started(StartRequest(model, trigger, event_id, description))

    # --- new data ------------------------------------------------------------------------

    def _on_object_created(self, created: ObjectCreated, event_id: str) -> dict[str, Any]:
        if created.bucket != self.settings.dataset_bucket_name:
            raise UnusableEventError(
                "unexpected-bucket",
                f"bucket {created.bucket!r} is not {self.settings.dataset_bucket_name!r}",
            )
        key = created.key
        model = self.catalogue.find(
            lambda m: _watches(m, key) or key.startswith(training_data_prefix(m.model)),
            f"watches key {key!r}",
            lambda name: key.startswith(f"{name}/"),
        )
        logger.append_keys(model=model.model, trigger=Trigger.NEW_DATA.value)
        quiet = model.retraining.quiet_period_seconds
        if not _watches(model, key) or key.endswith("/"):
            return self.ignored(f"{model.model} does not retrain on new data at {key!r}")
        now = int(self.clock())
        if not self.arrivals.note(model.model, event_id, now, quiet):
            return self.ignored("a later arrival is already noted: its message carries the batch")
        arrival = Arrival(model=model.model, arrival_id=event_id, noted_at=now)
        self._send_arrival(arrival, delay_seconds(quiet))
        return {"outcome": "arrival-noted", "model": model.model, "key": key}

    def on_message(self, record: SQSRecord) -> dict[str, Any]:
        """A message of the arrivals queue (see ``arrivals``)."""
        try:
            arrival = parse_arrival(record.body)
            logger.append_keys(arrival_id=arrival.arrival_id)
            model = self.catalogue.by_model(arrival.model)
        except UnusableEventError as unusable:
            return self.park_message(record, unusable)
        logger.append_keys(model=model.model, trigger=Trigger.NEW_DATA.value)
        latest = self.arrivals.latest(model.model)
        if latest is None or latest.arrival_id != arrival.arrival_id:
            return self.ignored("a newer arrival came during the quiet period: its message waits")
        if latest.started_execution is not None:
            return self.ignored(f"the batch already started {latest.started_execution}")
        remaining = latest.noted_at + model.retraining.quiet_period_seconds - self.clock()
        if remaining > 0:
            self._send_arrival(arrival, delay_seconds(remaining))
            return {"outcome": "re-delayed", "model": model.model, "seconds": remaining}
        description = (
            f"New training data under {model.retraining.dataset_prefix} (no arrival for"
            f" {model.retraining.quiet_period_seconds} s; last event {arrival.arrival_id})"
        )
        request = StartRequest(model, Trigger.NEW_DATA, arrival.arrival_id, description)
        outcome = self._started(request)
        if outcome["outcome"] == "started":
            self.arrivals.mark_started(
                model.model, arrival.arrival_id, outcome["pipeline_execution_arn"]
            )
        return outcome

    def _send_arrival(self, arrival: Arrival, delay: int) -> None:
        self.sqs.send_message(
            QueueUrl=self.settings.arrivals_queue_url,
            MessageBody=arrival_message(arrival),
            DelaySeconds=delay,
        )
        logger.info("Arrival queued", extra={"delay_seconds": delay})

    # --- helpers -------------------------------------------------------------------------

    def _started(self, request: StartRequest) -> dict[str, Any]:
        outcome = self.starts.start(request)
        logger.info("Retraining handled", extra=outcome)
        return outcome

    def _named_in(self, name: str) -> Callable[[str], bool]:
        """Whether a model name is the one a resource name ``<prefix>-<model>-...`` holds."""
        rest = name.removeprefix(f"{self.settings.name_prefix}-")
        return lambda model: rest.startswith(f"{model}-")


def _watches(model: ModelSettings, key: str) -> bool:
    prefix = model.retraining.dataset_prefix
    return prefix is not None and key.startswith(prefix)


def build(
    environ: Mapping[str, str],
    *,
    session: boto3.Session | None = None,
    clock: Callable[[], float] = time.time,
) -> RetrainingTrigger:
    """The function for ``environ`` (tests pass their own environment, session and clock)."""
    return RetrainingTrigger(load_settings(environ), session=session, clock=clock)


@cache
def runtime() -> RetrainingTrigger:
    """Built on the first invocation (not at import) so a settings error fails loudly there."""
    return build(os.environ)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(
    event: dict[str, Any], context: LambdaContext
) -> dict[str, Any] | PartialItemFailureResponse:
    return runtime().handle(event, context)

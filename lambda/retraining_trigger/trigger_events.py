"""The events the retraining trigger acts on, checked and typed.

Every parser raises :class:`automation_runtime.UnusableEventError` (a missing or wrong-typed
field, another account, an unsupported kind), so that the event is parked with the reason
on its first attempt. The EventBridge events are AWS's (samples with their documentation
pages: ``tests/events/``):

- ``SageMaker Processing Job State Change``: a Model Monitor execution is a processing job;
  ``detail`` has the ``DescribeProcessingJob`` shape, with the monitor container's
  ``ExitMessage`` (``CompletedWithViolations: ...``) and the schedule's name in
  ``Environment.sagemaker_monitoring_schedule_name``;
- ``CloudWatch Alarm State Change`` of a composite drift alarm;
- ``Object Created`` (S3's EventBridge notifications) in the datasets bucket;

and the messages of the function's own arrivals queue (:func:`arrival_message`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from automation_runtime import UnusableEventError, eventbridge_kind, field, queue_message

PROCESSING_JOB_STATE_CHANGE = ("aws.sagemaker", "SageMaker Processing Job State Change")
ALARM_STATE_CHANGE = ("aws.cloudwatch", "CloudWatch Alarm State Change")
OBJECT_CREATED = ("aws.s3", "Object Created")
#: A Model Monitor job's ``ExitMessage`` when it found violations.
VIOLATIONS_PREFIX = "CompletedWithViolations"
ARRIVAL = "arrival"


@dataclass(frozen=True)
class MonitoringRun:
    """A Model Monitor execution ended."""

    schedule: str
    job: str
    status: str
    exit_message: str

    @property
    def found_violations(self) -> bool:
        return self.status == "Completed" and self.exit_message.startswith(VIOLATIONS_PREFIX)


@dataclass(frozen=True)
class AlarmStateChange:
    """An alarm changed state."""

    alarm: str
    state: str
    reason: str


@dataclass(frozen=True)
class ObjectCreated:
    """An object was written to a bucket."""

    bucket: str
    key: str


@dataclass(frozen=True)
class Arrival:
    """A message of the arrivals queue: new data arrived for ``model`` at ``noted_at``."""

    model: str
    arrival_id: str
    noted_at: int


def parse_eventbridge(
    event: Any, account_id: str
) -> MonitoringRun | AlarmStateChange | ObjectCreated:
    """The typed event, if it is one of ``account_id``'s this function acts on."""
    kind = eventbridge_kind(event, account_id)
    if kind == PROCESSING_JOB_STATE_CHANGE:
        return MonitoringRun(
            schedule=field(event, "detail.Environment.sagemaker_monitoring_schedule_name", str),
            job=field(event, "detail.ProcessingJobName", str),
            status=field(event, "detail.ProcessingJobStatus", str),
            exit_message=_optional_text(event, "detail.ExitMessage"),
        )
    if kind == ALARM_STATE_CHANGE:
        return AlarmStateChange(
            alarm=field(event, "detail.alarmName", str),
            state=field(event, "detail.state.value", str),
            reason=_optional_text(event, "detail.state.reason"),
        )
    if kind == OBJECT_CREATED:
        return ObjectCreated(
            bucket=field(event, "detail.bucket.name", str),
            key=field(event, "detail.object.key", str),
        )
    raise UnusableEventError("unsupported-event", f"source and detail-type {kind} are not handled")


def _optional_text(event: Any, path: str) -> str:
    """The string at ``path`` when present, else ``""``; a present value must be a string."""
    parent, _, name = path.rpartition(".")
    if name not in field(event, parent, dict) or event_value(event, path) == "":
        return ""
    return field(event, path, str)


def event_value(event: Any, path: str) -> Any:
    """The value at ``path`` of an event whose parents are known to be objects."""
    value = event
    for part in path.split("."):
        value = value[part]
    return value


def parse_arrival(body: str) -> Arrival:
    """An arrivals queue message's body."""
    message = queue_message(body, ARRIVAL)
    return Arrival(
        model=field(message, "model", str),
        arrival_id=field(message, "arrival_id", str),
        noted_at=field(message, "noted_at", int),
    )


def arrival_message(arrival: Arrival) -> str:
    """The body of an arrivals queue message (read by :func:`parse_arrival`)."""
    return json.dumps(
        {
            "kind": ARRIVAL,
            "model": arrival.model,
            "arrival_id": arrival.arrival_id,
            "noted_at": arrival.noted_at,
        },
        sort_keys=True,
    )

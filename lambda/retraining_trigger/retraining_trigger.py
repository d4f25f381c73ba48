"""Start a model's retraining pipeline when EventBridge reports a reason to retrain it.

Handler: ``retraining_trigger.lambda_handler``. Four EventBridge events lead here:

- ``SageMaker Processing Job State Change`` of a Model Monitor job that completed with
  violations. A monitoring execution is a processing job; its ``detail`` is the
  ``DescribeProcessingJob`` shape, where ``ExitMessage`` carries the monitor container's
  ``CompletedWithViolations: ...`` message and ``MonitoringScheduleArn`` (or the
  ``sagemaker_monitoring_schedule_name`` variable of ``Environment``) names the schedule;
- ``CloudWatch Alarm State Change`` of a drift alarm entering ``ALARM``;
- ``Object Created`` (S3 EventBridge notifications) under a model's dataset prefix;
- ``Scheduled Event`` of a model's EventBridge schedule rule.

Each event is mapped to one model of ``RETRAINING_MODELS`` (see ``trigger_settings``) and
starts that model's pipeline at most once per event id (Powertools idempotency) and at most
once per cool-down window (a conditional write in the same DynamoDB table). Events that
cannot be acted on (malformed, unknown model, other account) go to the dead-letter queue
with the reason and are not retried; AWS errors propagate so that Lambda retries them.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from trigger_settings import ModelRetraining, TriggerSettings, load_settings

logger = Logger(service="retraining-trigger")

MONITORING_VIOLATION = "monitoring-violation"
DRIFT_ALARM = "drift-alarm"
NEW_TRAINING_DATA = "new-training-data"
SCHEDULE = "schedule"

COOLDOWN_KEY_PREFIX = "cooldown#"
IDEMPOTENCY_KEY_PREFIX = "retraining-trigger"


class UnusableEvent(Exception):
    """The event cannot lead to a retraining: it goes to the dead-letter queue, unretried."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class NoRetrainingNeeded(Exception):
    """A well-formed event that asks for nothing (an alarm back to OK, a clean monitor run)."""


@dataclass(frozen=True)
class RetrainingRequest:
    model: ModelRetraining
    cause: str
    description: str
    parameters: Mapping[str, str] = field(default_factory=dict)


class RetrainingTrigger:
    """The function's state for one cold start: settings, clients and the idempotent entry."""

    def __init__(self, settings: TriggerSettings) -> None:
        self.settings = settings
        self.sagemaker = boto3.client("sagemaker")
        self.dynamodb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.idempotency_ttl_seconds,
        )
        self.handle_event: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="event",
            persistence_store=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table_name, boto3_client=self.dynamodb
            ),
            config=self.idempotency_config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(self._handle_event)

    def _handle_event(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            request = parse_event(self.settings, event)
        except UnusableEvent as unusable:
            return self.dead_letter(event, unusable)
        except NoRetrainingNeeded as nothing:
            logger.info("Event ignored: it asks for no retraining", extra={"reason": str(nothing)})
            return {"outcome": "ignored", "reason": str(nothing)}

        model, event_id = request.model, event["id"]
        logger.append_keys(model=model.name, cause=request.cause)
        holder = self._claim_cooldown(model, request.cause, event_id)
        if holder is not None:
            logger.info(
                "Retraining skipped: the model is in its cool-down",
                extra={"cooldown_holder": holder, "cooldown_seconds": model.cooldown_seconds},
            )
            return {"outcome": "skipped-cooldown", "model": model.name, "cause": request.cause}
        try:
            execution_arn = self._start_pipeline(request, event_id)
        except Exception:
            self._release_cooldown(model, event_id)
            raise
        logger.info(
            "Retraining pipeline started",
            extra={"pipeline_name": model.pipeline_name, "pipeline_execution_arn": execution_arn},
        )
        return {
            "outcome": "started",
            "model": model.name,
            "cause": request.cause,
            "pipeline_execution_arn": execution_arn,
        }

    def _start_pipeline(self, request: RetrainingRequest, event_id: str) -> str:
        response = self.sagemaker.start_pipeline_execution(
            PipelineName=request.model.pipeline_name,
            PipelineExecutionDisplayName=execution_display_name(request.cause, event_id),
            PipelineExecutionDescription=request.description,
            PipelineParameters=[{"Name": k, "Value": v} for k, v in request.parameters.items()],
            ClientRequestToken=client_request_token(request.model.name, event_id),
        )
        return str(response["PipelineExecutionArn"])

    def _claim_cooldown(
        self, model: ModelRetraining, cause: str, event_id: str
    ) -> dict[str, Any] | None:
        """Take the model's cool-down slot; return its current holder if another event has it.

        A retry of the event that holds the slot may take it again, so a failed start
        followed by Lambda's retry is not mistaken for a second retraining.
        """
        if model.cooldown_seconds == 0:
            return None
        now = int(time.time())
        try:
            self.dynamodb.put_item(
                TableName=self.settings.idempotency_table_name,
                Item={
                    "id": {"S": COOLDOWN_KEY_PREFIX + model.name},
                    "expiration": {"N": str(now + model.cooldown_seconds)},
                    "event_id": {"S": event_id},
                    "cause": {"S": cause},
                    "claimed_at": {"N": str(now)},
                },
                # TTL deletion is lazy, so an expired record is recognised by its timestamp.
                ConditionExpression=(
                    "attribute_not_exists(#id) OR #expiration <= :now OR event_id = :event_id"
                ),
                ExpressionAttributeNames={"#id": "id", "#expiration": "expiration"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":event_id": {"S": event_id}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = error.response.get("Item", {})
            return {
                "event_id": item.get("event_id", {}).get("S"),
                "cause": item.get("cause", {}).get("S"),
                "until": int(item.get("expiration", {}).get("N", 0)),
            }
        return None

    def _release_cooldown(self, model: ModelRetraining, event_id: str) -> None:
        if model.cooldown_seconds == 0:
            return
        try:
            self.dynamodb.delete_item(
                TableName=self.settings.idempotency_table_name,
                Key={"id": {"S": COOLDOWN_KEY_PREFIX + model.name}},
                ConditionExpression="event_id = :event_id",
                ExpressionAttributeValues={":event_id": {"S": event_id}},
            )
        except ClientError:
            # The start error is what matters; a left-over slot is retaken by this event's retry.
            logger.exception("Could not release the cool-down slot after a failed start")

    def dead_letter(self, event: Any, unusable: UnusableEvent) -> dict[str, Any]:
        event_id = event.get("id") if isinstance(event, dict) else None
        attributes = {
            "reason": {"DataType": "String", "StringValue": unusable.reason},
            "reason_detail": {"DataType": "String", "StringValue": unusable.detail},
        }
        if isinstance(event_id, str) and event_id:
            attributes["event_id"] = {"DataType": "String", "StringValue": event_id}
        self.sqs.send_message(
            QueueUrl=self.settings.dead_letter_queue_url,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes=attributes,
        )
        logger.error(
            "Event sent to the dead-letter queue",
            extra={"reason": unusable.reason, "reason_detail": unusable.detail},
        )
        return {"outcome": "dead-lettered", "reason": unusable.reason}


@cache
def runtime() -> RetrainingTrigger:
    """Built on the first invocation (not at import) so a settings error fails loudly there."""
    return RetrainingTrigger(load_settings())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    trigger = runtime()
    event_id = event.get("id") if isinstance(event, dict) else None
    logger.append_keys(event_id=event_id)
    if not isinstance(event_id, str) or not event_id:
        # Without an id there is no idempotency key: dead-letter before the idempotent layer.
        return trigger.dead_letter(event, UnusableEvent("missing-field", "event has no 'id'"))
    trigger.idempotency_config.register_lambda_context(context)
    return trigger.handle_event(event=event)


# --- Event parsing ---------------------------------------------------------------------


def parse_event(settings: TriggerSettings, event: dict[str, Any]) -> RetrainingRequest:
    """Map an EventBridge event to the retraining it asks for, or say why it cannot."""
    account = event.get("account")
    if account != settings.expected_account_id:
        raise UnusableEvent(
            "wrong-account",
            f"event account {account!r} is not the expected {settings.expected_account_id!r}",
        )
    source, detail_type = event.get("source"), event.get("detail-type")
    parser = _PARSERS.get((source, detail_type))
    if parser is None:
        raise UnusableEvent(
            "unsupported-event", f"no retraining cause for source {source!r}, {detail_type!r}"
        )
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise UnusableEvent("missing-field", "event has no 'detail' object")
    return parser(settings, event, detail)


def _monitoring_violation(
    settings: TriggerSettings, event: dict[str, Any], detail: dict[str, Any]
) -> RetrainingRequest:
    job = _text(detail, "ProcessingJobName")
    status = _text(detail, "ProcessingJobStatus")
    exit_message = detail.get("ExitMessage") or ""
    if status != "Completed" or not exit_message.startswith("CompletedWithViolations"):
        raise NoRetrainingNeeded(
            f"monitoring job {job} is {status} with exit message {exit_message!r}"
        )
    schedule = _monitoring_schedule_name(detail)
    model = settings.model_for_monitoring_schedule(schedule)
    if model is None:
        raise UnusableEvent("unknown-model", f"no model watches monitoring schedule {schedule!r}")
    return RetrainingRequest(
        model=model,
        cause=MONITORING_VIOLATION,
        description=(
            f"Retraining after monitoring schedule {schedule} found violations "
            f"(job {job}: {exit_message}; event {event['id']})"
        ),
    )


def _monitoring_schedule_name(detail: dict[str, Any]) -> str:
    arn = detail.get("MonitoringScheduleArn")
    if isinstance(arn, str) and "monitoring-schedule/" in arn:
        return arn.rsplit("/", 1)[-1]
    environment = detail.get("Environment")
    name = (
        environment.get("sagemaker_monitoring_schedule_name")
        if isinstance(environment, dict)
        else None
    )
    if isinstance(name, str) and name:
        return name
    raise UnusableEvent(
        "missing-field",
        "detail has neither MonitoringScheduleArn "
        "nor Environment.sagemaker_monitoring_schedule_name",
    )


def _drift_alarm(
    settings: TriggerSettings, event: dict[str, Any], detail: dict[str, Any]
) -> RetrainingRequest:
    alarm = _text(detail, "alarmName")
    state = detail.get("state")
    value = state.get("value") if isinstance(state, dict) else None
    if not isinstance(value, str):
        raise UnusableEvent("missing-field", "detail.state.value is missing")
    if value != "ALARM":
        raise NoRetrainingNeeded(f"alarm {alarm} changed to {value}, not ALARM")
    model = settings.model_for_alarm(alarm)
    if model is None:
        raise UnusableEvent("unknown-model", f"no model owns drift alarm {alarm!r}")
    reason = state.get("reason", "")
    return RetrainingRequest(
        model=model,
        cause=DRIFT_ALARM,
        description=(
            f"Retraining after drift alarm {alarm} entered ALARM: {reason} (event {event['id']})"
        ),
    )


def _new_training_data(
    settings: TriggerSettings, event: dict[str, Any], detail: dict[str, Any]
) -> RetrainingRequest:
    bucket = detail.get("bucket")
    obj = detail.get("object")
    bucket_name = bucket.get("name") if isinstance(bucket, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(bucket_name, str) or not bucket_name:
        raise UnusableEvent("missing-field", "detail.bucket.name is missing")
    if not isinstance(key, str) or not key:
        raise UnusableEvent("missing-field", "detail.object.key is missing")
    if bucket_name != settings.dataset_bucket_name:
        raise UnusableEvent(
            "unexpected-bucket",
            f"bucket {bucket_name!r} is not the dataset bucket {settings.dataset_bucket_name!r}",
        )
    model = settings.model_for_object_key(key)
    if model is None:
        raise UnusableEvent("unknown-model", f"no model's dataset prefix matches key {key!r}")
    uri = f"s3://{bucket_name}/{key}"
    return RetrainingRequest(
        model=model,
        cause=NEW_TRAINING_DATA,
        description=f"Retraining on new training data {uri} (event {event['id']})",
        parameters={model.input_data_parameter: uri},
    )


def _schedule(
    settings: TriggerSettings, event: dict[str, Any], detail: dict[str, Any]
) -> RetrainingRequest:
    resources = event.get("resources")
    rule_arn = resources[0] if isinstance(resources, list) and resources else None
    if not isinstance(rule_arn, str) or ":rule/" not in rule_arn:
        raise UnusableEvent("missing-field", "resources has no EventBridge rule ARN")
    rule = rule_arn.rsplit("/", 1)[-1]  # rule/<name> or rule/<bus>/<name>
    model = settings.model_for_schedule_rule(rule)
    if model is None:
        raise UnusableEvent("unknown-model", f"no model is retrained by schedule rule {rule!r}")
    return RetrainingRequest(
        model=model,
        cause=SCHEDULE,
        description=(
            f"Scheduled retraining by rule {rule} at {event.get('time')} (event {event['id']})"
        ),
    )


_PARSERS: dict[tuple[Any, Any], Callable[..., RetrainingRequest]] = {
    ("aws.sagemaker", "SageMaker Processing Job State Change"): _monitoring_violation,
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): _drift_alarm,
    ("aws.s3", "Object Created"): _new_training_data,
    ("aws.events", "Scheduled Event"): _schedule,
}


def _text(detail: dict[str, Any], name: str) -> str:
    value = detail.get(name)
    if not isinstance(value, str) or not value:
        raise UnusableEvent("missing-field", f"detail.{name} is missing")
    return value


def execution_display_name(cause: str, event_id: str) -> str:
    """``<cause>-<event id>``, cut to SageMaker's 82 characters of ``[a-zA-Z0-9-]``."""
    safe_id = re.sub(r"[^A-Za-z0-9]+", "-", event_id).strip("-")
    return f"{cause}-{safe_id}"[:82].rstrip("-")


def client_request_token(model_name: str, event_id: str) -> str:
    """Same event, same token: SageMaker then starts no second execution on a retry."""
    return hashlib.sha256(f"{model_name}:{event_id}".encode()).hexdigest()

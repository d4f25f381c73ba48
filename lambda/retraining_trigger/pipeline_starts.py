"""Starting a model's training pipeline with the retraining table's values, once per cool-down.

The parameters are the contract's (``platform_contracts/retraining.py``, vendored):
``rule_for(trigger, has_approved_version=...).parameters(training_data_uri(...))``, where a
model has an approved version when its package group lists one (``ListModelPackages`` with
``ModelApprovalStatus=Approved``). A start within the model's cool-down of the previous one
is dropped: the first wins (a conditional write of ``cooldown#<model>`` in the idempotency
table). The same event retried may take its own slot again, and passes the same
``ClientRequestToken``, so SageMaker starts no second execution for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from platform_contracts.model_settings import ModelSettings
from platform_contracts.retraining import Trigger, rule_for, training_data_uri

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sagemaker import SageMakerClient

COOLDOWN_KEY_PREFIX = "cooldown#"
#: SageMaker's limits of ``PipelineExecutionDisplayName`` and ``...Description``.
DISPLAY_NAME_LENGTH = 82
DESCRIPTION_LENGTH = 3072


@dataclass(frozen=True)
class StartRequest:
    """A reason to retrain one model, from one event."""

    model: ModelSettings
    trigger: Trigger
    event_id: str
    description: str


@dataclass(kw_only=True)
class PipelineStarts:
    """Starts the pipelines (see the module's docstring)."""

    sagemaker: SageMakerClient
    dynamodb: DynamoDBClient
    table_name: str
    dataset_bucket: str
    clock: Callable[[], float]
    logger: Logger

    def start(self, request: StartRequest) -> dict[str, Any]:
        """Start the model's pipeline unless it is in its cool-down; the outcome."""
        model = request.model
        approved = self.has_approved_version(model.model_package_group_name)
        rule = rule_for(request.trigger, has_approved_version=approved)
        parameters = rule.parameters(training_data_uri(self.dataset_bucket, model.model))
        outcome = {"model": model.model, "trigger": request.trigger.value}
        holder = self._claim_cooldown(request)
        if holder is not None:
            self.logger.info(
                "Retraining skipped: the model is in its cool-down",
                extra={"cooldown_holder": holder},
            )
            return {"outcome": "skipped-cooldown", **outcome, "cooldown_holder": holder}
        try:
            response = self.sagemaker.start_pipeline_execution(
                PipelineName=model.pipeline_name,
                PipelineExecutionDisplayName=display_name(request.trigger, request.event_id),
                PipelineExecutionDescription=request.description[:DESCRIPTION_LENGTH],
                PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
                ClientRequestToken=client_request_token(model.model, request.event_id),
            )
        except Exception:
            self._release_cooldown(request)
            raise
        arn = str(response["PipelineExecutionArn"])
        self.logger.info(
            "Retraining pipeline started",
            extra={"pipeline_execution_arn": arn, "parameters": parameters},
        )
        return {
            "outcome": "started",
            **outcome,
            "pipeline_execution_arn": arn,
            "parameters": parameters,
        }

    def has_approved_version(self, group: str) -> bool:
        """Whether ``group`` holds an approved package (whose baselines a run compares with)."""
        response = self.sagemaker.list_model_packages(
            ModelPackageGroupName=group, ModelApprovalStatus="Approved", MaxResults=1
        )
        return bool(response.get("ModelPackageSummaryList"))

    def _claim_cooldown(self, request: StartRequest) -> dict[str, Any] | None:
        """Take the model's cool-down slot; return its holder if another event has it."""
        seconds = request.model.retraining.cooldown_seconds
        if seconds <= 0:
            return None
        now = int(self.clock())
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item={
                    "id": {"S": COOLDOWN_KEY_PREFIX + request.model.model},
                    "expiration": {"N": str(now + seconds)},
                    "event_id": {"S": request.event_id},
                    "trigger": {"S": request.trigger.value},
                    "claimed_at": {"N": str(now)},
                },
                # TTL deletion is lazy: an expired slot is recognised by its expiration.
                ConditionExpression=(
                    "attribute_not_exists(#id) OR #expiration <= :now OR event_id = :event_id"
                ),
                ExpressionAttributeNames={"#id": "id", "#expiration": "expiration"},
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":event_id": {"S": request.event_id},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # ReturnValuesOnConditionCheckFailure puts the holder's item in the error
            # response, a key the stubs' error response does not declare.
            item = cast("dict[str, dict[str, str]]", error.response.get("Item", {}))
            return {
                "event_id": item.get("event_id", {}).get("S"),
                "trigger": item.get("trigger", {}).get("S"),
                "until": int(item.get("expiration", {}).get("N", 0)),
            }
        return None

    def _release_cooldown(self, request: StartRequest) -> None:
        if request.model.retraining.cooldown_seconds <= 0:
            return
        try:
            self.dynamodb.delete_item(
                TableName=self.table_name,
                Key={"id": {"S": COOLDOWN_KEY_PREFIX + request.model.model}},
                ConditionExpression="event_id = :event_id",
                ExpressionAttributeValues={":event_id": {"S": request.event_id}},
            )
        except ClientError:
            # The start's error is what matters; the slot is retaken by this event's retry.
            self.logger.exception("Could not release the cool-down slot after a failed start")


def display_name(trigger: Trigger, event_id: str) -> str:
    """``<trigger>-<event id>``, within SageMaker's 82 characters of letters, digits and ``-``."""
    safe_id = re.sub(r"[^A-Za-z0-9]+", "-", event_id).strip("-")
    return f"{trigger.value}-{safe_id}"[:DISPLAY_NAME_LENGTH].rstrip("-")


def client_request_token(model: str, event_id: str) -> str:
    """Same model and event, same token: SageMaker starts no second execution on a retry."""
    return hashlib.sha256(f"{model}:{event_id}".encode()).hexdigest()

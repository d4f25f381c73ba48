"""The latest arrival of new training data per model: how new data is batched.

Each ``Object Created`` under a model's dataset prefix is noted here (one item per model,
``arrival#<model>`` in the idempotency table, the newest arrival winning) and answered by a
message on the arrivals queue, delayed by the model's quiet period (SQS delays at most 900
seconds; a longer period is waited out by re-delaying). When a message comes back:

- its arrival is no longer the latest: a newer object arrived during the quiet period, and
  the newer arrival's own message carries the batch; this one ends;
- the quiet period since it has not passed yet: it is delayed again for the rest;
- else the batch is complete: one run starts, trained on the whole training prefix, and the
  arrival is marked started so that a redelivered message starts nothing.

So five objects arriving together start one run, never five.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_PREFIX = "arrival#"
#: SQS's largest ``DelaySeconds``.
MAX_DELAY_SECONDS = 900
#: An arrival is remembered this long after its quiet period.
RETENTION_SECONDS = 86400


def delay_seconds(remaining: float) -> int:
    """The ``DelaySeconds`` for ``remaining`` seconds of quiet period (1 to 900)."""
    return max(1, min(MAX_DELAY_SECONDS, int(-(-remaining // 1))))


@dataclass(frozen=True)
class LatestArrival:
    """The item of a model: its newest arrival."""

    arrival_id: str
    noted_at: int
    started_execution: str | None


class Arrivals:
    """The items of the arrivals in the table."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def note(self, model: str, arrival_id: str, now: int, quiet_period: int) -> bool:
        """Record ``arrival_id`` as the model's latest arrival, unless a later one is.

        Returns whether it was recorded (an arrival noted earlier by the clock, whose write
        lost a race, needs no message: the later one has its own).
        """
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item={
                    "id": {"S": KEY_PREFIX + model},
                    "arrival_id": {"S": arrival_id},
                    "noted_at": {"N": str(now)},
                    "expiration": {"N": str(now + quiet_period + RETENTION_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(#id) OR noted_at <= :now",
                ExpressionAttributeNames={"#id": "id"},
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def latest(self, model: str) -> LatestArrival | None:
        """The model's latest arrival, if one is remembered."""
        item = self.dynamodb.get_item(
            TableName=self.table_name,
            Key={"id": {"S": KEY_PREFIX + model}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return LatestArrival(
            arrival_id=item["arrival_id"]["S"],
            noted_at=int(item["noted_at"]["N"]),
            started_execution=item.get("started_execution", {}).get("S"),
        )

    def mark_started(self, model: str, arrival_id: str, execution_arn: str) -> None:
        """Remember that the batch ending with ``arrival_id`` started ``execution_arn``."""
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"id": {"S": KEY_PREFIX + model}},
                UpdateExpression="SET started_execution = :arn",
                ConditionExpression="arrival_id = :arrival",
                ExpressionAttributeValues={
                    ":arn": {"S": execution_arn},
                    ":arrival": {"S": arrival_id},
                },
            )
        except ClientError as error:
            # A newer arrival replaced the item: it opens the next batch, which is right.
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

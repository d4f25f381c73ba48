"""Settings of the retraining trigger, read from environment variables once per cold start.

Nothing here grows with the catalogue: each model's retraining settings are its
:class:`~platform_contracts.model_settings.ModelSettings` document, read at run time
(:class:`automation_runtime.ModelCatalogue`).

Environment variables
---------------------
NAME_PREFIX
    The environment's name prefix, ``ml-platform-<env>``: where the settings documents
    live (``/<prefix>/models/``).
EXPECTED_ACCOUNT_ID
    12-digit account id of the environment; events of any other account are parked.
AWS_REGION
    Set by Lambda: the environment's region.
IDEMPOTENCY_TABLE_NAME
    DynamoDB table (partition key ``id``, TTL attribute ``expiration``) holding the
    processed event ids, the models' cool-downs and their latest arrivals of new data;
    ``IDEMPOTENCY_TTL_SECONDS`` (default 86400) how long an event id is remembered.
DATASET_BUCKET_NAME
    The datasets bucket: its ``Object Created`` events under a model's dataset prefix are
    new training data, and every run trains on ``s3://<bucket>/<model>/training/``.
ARRIVALS_QUEUE_URL
    The function's own delay queue: an arrival of new data is answered by a message
    delayed by the quiet period (at most 900 seconds, re-delayed for a longer one).
DEAD_LETTER_QUEUE_URL
    SQS queue where unusable events are parked with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from automation_runtime import (
    ACCOUNT_ID,
    BUCKET_NAME,
    NAME_PREFIX,
    QUEUE_URL,
    REGION,
    SettingsError,
    required,
)

DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400


@dataclass(frozen=True)
class TriggerSettings:
    """Everything the retraining trigger reads from its environment, validated."""

    name_prefix: str
    account_id: str
    region: str
    idempotency_table_name: str
    dataset_bucket_name: str
    arrivals_queue_url: str
    dead_letter_queue_url: str
    idempotency_ttl_seconds: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS


def load_settings(environ: Mapping[str, str] = os.environ) -> TriggerSettings:
    """Read and check the environment; raise :class:`SettingsError` naming the first problem."""
    ttl = environ.get("IDEMPOTENCY_TTL_SECONDS", str(DEFAULT_IDEMPOTENCY_TTL_SECONDS))
    if not ttl.isdigit() or int(ttl) < 1:
        raise SettingsError(f"IDEMPOTENCY_TTL_SECONDS: expected a positive integer, got {ttl!r}")
    return TriggerSettings(
        name_prefix=required(environ, "NAME_PREFIX", NAME_PREFIX, "a name prefix"),
        account_id=required(environ, "EXPECTED_ACCOUNT_ID", ACCOUNT_ID, "12 digits"),
        region=required(environ, "AWS_REGION", REGION, "an AWS region"),
        idempotency_table_name=required(environ, "IDEMPOTENCY_TABLE_NAME"),
        dataset_bucket_name=required(
            environ, "DATASET_BUCKET_NAME", BUCKET_NAME, "an S3 bucket name"
        ),
        arrivals_queue_url=required(environ, "ARRIVALS_QUEUE_URL", QUEUE_URL, "an SQS URL"),
        dead_letter_queue_url=required(environ, "DEAD_LETTER_QUEUE_URL", QUEUE_URL, "an SQS URL"),
        idempotency_ttl_seconds=int(ttl),
    )

"""Settings of the retraining trigger, read from environment variables once per cold start.

The variables every automation function reads (``NAME_PREFIX``, ``EXPECTED_ACCOUNT_ID``,
``AWS_REGION``, ``DEAD_LETTER_QUEUE_URL``, ``IDEMPOTENCY_TABLE_NAME``,
``IDEMPOTENCY_TTL_SECONDS``) are described by :class:`automation_runtime.FunctionSettings`;
the idempotency table also holds the models' cool-downs and their latest arrivals of new
data. This function's own:

Environment variables
---------------------
DATASET_BUCKET_NAME
    The datasets bucket: its ``Object Created`` events under a model's dataset prefix are
    new training data, and every run trains on ``s3://<bucket>/<model>/training/``.
ARRIVALS_QUEUE_URL
    The function's own delay queue: an arrival of new data is answered by a message
    delayed by the quiet period (at most 900 seconds, re-delayed for a longer one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from automation_runtime import (
    BUCKET_NAME,
    QUEUE_URL,
    FunctionSettings,
    load_function_settings,
    required,
)


@dataclass(frozen=True, kw_only=True)
class TriggerSettings(FunctionSettings):
    """Everything the retraining trigger reads from its environment, validated."""

    dataset_bucket_name: str
    arrivals_queue_url: str


def load_settings(environ: Mapping[str, str] = os.environ) -> TriggerSettings:
    """Read and check the environment; raise :class:`SettingsError` naming the first problem."""
    return TriggerSettings(
        **asdict(load_function_settings(environ)),
        dataset_bucket_name=required(
            environ, "DATASET_BUCKET_NAME", BUCKET_NAME, "an S3 bucket name"
        ),
        arrivals_queue_url=required(environ, "ARRIVALS_QUEUE_URL", QUEUE_URL, "an SQS URL"),
    )

"""Retry policies shared by the pipelines' steps.

A job step retries throttling and service faults of the Pipelines service and, for the
job itself, SageMaker capacity shortages (spot included), account resource limits and
internal errors, with exponential backoff. A step that runs no job (``ModelStep``) only
accepts the first kind.
"""

from __future__ import annotations

from pipeline_definitions import offline_sdk

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.mlops.workflow import (
    RetryPolicy,
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)

STEP_RETRY_INTERVAL_SECONDS = 10
JOB_RETRY_INTERVAL_SECONDS = 60
BACKOFF_RATE = 2.0


def step_retry_policy(max_attempts: int) -> StepRetryPolicy:
    """Retry the step on Pipelines throttling and service faults."""
    return StepRetryPolicy(
        exception_types=[StepExceptionTypeEnum.THROTTLING, StepExceptionTypeEnum.SERVICE_FAULT],
        interval_seconds=STEP_RETRY_INTERVAL_SECONDS,
        backoff_rate=BACKOFF_RATE,
        max_attempts=max_attempts,
    )


def job_retry_policies(max_attempts: int) -> list[RetryPolicy]:
    """:func:`step_retry_policy`, and retry the job on capacity, limit and internal errors."""
    return [
        step_retry_policy(max_attempts),
        SageMakerJobStepRetryPolicy(
            exception_types=[
                SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT,
                SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
            ],
            interval_seconds=JOB_RETRY_INTERVAL_SECONDS,
            backoff_rate=BACKOFF_RATE,
            max_attempts=max_attempts,
        ),
    ]

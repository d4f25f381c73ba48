"""Settings of the release automation, read from environment variables once per cold start.

Nothing here grows with the catalogue: each model's release settings are its
:class:`~platform_contracts.model_settings.ModelSettings` document, read at run time
(:class:`automation_runtime.ModelCatalogue`).

Environment variables
---------------------
NAME_PREFIX
    The environment's name prefix, ``ml-platform-<env>``: where the settings documents
    (``/<prefix>/models/``) and the release records (``/<prefix>/releases/``) live.
EXPECTED_ACCOUNT_ID
    12-digit account id of the environment; events of any other account are parked.
AWS_REGION
    Set by Lambda: the environment's region.
DEAD_LETTER_QUEUE_URL
    SQS queue where unusable events are parked with the reason.
RETRY_QUEUE_URL
    The function's own delay queue: a stack update that found the stack busy is retried
    from it (``DelaySeconds`` up to 900) until the stack is idle.
IDEMPOTENCY_TABLE_NAME
    DynamoDB table (partition key ``id``, TTL attribute ``expiration``) that remembers
    processed EventBridge event ids; ``IDEMPOTENCY_TTL_SECONDS`` (default 86400) how long.
CLOUDFORMATION_ROLE_ARN
    Optional. Passed as ``RoleARN`` to ``UpdateStack`` when set (the function then needs
    ``iam:PassRole`` on it). Unset, CloudFormation uses the role the stack was deployed with
    (``cdk deploy`` passes the bootstrap's ``cdk-hnb659fds-cfn-exec-role-<account>-<region>``),
    which is what the UpdateStack API reference documents for an omitted ``RoleARN``.
PREVIOUS_ACCOUNT_ID, PREVIOUS_REGION, PREVIOUS_NAME_PREFIX
    Optional, all or none: the environment this one imports model versions from
    (staging's is dev). ``ARTIFACTS_BUCKET_NAME`` (this environment's model-artifacts
    bucket, where imported artifacts are copied) is then required.
POWERTOOLS_METRICS_NAMESPACE
    Optional, default ``MLPlatform/Releases``: namespace of the function's metrics.
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
    ROLE_ARN,
    SettingsError,
    optional,
    required,
)

DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400
DEFAULT_METRICS_NAMESPACE = "MLPlatform/Releases"
_PREVIOUS = ("PREVIOUS_ACCOUNT_ID", "PREVIOUS_REGION", "PREVIOUS_NAME_PREFIX")


@dataclass(frozen=True)
class PreviousEnvironment:
    """The environment versions are imported from."""

    account_id: str
    region: str
    name_prefix: str


@dataclass(frozen=True)
class ReleaseAutomationSettings:
    """Everything the release automation reads from its environment, validated."""

    name_prefix: str
    account_id: str
    region: str
    dead_letter_queue_url: str
    retry_queue_url: str
    idempotency_table_name: str
    idempotency_ttl_seconds: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS
    cloudformation_role_arn: str | None = None
    artifacts_bucket_name: str | None = None
    previous: PreviousEnvironment | None = None
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE


def load_settings(environ: Mapping[str, str] = os.environ) -> ReleaseAutomationSettings:
    """Read and check the environment; raise :class:`SettingsError` naming the first problem."""
    ttl = environ.get("IDEMPOTENCY_TTL_SECONDS", str(DEFAULT_IDEMPOTENCY_TTL_SECONDS))
    if not ttl.isdigit() or int(ttl) < 1:
        raise SettingsError(f"IDEMPOTENCY_TTL_SECONDS: expected a positive integer, got {ttl!r}")
    previous = _previous(environ)
    bucket = optional(environ, "ARTIFACTS_BUCKET_NAME", BUCKET_NAME, "an S3 bucket name")
    if previous is not None and bucket is None:
        raise SettingsError("ARTIFACTS_BUCKET_NAME: required when PREVIOUS_ACCOUNT_ID is set")
    return ReleaseAutomationSettings(
        name_prefix=required(environ, "NAME_PREFIX", NAME_PREFIX, "a name prefix"),
        account_id=required(environ, "EXPECTED_ACCOUNT_ID", ACCOUNT_ID, "12 digits"),
        region=required(environ, "AWS_REGION", REGION, "an AWS region"),
        dead_letter_queue_url=required(environ, "DEAD_LETTER_QUEUE_URL", QUEUE_URL, "an SQS URL"),
        retry_queue_url=required(environ, "RETRY_QUEUE_URL", QUEUE_URL, "an SQS URL"),
        idempotency_table_name=required(environ, "IDEMPOTENCY_TABLE_NAME"),
        idempotency_ttl_seconds=int(ttl),
        cloudformation_role_arn=optional(
            environ, "CLOUDFORMATION_ROLE_ARN", ROLE_ARN, "an IAM role ARN"
        ),
        artifacts_bucket_name=bucket,
        previous=previous,
        metrics_namespace=environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
    )


def _previous(environ: Mapping[str, str]) -> PreviousEnvironment | None:
    present = [name for name in _PREVIOUS if environ.get(name, "").strip()]
    if not present:
        return None
    if len(present) != len(_PREVIOUS):
        missing = sorted(set(_PREVIOUS) - set(present))
        raise SettingsError(f"{missing[0]}: required when {present[0]} is set (all or none)")
    return PreviousEnvironment(
        account_id=required(environ, "PREVIOUS_ACCOUNT_ID", ACCOUNT_ID, "12 digits"),
        region=required(environ, "PREVIOUS_REGION", REGION, "an AWS region"),
        name_prefix=required(environ, "PREVIOUS_NAME_PREFIX", NAME_PREFIX, "a name prefix"),
    )

"""Settings of the release automation, read from environment variables once per cold start.

The variables every automation function reads (``NAME_PREFIX``, ``EXPECTED_ACCOUNT_ID``,
``AWS_REGION``, ``DEAD_LETTER_QUEUE_URL``, ``IDEMPOTENCY_TABLE_NAME``,
``IDEMPOTENCY_TTL_SECONDS``) are described by :class:`automation_runtime.FunctionSettings`;
the release records live under ``/<NAME_PREFIX>/releases/``. This function's own:

Environment variables
---------------------
RETRY_QUEUE_URL
    The function's own delay queue: a stack update that found the stack busy is retried
    from it (``DelaySeconds`` up to 900) until the stack is idle.
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
from dataclasses import asdict, dataclass

from automation_runtime import (
    ACCOUNT_ID,
    BUCKET_NAME,
    NAME_PREFIX,
    QUEUE_URL,
    REGION,
    ROLE_ARN,
    FunctionSettings,
    SettingsError,
    load_function_settings,
    optional,
    required,
)

DEFAULT_METRICS_NAMESPACE = "MLPlatform/Releases"
_PREVIOUS = ("PREVIOUS_ACCOUNT_ID", "PREVIOUS_REGION", "PREVIOUS_NAME_PREFIX")


@dataclass(frozen=True)
class PreviousEnvironment:
    """The environment versions are imported from."""

    account_id: str
    region: str
    name_prefix: str


@dataclass(frozen=True, kw_only=True)
class ReleaseAutomationSettings(FunctionSettings):
    """Everything the release automation reads from its environment, validated."""

    retry_queue_url: str
    cloudformation_role_arn: str | None = None
    artifacts_bucket_name: str | None = None
    previous: PreviousEnvironment | None = None
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE


def load_settings(environ: Mapping[str, str] = os.environ) -> ReleaseAutomationSettings:
    """Read and check the environment; raise :class:`SettingsError` naming the first problem."""
    common = load_function_settings(environ)
    previous = _previous(environ)
    bucket = optional(environ, "ARTIFACTS_BUCKET_NAME", BUCKET_NAME, "an S3 bucket name")
    if previous is not None and bucket is None:
        raise SettingsError("ARTIFACTS_BUCKET_NAME: required when PREVIOUS_ACCOUNT_ID is set")
    return ReleaseAutomationSettings(
        **asdict(common),
        retry_queue_url=required(environ, "RETRY_QUEUE_URL", QUEUE_URL, "an SQS URL"),
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

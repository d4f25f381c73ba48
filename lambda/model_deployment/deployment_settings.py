"""Settings of the model deployment function, read from environment variables once per cold start.

Environment variables
---------------------
EXPECTED_ACCOUNT_ID
    12-digit account id; events from any other account are dead-lettered.
DEAD_LETTER_QUEUE_URL
    URL of the SQS queue that receives events the function cannot act on.
IDEMPOTENCY_TABLE_NAME
    DynamoDB table for Powertools idempotency records (partition key ``id``, string; TTL
    attribute ``expiration``).
IDEMPOTENCY_TTL_SECONDS
    Optional, default 86400: how long a processed event id is remembered.
MODEL_EXECUTION_ROLE_ARN
    IAM role the created SageMaker models run with, unless a model names its own
    (required when one does not).
MODEL_VPC_SUBNET_IDS, MODEL_VPC_SECURITY_GROUP_IDS
    Optional, comma-separated; both or neither. When set, models run in that VPC.
MODEL_ENABLE_NETWORK_ISOLATION
    Optional ``true`` or ``false`` (default): network isolation of the created models.
POWERTOOLS_METRICS_NAMESPACE
    Optional, default ``MLPlatform/ModelDeployment``: namespace of the function's metrics.
BASELINES_URI
    Optional ``s3://bucket/prefix``: where the drift-check baselines of a package being
    rolled out are copied, as ``<prefix>/<group>/<monitor>/<file>``, for Model Monitor.
DEPLOYMENT_MODELS
    JSON object, model package group name -> deployment policy (per model, optional:
    ``execution_role_arn`` overrides MODEL_EXECUTION_ROLE_ARN, ``in_vpc`` false runs the
    model outside the VPC (serverless), ``network_isolation`` overrides the global flag)::

        {"churn": {"endpoint_name": "churn-prod",
                   "variant_names": ["AllTraffic"],
                   "initial_data_capture": {"destination_s3_uri": "s3://capture-bucket/churn"},
                   "initial_variant": {"variant_name": "AllTraffic",
                                       "instance_type": "ml.m5.large",
                                       "initial_instance_count": 2},
                   "rollout": {"strategy": "canary",
                               "canary_percent": 10,
                               "wait_seconds": 600,
                               "termination_wait_seconds": 300,
                               "maximum_execution_timeout_seconds": 3600,
                               "rollback_alarm_names": ["churn-prod-5xx", "churn-prod-latency"]}}}

    ``endpoint_name`` and ``rollout`` are required. ``variant_names`` lists the production
    variants that receive the new model (default: all; shadow variants keep theirs).
    ``initial_variant`` and ``initial_data_capture`` (``destination_s3_uri``,
    ``sampling_percent`` default 100) are used only when the endpoint does not exist yet
    (default ``AllTraffic`` on one ``ml.m5.large``, no capture); later versions inherit the
    live endpoint's configuration instead. ``rollout.strategy`` is one of:

    - ``all_at_once``: blue/green, all traffic shifted at once;
    - ``canary``: blue/green, ``canary_percent`` (1-99) of capacity first, then the rest;
    - ``linear``: blue/green, ``step_percent`` (1-99) of capacity per step;
    - ``rolling``: in-place batches of ``batch_percent`` (1-100) of capacity, rolled back in
      batches of ``rollback_batch_percent`` (default 100).

    Common rollout fields: ``wait_seconds`` (0-3600, default 300), ``termination_wait_seconds``
    (blue/green only, 0-3600, default 0), ``maximum_execution_timeout_seconds`` (600-28800,
    optional) and ``rollback_alarm_names`` (CloudWatch alarms that roll back the update;
    required, non-empty, for ``canary``, ``linear`` and ``rolling``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400
DEFAULT_METRICS_NAMESPACE = "MLPlatform/ModelDeployment"
STRATEGIES = ("all_at_once", "canary", "linear", "rolling")

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/\S+$")
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
_MODEL_FIELDS = frozenset(
    {
        "endpoint_name",
        "variant_names",
        "initial_variant",
        "initial_data_capture",
        "rollout",
        "execution_role_arn",
        "in_vpc",
        "network_isolation",
    }
)
_VARIANT_FIELDS = frozenset({"variant_name", "instance_type", "initial_instance_count"})
_DATA_CAPTURE_FIELDS = frozenset({"destination_s3_uri", "sampling_percent"})
_ROLLOUT_FIELDS = {
    "all_at_once": {"termination_wait_seconds", "maximum_execution_timeout_seconds"},
    "canary": {"canary_percent", "termination_wait_seconds", "maximum_execution_timeout_seconds"},
    "linear": {"step_percent", "termination_wait_seconds", "maximum_execution_timeout_seconds"},
    "rolling": {"batch_percent", "rollback_batch_percent", "maximum_execution_timeout_seconds"},
}
_COMMON_ROLLOUT_FIELDS = {"strategy", "wait_seconds", "rollback_alarm_names"}


class SettingsError(ValueError):
    """A missing or invalid environment variable; the message names it and what is allowed."""


@dataclass(frozen=True)
class InitialVariant:
    variant_name: str = "AllTraffic"
    instance_type: str = "ml.m5.large"
    initial_instance_count: int = 1


@dataclass(frozen=True)
class InitialDataCapture:
    destination_s3_uri: str
    sampling_percent: int = 100

    def data_capture_config(self) -> dict[str, Any]:
        """The ``DataCaptureConfig`` of a new endpoint: requests and responses, for monitors."""
        return {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.sampling_percent,
            "DestinationS3Uri": self.destination_s3_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }


@dataclass(frozen=True)
class Rollout:
    """How traffic moves to a new model on an existing endpoint."""

    strategy: str
    wait_seconds: int = 300
    rollback_alarm_names: tuple[str, ...] = ()
    canary_percent: int | None = None
    step_percent: int | None = None
    batch_percent: int | None = None
    rollback_batch_percent: int = 100
    termination_wait_seconds: int = 0
    maximum_execution_timeout_seconds: int | None = None

    def deployment_config(self) -> dict[str, Any]:
        """The ``DeploymentConfig`` argument of ``UpdateEndpoint``."""
        timeout = (
            {"MaximumExecutionTimeoutInSeconds": self.maximum_execution_timeout_seconds}
            if self.maximum_execution_timeout_seconds is not None
            else {}
        )
        config: dict[str, Any]
        if self.strategy == "rolling":
            config = {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": _capacity(self.batch_percent),
                    "WaitIntervalInSeconds": self.wait_seconds,
                    "RollbackMaximumBatchSize": _capacity(self.rollback_batch_percent),
                    **timeout,
                }
            }
        else:
            routing: dict[str, Any] = {
                "Type": self.strategy.upper(),
                "WaitIntervalInSeconds": self.wait_seconds,
            }
            if self.strategy == "canary":
                routing["CanarySize"] = _capacity(self.canary_percent)
            if self.strategy == "linear":
                routing["LinearStepSize"] = _capacity(self.step_percent)
            config = {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": routing,
                    "TerminationWaitInSeconds": self.termination_wait_seconds,
                    **timeout,
                }
            }
        if self.rollback_alarm_names:
            config["AutoRollbackConfiguration"] = {
                "Alarms": [{"AlarmName": name} for name in self.rollback_alarm_names]
            }
        return config


def _capacity(percent: int | None) -> dict[str, Any]:
    return {"Type": "CAPACITY_PERCENT", "Value": percent}


@dataclass(frozen=True)
class ModelDeployment:
    """Where and how the approved versions of one model package group are deployed."""

    model_package_group_name: str
    endpoint_name: str
    variant_names: tuple[str, ...] | None
    initial_variant: InitialVariant
    initial_data_capture: InitialDataCapture | None
    rollout: Rollout
    execution_role_arn: str | None = None
    in_vpc: bool = True
    network_isolation: bool | None = None


@dataclass(frozen=True)
class DeploymentSettings:
    """Everything the deployment function reads from its environment, validated."""

    expected_account_id: str
    dead_letter_queue_url: str
    idempotency_table_name: str
    idempotency_ttl_seconds: int
    execution_role_arn: str | None
    vpc_config: Mapping[str, list[str]] | None
    enable_network_isolation: bool
    metrics_namespace: str
    models: Mapping[str, ModelDeployment]
    baselines_uri: str | None = None


def load_settings(environ: Mapping[str, str] = os.environ) -> DeploymentSettings:
    """Read and validate the environment; raise `SettingsError` naming the first problem."""
    settings = _load(environ)
    for group, model in settings.models.items():
        if model.execution_role_arn is None and settings.execution_role_arn is None:
            raise SettingsError(
                f"MODEL_EXECUTION_ROLE_ARN: required environment variable is missing or empty"
                f" (and DEPLOYMENT_MODELS[{group!r}] names no execution_role_arn)"
            )
    return settings


def _load(environ: Mapping[str, str]) -> DeploymentSettings:
    return DeploymentSettings(
        expected_account_id=_matching(environ, "EXPECTED_ACCOUNT_ID", _ACCOUNT_ID, "12 digits"),
        dead_letter_queue_url=_matching(
            environ, "DEAD_LETTER_QUEUE_URL", re.compile(r"^https://\S+$"), "an https:// SQS URL"
        ),
        idempotency_table_name=_required(environ, "IDEMPOTENCY_TABLE_NAME"),
        idempotency_ttl_seconds=_int(
            environ.get("IDEMPOTENCY_TTL_SECONDS", str(DEFAULT_IDEMPOTENCY_TTL_SECONDS)),
            "IDEMPOTENCY_TTL_SECONDS",
            minimum=1,
        ),
        execution_role_arn=(
            _matching(environ, "MODEL_EXECUTION_ROLE_ARN", _ROLE_ARN, "an IAM role ARN")
            if environ.get("MODEL_EXECUTION_ROLE_ARN", "").strip()
            else None
        ),
        vpc_config=_vpc_config(environ),
        enable_network_isolation=_bool(environ, "MODEL_ENABLE_NETWORK_ISOLATION", default=False),
        metrics_namespace=environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
        models=_models(_json_object(environ, "DEPLOYMENT_MODELS")),
        baselines_uri=_optional_s3_uri(environ, "BASELINES_URI"),
    )


def _vpc_config(environ: Mapping[str, str]) -> dict[str, list[str]] | None:
    subnets = _csv(environ.get("MODEL_VPC_SUBNET_IDS", ""))
    groups = _csv(environ.get("MODEL_VPC_SECURITY_GROUP_IDS", ""))
    if bool(subnets) != bool(groups):
        raise SettingsError(
            "MODEL_VPC_SUBNET_IDS, MODEL_VPC_SECURITY_GROUP_IDS: set both or neither, "
            f"got subnets={subnets} security groups={groups}"
        )
    if not subnets:
        return None
    for value in subnets:
        if not re.match(r"^subnet-[0-9a-f]+$", value):
            raise SettingsError(f"MODEL_VPC_SUBNET_IDS: expected subnet-... ids, got {value!r}")
    for value in groups:
        if not re.match(r"^sg-[0-9a-f]+$", value):
            raise SettingsError(f"MODEL_VPC_SECURITY_GROUP_IDS: expected sg-... ids, got {value!r}")
    return {"Subnets": subnets, "SecurityGroupIds": groups}


def _models(raw: Mapping[str, Any]) -> dict[str, ModelDeployment]:
    if not raw:
        raise SettingsError("DEPLOYMENT_MODELS: expected at least one model package group, got {}")
    models = {group: _model(group, spec) for group, spec in raw.items()}
    endpoints: dict[str, str] = {}
    for model in models.values():
        other = endpoints.setdefault(model.endpoint_name, model.model_package_group_name)
        if other != model.model_package_group_name:
            raise SettingsError(
                f"DEPLOYMENT_MODELS: endpoint {model.endpoint_name!r} is claimed by both "
                f"{other!r} and {model.model_package_group_name!r}"
            )
    return models


def _model(group: str, spec: Any) -> ModelDeployment:
    where = f"DEPLOYMENT_MODELS[{group!r}]"
    _check_fields(spec, where, _MODEL_FIELDS)
    endpoint_name = spec.get("endpoint_name")
    if not isinstance(endpoint_name, str) or not _RESOURCE_NAME.match(endpoint_name):
        raise SettingsError(
            f"{where}.endpoint_name: expected a SageMaker endpoint name, got {endpoint_name!r}"
        )
    variant_names = spec.get("variant_names")
    if variant_names is not None and (
        not isinstance(variant_names, list)
        or not variant_names
        or not all(isinstance(v, str) and v for v in variant_names)
    ):
        raise SettingsError(
            f"{where}.variant_names: expected a non-empty list of variant names, "
            f"got {variant_names!r}"
        )
    return ModelDeployment(
        model_package_group_name=group,
        endpoint_name=endpoint_name,
        variant_names=tuple(variant_names) if variant_names is not None else None,
        initial_variant=_initial_variant(
            spec.get("initial_variant", {}), f"{where}.initial_variant"
        ),
        initial_data_capture=_initial_data_capture(
            spec.get("initial_data_capture"), f"{where}.initial_data_capture"
        ),
        rollout=_rollout(spec.get("rollout"), f"{where}.rollout"),
        execution_role_arn=_optional_role(spec.get("execution_role_arn"), where),
        in_vpc=_flag(spec.get("in_vpc", True), f"{where}.in_vpc"),
        network_isolation=(
            None
            if spec.get("network_isolation") is None
            else _flag(spec["network_isolation"], f"{where}.network_isolation")
        ),
    )


def _optional_role(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ROLE_ARN.match(value):
        raise SettingsError(f"{where}.execution_role_arn: expected an IAM role ARN, got {value!r}")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    return value


def _initial_variant(spec: Any, where: str) -> InitialVariant:
    _check_fields(spec, where, _VARIANT_FIELDS)
    default = InitialVariant()
    name = spec.get("variant_name", default.variant_name)
    instance_type = spec.get("instance_type", default.instance_type)
    if not isinstance(name, str) or not _RESOURCE_NAME.match(name):
        raise SettingsError(f"{where}.variant_name: expected a variant name, got {name!r}")
    if not isinstance(instance_type, str) or not re.match(
        r"^ml\.[a-z0-9]+\.[a-z0-9]+$", instance_type
    ):
        raise SettingsError(
            f"{where}.instance_type: expected an ml.<family>.<size> type, got {instance_type!r}"
        )
    return InitialVariant(
        variant_name=name,
        instance_type=instance_type,
        initial_instance_count=_int(
            spec.get("initial_instance_count", default.initial_instance_count),
            f"{where}.initial_instance_count",
            minimum=1,
        ),
    )


def _initial_data_capture(spec: Any, where: str) -> InitialDataCapture | None:
    if spec is None:
        return None
    _check_fields(spec, where, _DATA_CAPTURE_FIELDS)
    uri = spec.get("destination_s3_uri")
    if not isinstance(uri, str) or not re.match(
        r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/\S*)?$", uri
    ):
        raise SettingsError(f"{where}.destination_s3_uri: expected an s3:// URI, got {uri!r}")
    return InitialDataCapture(
        destination_s3_uri=uri,
        sampling_percent=_int(
            spec.get("sampling_percent", 100), f"{where}.sampling_percent", minimum=0, maximum=100
        ),
    )


def _rollout(spec: Any, where: str) -> Rollout:
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: required, an object with a 'strategy' of {list(STRATEGIES)}")
    strategy = spec.get("strategy")
    if strategy not in STRATEGIES:
        raise SettingsError(
            f"{where}.strategy: expected one of {list(STRATEGIES)}, got {strategy!r}"
        )
    _check_fields(spec, where, _COMMON_ROLLOUT_FIELDS | _ROLLOUT_FIELDS[strategy])
    alarms = spec.get("rollback_alarm_names", [])
    if not isinstance(alarms, list) or not all(isinstance(a, str) and a for a in alarms):
        raise SettingsError(
            f"{where}.rollback_alarm_names: expected a list of alarm names, got {alarms!r}"
        )
    if len(alarms) > 10:
        raise SettingsError(f"{where}.rollback_alarm_names: at most 10 alarms, got {len(alarms)}")
    if strategy != "all_at_once" and not alarms:
        raise SettingsError(
            f"{where}.rollback_alarm_names: required for strategy {strategy!r}, "
            "so that a bad model is rolled back"
        )
    required_percent = {
        "canary": "canary_percent",
        "linear": "step_percent",
        "rolling": "batch_percent",
    }
    percents: dict[str, int] = {}
    if strategy in required_percent:
        name = required_percent[strategy]
        if name not in spec:
            raise SettingsError(f"{where}.{name}: required for strategy {strategy!r}")
        upper = 100 if strategy == "rolling" else 99
        percents[name] = _int(spec[name], f"{where}.{name}", minimum=1, maximum=upper)
    if strategy == "rolling":
        percents["rollback_batch_percent"] = _int(
            spec.get("rollback_batch_percent", 100),
            f"{where}.rollback_batch_percent",
            minimum=1,
            maximum=100,
        )
    timeout = spec.get("maximum_execution_timeout_seconds")
    return Rollout(
        strategy=strategy,
        wait_seconds=_int(
            spec.get("wait_seconds", 300), f"{where}.wait_seconds", minimum=0, maximum=3600
        ),
        rollback_alarm_names=tuple(alarms),
        termination_wait_seconds=_int(
            spec.get("termination_wait_seconds", 0),
            f"{where}.termination_wait_seconds",
            minimum=0,
            maximum=3600,
        ),
        maximum_execution_timeout_seconds=(
            None
            if timeout is None
            else _int(
                timeout, f"{where}.maximum_execution_timeout_seconds", minimum=600, maximum=28800
            )
        ),
        **percents,
    )


def _check_fields(spec: Any, where: str, allowed: frozenset[str] | set[str]) -> None:
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: expected an object, got {spec!r}")
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise SettingsError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")


def _json_object(environ: Mapping[str, str], name: str) -> dict[str, Any]:
    text = _required(environ, name)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"{name}: not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise SettingsError(f"{name}: expected a JSON object, got {type(value).__name__}")
    return value


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name}: required environment variable is missing or empty")
    return value


def _matching(environ: Mapping[str, str], name: str, pattern: re.Pattern[str], allowed: str) -> str:
    value = _required(environ, name)
    if not pattern.match(value):
        raise SettingsError(f"{name}: expected {allowed}, got {value!r}")
    return value


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _bool(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise SettingsError(f"{name}: expected 'true' or 'false', got {value!r}")
    return value == "true"


def _int(value: Any, where: str, *, minimum: int, maximum: int | None = None) -> int:
    allowed = (
        f"an integer in {minimum}..{maximum}" if maximum is not None else f"an integer >= {minimum}"
    )
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise SettingsError(f"{where}: expected {allowed}, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected {allowed}, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        raise SettingsError(f"{where}: expected {allowed}, got {value!r}")
    return number


def _optional_s3_uri(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", value):
        raise SettingsError(f"{name}: {value!r} is not an s3://bucket/prefix URI")
    return value.rstrip("/")

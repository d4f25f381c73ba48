"""Settings of the retraining trigger, read from environment variables once per cold start.

Environment variables
---------------------
EXPECTED_ACCOUNT_ID
    12-digit account id; events from any other account are dead-lettered.
DEAD_LETTER_QUEUE_URL
    URL of the SQS queue that receives events the function cannot act on.
IDEMPOTENCY_TABLE_NAME
    DynamoDB table (partition key ``id``, string; TTL attribute ``expiration``) that holds
    both the Powertools idempotency records and the per-model cool-down records.
IDEMPOTENCY_TTL_SECONDS
    Optional, default 86400: how long a processed event id is remembered.
DATASET_BUCKET_NAME
    Optional: the bucket whose "Object Created" events mean new training data. Required as
    soon as one model sets ``dataset_prefix``.
RETRAINING_MODELS
    JSON object, model name -> retraining policy::

        {"churn": {"pipeline_name": "churn-training",
                   "cooldown_seconds": 21600,
                   "dataset_prefix": "churn/incoming/",
                   "input_data_parameter": "InputDataUri",
                   "drift_alarm_names": ["churn-feature-drift"],
                   "monitoring_schedule_names": ["churn-data-quality"],
                   "schedule_rule_names": ["churn-weekly-retraining"]}}

    Only ``pipeline_name`` is required. ``cooldown_seconds`` defaults to 3600 (0 disables
    the cool-down); ``input_data_parameter`` defaults to ``InputDataUri`` and is the
    pipeline parameter that receives the new object's ``s3://`` URI; the name lists default
    to empty. An alarm, schedule or rule name may belong to one model only, and no dataset
    prefix may contain another, so that every event maps to at most one model.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_COOLDOWN_SECONDS = 3600
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400
DEFAULT_INPUT_DATA_PARAMETER = "InputDataUri"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_PIPELINE_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$")
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
_MODEL_FIELDS = frozenset(
    {
        "pipeline_name",
        "cooldown_seconds",
        "dataset_prefix",
        "input_data_parameter",
        "drift_alarm_names",
        "monitoring_schedule_names",
        "schedule_rule_names",
    }
)


class SettingsError(ValueError):
    """A missing or invalid environment variable; the message names it and what is allowed."""


@dataclass(frozen=True)
class ModelRetraining:
    """How one model is retrained."""

    name: str
    pipeline_name: str
    cooldown_seconds: int
    dataset_prefix: str | None
    input_data_parameter: str
    drift_alarm_names: tuple[str, ...]
    monitoring_schedule_names: tuple[str, ...]
    schedule_rule_names: tuple[str, ...]


@dataclass(frozen=True)
class TriggerSettings:
    """Everything the retraining trigger reads from its environment, validated."""

    expected_account_id: str
    dead_letter_queue_url: str
    idempotency_table_name: str
    idempotency_ttl_seconds: int
    dataset_bucket_name: str | None
    models: Mapping[str, ModelRetraining]

    def model_for_alarm(self, alarm_name: str) -> ModelRetraining | None:
        return _find(self.models, lambda m: alarm_name in m.drift_alarm_names)

    def model_for_monitoring_schedule(self, schedule_name: str) -> ModelRetraining | None:
        return _find(self.models, lambda m: schedule_name in m.monitoring_schedule_names)

    def model_for_schedule_rule(self, rule_name: str) -> ModelRetraining | None:
        return _find(self.models, lambda m: rule_name in m.schedule_rule_names)

    def model_for_object_key(self, key: str) -> ModelRetraining | None:
        return _find(
            self.models,
            lambda m: m.dataset_prefix is not None and key.startswith(m.dataset_prefix),
        )


def _find(models: Mapping[str, ModelRetraining], match: Any) -> ModelRetraining | None:
    # Names are unique across models (checked at load), so the first match is the only one.
    return next((m for m in models.values() if match(m)), None)


def load_settings(environ: Mapping[str, str] = os.environ) -> TriggerSettings:
    """Read and validate the environment; raise `SettingsError` naming the first problem."""
    models = _models(_json_object(environ, "RETRAINING_MODELS"))
    bucket = environ.get("DATASET_BUCKET_NAME") or None
    if bucket is None and any(m.dataset_prefix for m in models.values()):
        raise SettingsError(
            "DATASET_BUCKET_NAME: required when a model in RETRAINING_MODELS sets dataset_prefix"
        )
    return TriggerSettings(
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
        dataset_bucket_name=bucket,
        models=models,
    )


def _models(raw: Mapping[str, Any]) -> dict[str, ModelRetraining]:
    if not raw:
        raise SettingsError("RETRAINING_MODELS: expected at least one model, got {}")
    models = {name: _model(name, spec) for name, spec in raw.items()}
    _check_unique(models, "drift_alarm_names")
    _check_unique(models, "monitoring_schedule_names")
    _check_unique(models, "schedule_rule_names")
    prefixes = [(m.dataset_prefix, m.name) for m in models.values() if m.dataset_prefix]
    for prefix, owner in prefixes:
        for other, other_owner in prefixes:
            if owner != other_owner and other.startswith(prefix):
                raise SettingsError(
                    f"RETRAINING_MODELS: dataset_prefix {prefix!r} of model {owner!r} contains "
                    f"{other!r} of model {other_owner!r}; prefixes must not overlap"
                )
    return models


def _model(name: str, spec: Any) -> ModelRetraining:
    where = f"RETRAINING_MODELS[{name!r}]"
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: expected an object, got {spec!r}")
    unknown = sorted(set(spec) - _MODEL_FIELDS)
    if unknown:
        raise SettingsError(
            f"{where}: unknown field(s) {unknown}; allowed: {sorted(_MODEL_FIELDS)}"
        )
    pipeline_name = spec.get("pipeline_name")
    if not isinstance(pipeline_name, str) or not _PIPELINE_NAME.match(pipeline_name):
        raise SettingsError(
            f"{where}.pipeline_name: expected a SageMaker pipeline name, got {pipeline_name!r}"
        )
    prefix = spec.get("dataset_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix or prefix.startswith("/")):
        raise SettingsError(
            f"{where}.dataset_prefix: expected a non-empty S3 key prefix without a leading '/', "
            f"got {prefix!r}"
        )
    parameter = spec.get("input_data_parameter", DEFAULT_INPUT_DATA_PARAMETER)
    if not isinstance(parameter, str) or not _PARAMETER_NAME.match(parameter):
        raise SettingsError(
            f"{where}.input_data_parameter: expected a pipeline parameter name, got {parameter!r}"
        )
    return ModelRetraining(
        name=name,
        pipeline_name=pipeline_name,
        cooldown_seconds=_int(
            spec.get("cooldown_seconds", DEFAULT_COOLDOWN_SECONDS),
            f"{where}.cooldown_seconds",
            minimum=0,
        ),
        dataset_prefix=prefix,
        input_data_parameter=parameter,
        drift_alarm_names=_names(spec, "drift_alarm_names", where),
        monitoring_schedule_names=_names(spec, "monitoring_schedule_names", where),
        schedule_rule_names=_names(spec, "schedule_rule_names", where),
    )


def _names(spec: Mapping[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = spec.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SettingsError(f"{where}.{field}: expected a list of non-empty strings, got {value!r}")
    return tuple(value)


def _check_unique(models: Mapping[str, ModelRetraining], field: str) -> None:
    owners: dict[str, str] = {}
    for model in models.values():
        for value in getattr(model, field):
            if value in owners and owners[value] != model.name:
                raise SettingsError(
                    f"RETRAINING_MODELS: {field} entry {value!r} is claimed by both "
                    f"{owners[value]!r} and {model.name!r}; each may belong to one model"
                )
            owners[value] = model.name


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


def _int(value: Any, where: str, *, minimum: int) -> int:
    if isinstance(value, bool):
        raise SettingsError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected an integer >= {minimum}, got {value!r}") from None
    if number < minimum or (isinstance(value, float) and value != number):
        raise SettingsError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return number

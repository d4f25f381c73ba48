"""The module every function shares: settings, event fields, parking, model catalogue."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from automation_runtime import (
    CATALOGUE_REFRESH_SECONDS,
    DeadLetterQueue,
    ModelCatalogue,
    SettingsError,
    UnusableEventError,
    eventbridge_kind,
    field,
    optional,
    queue_message,
    required,
)
from aws_lambda_powertools import Logger

from platform_contracts.model_settings import (
    ModelSettings,
    ReleaseSettings,
    RetrainingSettings,
    settings_parameter_name,
)

PREFIX = "ml-platform-dev"


def settings(model: str) -> ModelSettings:
    return ModelSettings(
        model=model,
        pipeline_name=f"{PREFIX}-{model}-training",
        model_package_group_name=f"{PREFIX}-{model}",
        retraining=RetrainingSettings(cooldown_seconds=60, on_drift=False),
        release=ReleaseSettings(stack_name=f"{PREFIX}-model-{model}"),
    )


def publish(model: str, text: str | None = None) -> None:
    boto3.client("ssm").put_parameter(
        Name=settings_parameter_name(PREFIX, model),
        Value=text or settings(model).to_json(),
        Type="String",
        Overwrite=True,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- Environment variables ----------------------------------------------------------------


def test_required_and_optional_name_the_variable_and_what_is_allowed():
    pattern = re.compile(r"^\d{12}$")

    assert required({"A": " 123456789012 "}, "A", pattern, "12 digits") == "123456789012"
    assert optional({"A": ""}, "A", pattern, "12 digits") is None
    with pytest.raises(SettingsError, match=r"^A: expected 12 digits, got '12'$"):
        optional({"A": "12"}, "A", pattern, "12 digits")
    with pytest.raises(SettingsError, match=r"^B: required environment variable is missing"):
        required({}, "B")


# --- Event fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "kind", "detail"),
    [
        ({}, str, "detail.status is missing"),
        ({"detail": "x"}, str, "detail.status is missing"),
        ({"detail": {"status": ""}}, str, "detail.status is empty"),
        ({"detail": {"status": 7}}, str, "detail.status is 7, not str"),
        ({"detail": {"status": True}}, int, "detail.status is true, not int"),
        ({"detail": {"status": "x" * 200}}, int, 'detail.status is "' + "x" * 78),
    ],
)
def test_a_missing_or_wrong_typed_field_is_unusable_with_its_path(event, kind, detail):
    with pytest.raises(UnusableEventError) as raised:
        field(event, "detail.status", kind)

    assert raised.value.reason == "malformed-event"
    assert raised.value.detail.startswith(detail) and len(raised.value.detail) < 120


def test_a_present_field_of_the_right_type_is_returned():
    assert field({"detail": {"version": 3}}, "detail.version", int) == 3


def test_an_eventbridge_event_is_its_source_and_detail_type_when_of_the_account():
    event = {"account": "123456789012", "source": "aws.s3", "detail-type": "Object Created"}

    assert eventbridge_kind(event, "123456789012") == ("aws.s3", "Object Created")
    with pytest.raises(UnusableEventError) as raised:
        eventbridge_kind(event, "210987654321")
    assert raised.value.reason == "wrong-account"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("not json", "message body is not JSON"),
        ('["a list"]', "kind is missing"),
        ('{"kind": "other"}', "kind 'other' is not 'arrival'"),
    ],
)
def test_a_queue_message_must_be_a_json_object_of_its_kind(body, detail):
    assert queue_message('{"kind": "arrival", "model": "m"}', "arrival")["model"] == "m"
    with pytest.raises(UnusableEventError) as raised:
        queue_message(body, "arrival")
    assert raised.value.reason == "malformed-event" and raised.value.detail.startswith(detail)


# --- Parking --------------------------------------------------------------------------------


def test_parking_sends_the_event_with_its_reason_and_id(dead_letter_queue, dead_letters):
    sqs = boto3.client("sqs")
    event = {"id": "e-1", "detail": {"x": 1}}

    result = DeadLetterQueue(sqs, dead_letter_queue, Logger(service="t")).park(
        event, UnusableEventError("malformed-event", "detail.y is missing")
    )

    assert result == {
        "outcome": "dead-lettered",
        "reason": "malformed-event",
        "detail": "detail.y is missing",
    }
    assert dead_letters() == [
        {
            "body": event,
            "attributes": {
                "reason": "malformed-event",
                "reason_detail": "detail.y is missing",
                "event_id": "e-1",
            },
        }
    ]


def test_parking_an_event_that_is_not_an_object_keeps_it_whole(dead_letter_queue, dead_letters):
    queue = DeadLetterQueue(boto3.client("sqs"), dead_letter_queue, Logger(service="t"))

    queue.park(["not", "an", "event"], UnusableEventError("malformed-event", "not an object"))

    [message] = dead_letters()
    assert message["body"] == ["not", "an", "event"] and "event_id" not in message["attributes"]


# --- Model catalogue ------------------------------------------------------------------------


@pytest.fixture
def catalogue(aws: None) -> tuple[ModelCatalogue, Clock]:
    publish("churn")
    clock = Clock()
    return ModelCatalogue(boto3.client("ssm"), PREFIX, clock=clock), clock


def test_models_are_found_by_name_group_and_stack(catalogue):
    models, _ = catalogue

    assert models.by_model("churn").model == "churn"
    assert models.by_group(f"{PREFIX}-churn").model == "churn"
    assert models.by_stack(f"{PREFIX}-model-churn").model == "churn"


def test_the_documents_are_read_once_per_cold_start(catalogue, monkeypatch):
    models, _ = catalogue
    models.by_model("churn")
    calls: list[Any] = []
    monkeypatch.setattr(models, "load", lambda: calls.append(1))

    models.by_group(f"{PREFIX}-churn")

    assert calls == []


def test_a_model_added_after_the_cold_start_is_found_once_the_cache_is_a_minute_old(catalogue):
    models, clock = catalogue
    models.by_model("churn")
    publish("fraud")

    with pytest.raises(UnusableEventError, match="unknown-model"):
        models.by_model("fraud")  # read less than a minute ago: not read again
    clock.now += CATALOGUE_REFRESH_SECONDS + 1

    assert models.by_model("fraud").model == "fraud"


def test_a_document_that_does_not_parse_fails_only_its_model(catalogue):
    models, _ = catalogue
    publish("fraud", json.dumps({"schema_version": 2}))

    with pytest.raises(UnusableEventError) as raised:
        models.by_group(f"{PREFIX}-fraud")

    assert raised.value.reason == "invalid-settings"
    assert raised.value.detail == f"/{PREFIX}/models/fraud/settings: schema_version 2 is not 1"
    assert models.by_model("churn").model == "churn"


def test_parameters_under_the_path_that_are_not_settings_are_ignored(catalogue):
    models, _ = catalogue
    boto3.client("ssm").put_parameter(
        Name=f"/{PREFIX}/models/churn/notes", Value="not a document", Type="String"
    )

    models.load()

    assert set(models.models) == {"churn"} and models.invalid == {}

"""The custom resource provider against moto: release records, model packages, answers."""

from __future__ import annotations

import copy
import json
import urllib.error
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

import boto3
import model_package_resolver as provider
import pytest

EVENTS = Path(__file__).parent / "events"
RECORD = "/ml-platform-dev/releases/churn-prediction/champion"
GROUP = "ml-platform-dev-churn-prediction"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture
def registry(aws: None) -> Callable[[str], str]:
    client = boto3.client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=GROUP)

    def register(status: str) -> str:
        return str(
            client.create_model_package(
                ModelPackageGroupName=GROUP,
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [
                        {"Image": IMAGE, "ModelDataUrl": f"s3://artifacts/{status}/model.tar.gz"}
                    ],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
            )["ModelPackageArn"]
        )

    return register


class Answer:
    status = 200

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def read(self) -> bytes:
        return b""


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the function PUT to CloudFormation's pre-signed URL; no pause between retries."""
    sent: list[dict[str, Any]] = []

    def urlopen(request: Any, timeout: int) -> Answer:
        assert request.get_method() == "PUT" and request.full_url.startswith("https://")
        sent.append(json.loads(request.data))
        return Answer()

    monkeypatch.setattr(provider.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(provider.time, "sleep", lambda seconds: None)
    return sent


def parameter(name: str = RECORD) -> dict[str, Any]:
    return dict(boto3.client("ssm").get_parameter(Name=name)["Parameter"])


# --- Custom::ReleaseRecord ---------------------------------------------------------------


def test_create_makes_the_record_with_the_value_none(aws, answers, lambda_context):
    provider.lambda_handler(load_event("release_record_create"), lambda_context)

    [answer] = answers
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", RECORD)
    assert parameter()["Value"] == "none"
    history = boto3.client("ssm").get_parameter_history(Name=RECORD)["Parameters"]
    assert history[0]["Description"].startswith("created: no release yet (stack arn:")


def test_create_keeps_an_existing_record_as_it_is(aws, answers, lambda_context):
    released = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/4"
    boto3.client("ssm").put_parameter(Name=RECORD, Value=released, Type="String")

    provider.lambda_handler(load_event("release_record_create"), lambda_context)

    assert answers[0]["Status"] == "SUCCESS"
    assert (parameter()["Value"], parameter()["Version"]) == (released, 1)


@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_update_and_delete_of_the_same_record_touch_nothing(
    aws, answers, lambda_context, request_type
):
    boto3.client("ssm").put_parameter(Name=RECORD, Value="none", Type="String")
    event = {**load_event("release_record_create"), "RequestType": request_type}
    event["PhysicalResourceId"] = RECORD

    provider.lambda_handler(event, lambda_context)

    assert (answers[0]["Status"], answers[0]["PhysicalResourceId"]) == ("SUCCESS", RECORD)
    assert parameter()["Version"] == 1


def test_delete_keeps_the_record(aws, answers, lambda_context):
    provider.lambda_handler(load_event("release_record_create"), lambda_context)
    event = {**load_event("release_record_create"), "RequestType": "Delete"}
    event["PhysicalResourceId"] = RECORD

    provider.lambda_handler(event, lambda_context)

    assert answers[-1]["Status"] == "SUCCESS" and parameter()["Value"] == "none"


def test_an_update_to_another_name_creates_that_record(aws, answers, lambda_context):
    event = load_event("release_record_create")
    event.update(RequestType="Update", PhysicalResourceId=RECORD)
    candidate = RECORD.replace("champion", "candidate")
    event["ResourceProperties"]["ParameterName"] = candidate

    provider.lambda_handler(event, lambda_context)

    assert answers[0]["PhysicalResourceId"] == candidate
    assert parameter(candidate)["Value"] == "none"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/ml-platform-dev/models/churn-prediction/settings", "is not /<prefix>/releases/"),
        ("/ml-platform-dev/releases/churn-prediction/shadow", "is not /<prefix>/releases/"),
        (None, "ParameterName is missing or not a string"),
    ],
)
def test_a_record_name_outside_the_releases_fails_with_the_reason(
    aws, answers, lambda_context, name, reason
):
    event = load_event("release_record_create")
    event["ResourceProperties"]["ParameterName"] = name

    provider.lambda_handler(event, lambda_context)

    assert answers[0]["Status"] == "FAILED" and reason in answers[0]["Reason"]
    assert answers[0]["PhysicalResourceId"] == "failed-ChampionRecord"


# --- Custom::ModelPackage ----------------------------------------------------------------


def test_a_model_package_resolves_to_its_own_artifacts_and_image(registry, answers, lambda_context):
    registry("Approved")
    second = registry("Approved")

    provider.lambda_handler(load_event("model_package_update"), lambda_context)

    [answer] = answers
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", second)
    assert answer["Data"] == {
        "ModelDataUrl": "s3://artifacts/Approved/model.tar.gz",
        "Image": IMAGE,
        "ModelPackageVersion": "2",
    }


@pytest.mark.parametrize("status", ["Rejected", "PendingManualApproval"])
def test_a_package_that_is_not_approved_fails_with_its_status(
    registry, answers, lambda_context, status
):
    registry("Approved")
    registry(status)

    provider.lambda_handler(load_event("model_package_update"), lambda_context)

    assert answers[0]["Status"] == "FAILED"
    assert f"is {status}, not Approved" in answers[0]["Reason"]
    assert answers[0]["PhysicalResourceId"].endswith(f"{GROUP}/1")  # the old one, kept


def test_a_package_missing_from_the_registry_fails_instead_of_hanging(aws, answers, lambda_context):
    provider.lambda_handler(load_event("model_package_update"), lambda_context)

    assert answers[0]["Status"] == "FAILED" and answers[0]["Reason"]


def test_a_model_package_arn_that_is_not_one_fails_with_the_reason(aws, answers, lambda_context):
    event = load_event("model_package_update")
    event["ResourceProperties"]["ModelPackageArn"] = "none"

    provider.lambda_handler(event, lambda_context)

    assert answers[0]["Status"] == "FAILED"
    assert "is not the ARN of a versioned model package" in answers[0]["Reason"]


def test_delete_of_a_model_package_touches_nothing(aws, answers, lambda_context):
    event = {**load_event("model_package_update"), "RequestType": "Delete"}

    provider.lambda_handler(event, lambda_context)

    assert answers[0]["Status"] == "SUCCESS"
    assert answers[0]["PhysicalResourceId"] == event["PhysicalResourceId"]


def test_an_unknown_resource_type_fails_but_never_blocks_a_deletion(aws, answers, lambda_context):
    event = {**load_event("model_package_update"), "ResourceType": "Custom::ModelPackageVersion"}

    provider.lambda_handler(event, lambda_context)
    provider.lambda_handler({**event, "RequestType": "Delete"}, lambda_context)

    assert [a["Status"] for a in answers] == ["FAILED", "SUCCESS"]


# --- The answer to CloudFormation ---------------------------------------------------------


def failing_then_answering(
    monkeypatch: pytest.MonkeyPatch, failures: list[Exception]
) -> tuple[list[dict[str, Any]], list[float]]:
    sent: list[dict[str, Any]] = []
    pauses: list[float] = []
    remaining = copy.copy(failures)

    def urlopen(request: Any, timeout: int) -> Answer:
        if remaining:
            raise remaining.pop(0)
        sent.append(json.loads(request.data))
        return Answer()

    monkeypatch.setattr(provider.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(provider.time, "sleep", pauses.append)
    return sent, pauses


def test_the_answer_is_retried_after_a_timeout_and_still_says_success(
    aws, lambda_context, monkeypatch
):
    sent, pauses = failing_then_answering(
        monkeypatch,
        [
            urllib.error.URLError(TimeoutError("timed out")),
            TimeoutError("timed out"),
            urllib.error.HTTPError("https://s3", 503, "Slow Down", Message(), None),
        ],
    )

    provider.lambda_handler(load_event("release_record_create"), lambda_context)

    assert [answer["Status"] for answer in sent] == ["SUCCESS"]
    assert pauses == [1.0, 2.0, 4.0]


def test_an_answer_that_never_gets_through_raises_so_that_lambda_runs_it_again(
    aws, lambda_context, monkeypatch
):
    failures: list[Exception] = [ConnectionResetError("reset")] * provider.RESPONSE_ATTEMPTS
    sent, pauses = failing_then_answering(monkeypatch, failures)

    with pytest.raises(ConnectionResetError):
        provider.lambda_handler(load_event("release_record_create"), lambda_context)
    assert sent == [] and len(pauses) == provider.RESPONSE_ATTEMPTS - 1


def test_a_refused_answer_is_not_retried(aws, lambda_context, monkeypatch):
    expired = urllib.error.HTTPError("https://s3", 403, "Forbidden", Message(), None)
    sent, pauses = failing_then_answering(monkeypatch, [expired])

    with pytest.raises(urllib.error.HTTPError):
        provider.lambda_handler(load_event("release_record_create"), lambda_context)
    assert sent == [] and pauses == []


def test_every_sample_request_names_its_documentation() -> None:
    sources = json.loads((EVENTS / "sources.json").read_text())
    samples = {path.name for path in EVENTS.glob("*.json")} - {"sources.json"}
    assert set(sources) == samples
    assert all(url.startswith("https://docs.aws.amazon.com/") for url in sources.values())

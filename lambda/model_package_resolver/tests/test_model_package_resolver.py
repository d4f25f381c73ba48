"""The model package resolver against moto: latest approved, pinned, missing, malformed events."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

FUNCTION_DIR = Path(__file__).resolve().parent.parent
if str(FUNCTION_DIR) not in sys.path:
    sys.path.append(str(FUNCTION_DIR))

import model_package_resolver as resolver  # noqa: E402

GROUP = "ml-platform-sandbox-churn-prediction"
RESPONSE_URL = "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x"


def _event(request: str = "Create", **properties: Any) -> dict[str, Any]:
    return {
        "RequestType": request,
        "ResponseURL": RESPONSE_URL,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/ml-platform-sandbox-serving/1",
        "RequestId": "5d478078-13e9-baf0-464a-7ef285ecc786",
        "LogicalResourceId": "ChampionPackage",
        "ResourceType": "Custom::ModelPackageVersion",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:r",
            "ModelPackageGroupName": GROUP,
            **properties,
        },
    }


@pytest.fixture
def registry(aws: None) -> Any:
    client = boto3.client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=GROUP)

    def register(status: str) -> str:
        return client.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/xgb:1.7",
                        "ModelDataUrl": f"s3://artifacts/{status}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]

    client.register = register  # type: ignore[attr-defined]
    return client


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    class Response:
        status = 200

        def __enter__(self) -> Response:
            return self

        def __exit__(self, *args: object) -> None:
            return None

    def urlopen(request: Any, timeout: int) -> Response:
        assert request.full_url == RESPONSE_URL and request.get_method() == "PUT"
        sent.append(json.loads(request.data))
        return Response()

    monkeypatch.setattr(resolver.urllib.request, "urlopen", urlopen)
    return sent


def test_latest_resolves_to_the_newest_approved_package(
    registry: Any, responses: list, lambda_context: Any
) -> None:
    registry.register("Approved")
    newest = registry.register("Approved")
    registry.register("PendingManualApproval")
    resolver.lambda_handler(_event(ModelVersion="latest"), lambda_context)
    (response,) = responses
    assert response["Status"] == "SUCCESS", response
    assert response["PhysicalResourceId"] == newest
    assert response["Data"]["ModelPackageArn"] == newest
    assert response["Data"]["ModelDataUrl"] == "s3://artifacts/Approved/model.tar.gz"
    assert response["Data"]["Image"].endswith("/xgb:1.7")


def test_a_pinned_version_resolves_to_that_package(
    registry: Any, responses: list, lambda_context: Any
) -> None:
    first = registry.register("Approved")
    registry.register("Approved")
    resolver.lambda_handler(_event(ModelVersion="1"), lambda_context)
    assert responses[0]["Status"] == "SUCCESS", responses[0]
    assert responses[0]["Data"]["ModelPackageArn"] == first
    assert responses[0]["Data"]["ModelPackageVersion"] == "1"


def test_a_pinned_version_that_is_not_approved_fails_with_its_status(
    registry: Any, responses: list, lambda_context: Any
) -> None:
    registry.register("Rejected")
    resolver.lambda_handler(_event(ModelVersion="1"), lambda_context)
    assert responses[0]["Status"] == "FAILED"
    assert "is Rejected, not Approved" in responses[0]["Reason"]


def test_no_approved_package_fails_the_deployment_with_a_clear_reason(
    registry: Any, responses: list, lambda_context: Any
) -> None:
    registry.register("PendingManualApproval")
    resolver.lambda_handler(_event(ModelVersion="latest"), lambda_context)
    assert responses[0]["Status"] == "FAILED"
    assert responses[0]["Reason"].startswith(f"model package group {GROUP} has no Approved package")
    assert responses[0]["PhysicalResourceId"] == "unresolved-ChampionPackage"


def test_an_unknown_group_fails_instead_of_hanging(
    aws: None, responses: list, lambda_context: Any
) -> None:
    resolver.lambda_handler(_event(ModelVersion="2"), lambda_context)
    assert responses[0]["Status"] == "FAILED"
    assert responses[0]["Reason"]


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"ModelVersion": "v2"}, "neither 'latest' nor a version number"),
        ({"ModelPackageGroupName": ""}, "ModelPackageGroupName is missing"),
    ],
)
def test_malformed_properties_fail_with_the_reason(
    aws: None, responses: list, lambda_context: Any, properties: dict, reason: str
) -> None:
    resolver.lambda_handler(_event(**properties), lambda_context)
    assert responses[0]["Status"] == "FAILED"
    assert reason in responses[0]["Reason"]


def test_delete_touches_nothing_and_keeps_the_physical_id(
    aws: None, responses: list, lambda_context: Any
) -> None:
    event = _event("Delete", ModelVersion="latest")
    event["PhysicalResourceId"] = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1"
    resolver.lambda_handler(event, lambda_context)
    assert responses[0]["Status"] == "SUCCESS"
    assert responses[0]["PhysicalResourceId"] == event["PhysicalResourceId"]


def test_update_to_a_new_approved_version_changes_the_physical_id(
    registry: Any, responses: list, lambda_context: Any
) -> None:
    old = registry.register("Approved")
    new = registry.register("Approved")
    event = _event("Update", ModelVersion="2")
    event["PhysicalResourceId"] = old
    resolver.lambda_handler(event, lambda_context)
    assert responses[0]["PhysicalResourceId"] == new

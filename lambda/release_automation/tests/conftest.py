"""Fixtures of the release automation's tests (the test bed: ``release_testbed``)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.append(str(Path(__file__).parent))

from release_testbed import (
    ACCOUNT_ID,
    DEV,
    PREFIX,
    REGION,
    CloudFormationDouble,
    deploy,
    load_event,
    package_arn,
    package_event,
)

from platform_contracts.releases import model_stack_name


@pytest.fixture
def retry_queue(aws: None) -> str:
    return boto3.client("sqs").create_queue(QueueName="ml-platform-dev-release-retries")["QueueUrl"]


@pytest.fixture
def environ(idempotency_table: str, dead_letter_queue: str, retry_queue: str) -> dict[str, str]:
    """The function's environment, as the stack would set it."""
    return {
        "NAME_PREFIX": PREFIX,
        "EXPECTED_ACCOUNT_ID": ACCOUNT_ID,
        "AWS_REGION": REGION,
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue,
        "RETRY_QUEUE_URL": retry_queue,
        "IDEMPOTENCY_TABLE_NAME": idempotency_table,
        "POWERTOOLS_METRICS_NAMESPACE": "MLPlatform/Releases",
    }


@pytest.fixture
def platform(aws: None) -> dict[str, CloudFormationDouble]:
    """The dev environment, deployed (``release_testbed.deploy``)."""
    return {"cloudformation": deploy(boto3.DEFAULT_SESSION, DEV)}


@pytest.fixture
def cloudformation(platform: dict[str, CloudFormationDouble]) -> CloudFormationDouble:
    return platform["cloudformation"]


@pytest.fixture
def automation(environ: dict[str, str], cloudformation: CloudFormationDouble) -> Any:
    import release_automation

    function = release_automation.build(environ, session=boto3.DEFAULT_SESSION)
    cloudformation.attach(function.flow.cloudformation)
    return function


@pytest.fixture
def invoke(automation: Any, lambda_context: Any) -> Callable[[Any], dict[str, Any]]:
    return lambda event: automation.handle(event, lambda_context)


@pytest.fixture
def approve(invoke: Callable[[Any], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Set a package's status in the registry and deliver its state change event."""

    def deliver(model: str, version: int, status: str = "Approved") -> dict[str, Any]:
        arn = package_arn(model, version)
        boto3.client("sagemaker").update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription="looks good"
        )
        return invoke(package_event(model, version, status))

    return deliver


@pytest.fixture
def sqs_event() -> Callable[[str], dict[str, Any]]:
    def build(body: str) -> dict[str, Any]:
        event = load_event("retry_queue_message")
        event["Records"][0]["body"] = body
        event["Records"][0]["messageId"] = str(uuid.uuid4())
        return event

    return build


@pytest.fixture
def emf_metrics(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    def read() -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in capsys.readouterr().out.splitlines()
            if line.startswith("{") and '"_aws"' in line
        ]

    yield read


@pytest.fixture
def live(
    approve: Callable[..., dict[str, Any]],
    cloudformation: CloudFormationDouble,
    invoke: Callable[[Any], dict[str, Any]],
) -> Callable[[str, int], None]:
    """Release a version and let its roll-out complete."""

    def release(model: str, version: int) -> None:
        assert approve(model, version)["stack"] == "update-started"
        assert (
            invoke(cloudformation.finish(model_stack_name(PREFIX, model)))["outcome"] == "in-sync"
        )

    return release

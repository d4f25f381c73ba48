"""Fixtures shared by the Lambda handlers' tests: an offline AWS (moto) and a Lambda context.

``lambda`` is a Python keyword, so this folder is not a package. Each function folder is put
on ``sys.path`` here, as Lambda does with the function's root, so that the tests import the
handler modules by their own names under every pytest import mode.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

LAMBDA_ROOT = Path(__file__).resolve().parent
# Each package's root as Lambda sees it: the function's modules, the shared module
# (lambda/shared) and platform_contracts (at the repository's root), all at the top level.
for function_dir in (
    LAMBDA_ROOT / "retraining_trigger",
    LAMBDA_ROOT / "release_automation",
    LAMBDA_ROOT / "model_package_resolver",
    LAMBDA_ROOT / "shared",
    LAMBDA_ROOT.parent,
    LAMBDA_ROOT.parent / "tests",  # event_samples: AWS's sample events, shared with tests/
):
    if str(function_dir) not in sys.path:
        # Appended, not prepended: a clash with a project module fails these tests, not others.
        sys.path.append(str(function_dir))

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and a fixed region, so that nothing can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "test-function")


@pytest.fixture(scope="session")
def _boto3_session() -> boto3.Session:
    return boto3.Session(botocore_session=botocore.session.get_session())


@pytest.fixture
def aws(_boto3_session: boto3.Session) -> Iterator[None]:
    with mock_aws():
        # moto drops boto3's default session on start; sharing one session across tests
        # keeps its parsed service models, which halves the suite's run time. The same
        # boto3 session object is reused: a new one over the same botocore session would
        # register boto3's S3 customisations twice.
        boto3.DEFAULT_SESSION = _boto3_session
        yield


@dataclass
class FakeLambdaContext:
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:test-function"
    aws_request_id: str = "3f7c3e0c-5d1a-4d0e-8f57-6a1b2c3d4e5f"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def idempotency_table(aws: None) -> str:
    """The table both handlers share for idempotency and cool-down records (key ``id``)."""
    name = "mlops-lambda-idempotency"
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def dead_letter_queue(aws: None) -> str:
    return boto3.client("sqs").create_queue(QueueName="mlops-lambda-dead-letters")["QueueUrl"]


@pytest.fixture
def dead_letters(dead_letter_queue: str) -> Callable[[], list[dict[str, Any]]]:
    """Read every message now in the dead-letter queue: body (parsed) and attribute values."""

    def read() -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        messages: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=dead_letter_queue,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=0,
            ).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(
                    {
                        "body": json.loads(message["Body"]),
                        "attributes": {
                            k: v["StringValue"]
                            for k, v in message.get("MessageAttributes", {}).items()
                        },
                    }
                )
                sqs.delete_message(
                    QueueUrl=dead_letter_queue, ReceiptHandle=message["ReceiptHandle"]
                )

    return read


@pytest.fixture
def structured_logs() -> Iterator[Callable[[Any], Callable[[], list[dict[str, Any]]]]]:
    """Redirect a Powertools logger's JSON lines into a buffer; return a reader of them."""
    restore: list[Callable[[], None]] = []

    def capture(logger: Any) -> Callable[[], list[dict[str, Any]]]:
        handler = logger.registered_handler
        buffer = io.StringIO()
        previous = handler.setStream(buffer)
        restore.append(lambda: handler.setStream(previous))
        return lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line]

    yield capture
    for undo in restore:
        undo()

"""The post-deployment smoke check (scripts/smoke_check.py), against moto.

moto serves STS and SageMaker; its CloudFormation needs the ``moto[cloudformation]`` extra
(Docker client, GraphQL, ...) that the project does not install, so stacks are answered by
botocore's ``Stubber`` with CloudFormation's documented responses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import smoke_check
from scripts.smoke_check import SMOKE_CHECK_REQUIREMENTS, SmokeTargets, run_checks, session_for

REGION = "eu-west-1"
# moto keeps resources per account: the assumed role is in the account that holds them.
ROLE_ARN = "arn:aws:iam::123456789012:role/cdk-hnb659fds-lookup-role-123456789012-eu-west-1"
STACKS = {"ml-platform-dev-data": "CREATE_COMPLETE", "ml-platform-dev-workspace": "UPDATE_COMPLETE"}
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
_REAL_SESSION = boto3.Session


class _StubbedStacks:
    """A session whose CloudFormation answers from :data:`STACKS`; the rest is moto's."""

    def __init__(self, session: boto3.Session) -> None:
        self._session = session

    def client(self, service: str, **kwargs: Any) -> Any:
        client = self._session.client(service, **kwargs)
        if service == "cloudformation":
            client.meta.events.register("before-call.cloudformation.DescribeStacks", _answer)
        return client


def _answer(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
    """DescribeStacks' answer (HTTP status, parsed body) for a stack of :data:`STACKS`."""
    name = params["body"]["StackName"]
    if name not in STACKS:
        error = {"Code": "ValidationError", "Message": f"Stack with id {name} does not exist"}
        return SimpleNamespace(status_code=400), {"Error": error, "ResponseMetadata": {}}
    stack = {"StackName": name, "StackStatus": STACKS[name], "CreationTime": "2026-01-01"}
    return SimpleNamespace(status_code=200), {"Stacks": [stack], "ResponseMetadata": {}}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """A mocked account holding a healthy platform: stacks, domain, group, pipeline."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        monkeypatch.setattr(
            smoke_check.boto3, "Session", lambda **kwargs: _StubbedStacks(_REAL_SESSION(**kwargs))
        )
        session = smoke_check.boto3.Session(region_name=REGION)
        sagemaker = session.client("sagemaker")
        sagemaker.create_domain(
            DomainName="ml-platform-dev",
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": EXECUTION_ROLE},
            SubnetIds=["subnet-0a1b2c3d"],
            VpcId="vpc-0a1b2c3d",
        )
        sagemaker.create_model_package_group(ModelPackageGroupName="ml-platform-dev-churn")
        sagemaker.create_pipeline(
            PipelineName="ml-platform-dev-churn-training",
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
            RoleArn=EXECUTION_ROLE,
        )
        yield session


HEALTHY = SmokeTargets(
    stacks=("ml-platform-dev-data", "ml-platform-dev-workspace"),
    domain="ml-platform-dev",
    model_package_groups=("ml-platform-dev-churn",),
    pipelines=("ml-platform-dev-churn-training",),
)


def test_a_healthy_platform_passes_every_check(aws: boto3.Session) -> None:
    results = run_checks(session_for(REGION, ROLE_ARN), HEALTHY)
    assert [(r.kind, r.passed) for r in results] == [
        ("stack", True),
        ("stack", True),
        ("domain", True),
        ("model package group", True),
        ("pipeline", True),
    ], [str(r) for r in results]


def test_a_missing_stack_fails_its_check_only(aws: boto3.Session) -> None:
    targets = SmokeTargets(stacks=("ml-platform-dev-data", "ml-platform-dev-registry"))
    results = run_checks(aws, targets)
    assert [r.passed for r in results] == [True, False]
    assert results[1].detail == "does not exist"


def test_a_rolled_back_stack_fails(aws: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        smoke_check, "_stack_status", lambda client, name: "UPDATE_ROLLBACK_COMPLETE"
    )
    [result] = run_checks(aws, SmokeTargets(stacks=("ml-platform-dev-data",)))
    assert not result.passed
    assert "UPDATE_ROLLBACK_COMPLETE (expected CREATE_COMPLETE or UPDATE_COMPLETE" in result.detail


def test_a_missing_domain_group_or_pipeline_fails(aws: boto3.Session) -> None:
    targets = SmokeTargets(
        domain="ml-platform-prod", model_package_groups=("nope",), pipelines=("nope",)
    )
    results = run_checks(aws, targets)
    assert [r.passed for r in results] == [False, False, False]
    assert results[0].detail == "does not exist"
    assert results[1].detail.startswith(("ValidationException", "ResourceNotFound"))


def test_main_exits_1_and_prints_one_line_per_check(
    aws: boto3.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    code = smoke_check.main(
        [
            "--region",
            REGION,
            "--role-arn",
            ROLE_ARN,
            "--stack",
            "ml-platform-dev-data",
            "--stack",
            "absent",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines == [
        "ok   stack ml-platform-dev-data: CREATE_COMPLETE",
        "FAIL stack absent: does not exist",
        "2 checks, 1 failed",
    ]


def test_main_exits_0_when_all_pass(aws: boto3.Session) -> None:
    assert smoke_check.main(HEALTHY.command(region=REGION).split()[3:]) == 0


def test_nothing_to_check_is_a_failure(aws: boto3.Session) -> None:
    assert smoke_check.main(["--region", REGION]) == 1


def test_command_lists_every_target_and_quotes_nothing_needlessly() -> None:
    assert HEALTHY.command(region=REGION, role_arn=ROLE_ARN) == (
        f"python -m scripts.smoke_check --region {REGION} --role-arn {ROLE_ARN}"
        " --stack ml-platform-dev-data --stack ml-platform-dev-workspace"
        " --domain ml-platform-dev --model-package-group ml-platform-dev-churn"
        " --pipeline ml-platform-dev-churn-training"
    )


def test_installed_boto3_is_the_pinned_one() -> None:
    pins = (Path(__file__).resolve().parent.parent / "requirements-dev.txt").read_text()
    assert SMOKE_CHECK_REQUIREMENTS in pins.splitlines()

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

from platform_contracts.smoke_check import SMOKE_CHECK_REQUIREMENTS, SmokeTargets
from scripts import smoke_check
from scripts.smoke_check import run_checks, session_for

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
        # moto's SSM imports its EC2 models on first use, which call boto3.Session(): let
        # that happen before the session is replaced below.
        _REAL_SESSION(region_name=REGION).client("ssm").describe_parameters()
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


# --- a model that is not released yet has no endpoint ---------------------------------------

RECORD = "/ml-platform-dev/releases/churn/champion"
RELEASED_ENDPOINT = SmokeTargets(
    endpoints=("ml-platform-dev-churn",),
    pipelines=("ml-platform-dev-churn",),
    released_by={"endpoint:ml-platform-dev-churn": RECORD},
)


def _record(session: boto3.Session, value: str) -> None:
    session.client("ssm").put_parameter(Name=RECORD, Value=value, Type="String", Overwrite=True)


def test_an_endpoint_whose_record_is_none_is_not_expected(aws: boto3.Session) -> None:
    _record(aws, "none")
    sagemaker = aws.client("sagemaker")
    sagemaker.create_pipeline(
        PipelineName="ml-platform-dev-churn",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=EXECUTION_ROLE,
    )
    pipeline, endpoint = run_checks(aws, RELEASED_ENDPOINT)
    # The pipeline of the same name is checked: only the endpoint waits for a release.
    assert (pipeline.kind, pipeline.passed, pipeline.detail) == ("pipeline", True, "Active")
    assert (endpoint.kind, endpoint.name, endpoint.passed) == (
        "endpoint",
        "ml-platform-dev-churn",
        True,
    )
    assert endpoint.detail == f"not released yet ({RECORD} is none)"


def test_an_endpoint_whose_record_names_a_package_must_be_in_service(aws: boto3.Session) -> None:
    _record(aws, "arn:aws:sagemaker:eu-west-1:123456789012:model-package/ml-platform-dev-churn/3")
    endpoint = run_checks(aws, RELEASED_ENDPOINT)[-1]
    assert (endpoint.kind, endpoint.passed) == ("endpoint", False)
    assert "Could not find endpoint" in endpoint.detail or "ValidationException" in endpoint.detail


def test_a_missing_release_record_fails_the_check_of_what_it_decides(aws: boto3.Session) -> None:
    endpoint = run_checks(aws, RELEASED_ENDPOINT)[-1]
    assert (endpoint.kind, endpoint.passed) == ("endpoint", False)
    assert endpoint.detail.startswith(f"release record {RECORD}: ParameterNotFound")


def test_command_passes_release_records_and_main_reads_them(aws: boto3.Session) -> None:
    _record(aws, "none")
    command = SmokeTargets(
        endpoints=("ml-platform-dev-churn",),
        released_by={"endpoint:ml-platform-dev-churn": RECORD},
    ).command(region=REGION)
    assert command.endswith(
        f"--endpoint ml-platform-dev-churn --released-by endpoint:ml-platform-dev-churn={RECORD}"
    )
    assert smoke_check.main(command.split()[3:]) == 0


def test_a_malformed_release_record_argument_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        smoke_check.main(["--region", REGION, "--released-by", "ml-platform-dev-churn"])
    assert raised.value.code == 2
    assert "is not pipeline:NAME=/ssm/parameter or endpoint:NAME" in capsys.readouterr().err

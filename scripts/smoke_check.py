"""Post-deployment smoke check of one environment, as the delivery pipeline runs it.

Usage::

    python -m scripts.smoke_check --region eu-west-1 \\
        [--role-arn arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-eu-west-1] \\
        --stack ml-platform-dev-data ... [--domain ml-platform-dev] \\
        [--model-package-group ml-platform-dev-churn-prediction ...] \\
        [--pipeline NAME ...] [--endpoint NAME ...] \\
        [--released-by endpoint:NAME=/ml-platform-dev/releases/<model>/champion ...]

With ``--role-arn`` it first assumes that role (read-only: the delivery pipeline passes the
target account's CDK bootstrap lookup role), then checks, reading only:

* every stack exists and is ``CREATE_COMPLETE``, ``UPDATE_COMPLETE`` or ``IMPORT_COMPLETE``
  (a ``*_ROLLBACK_COMPLETE`` or ``DELETE_COMPLETE`` stack is a failure);
* the SageMaker domain exists and is ``InService``;
* every model package group exists and is ``Completed``;
* every SageMaker pipeline exists and is ``Active``;
* every endpoint exists and is ``InService``.

A pipeline or endpoint named in ``--released-by`` (``pipeline:NAME`` or ``endpoint:NAME``)
exists only once its model is released (``docs/releases.md``): its release record (an SSM
parameter) is read first, and while it is ``none`` the check passes saying so; once it names
a package, the resource is checked.

Prints one line per check and exits 1 if any failed, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import boto3
from botocore.exceptions import ClientError

from platform_contracts.releases import UNRELEASED
from platform_contracts.smoke_check import SmokeTargets

#: Stack states after a successful deployment.
HEALTHY_STACK_STATES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
SESSION_NAME = "ml-platform-smoke-check"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what was checked, whether it passed, what was seen."""

    kind: str
    name: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.passed else 'FAIL'} {self.kind} {self.name}: {self.detail}"


def session_for(region: str, role_arn: str | None) -> boto3.Session:
    """A session in ``region``, as ``role_arn`` when given (else the caller's credentials)."""
    if role_arn is None:
        return boto3.Session(region_name=region)
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=role_arn, RoleSessionName=SESSION_NAME
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def run_checks(session: boto3.Session, targets: SmokeTargets) -> list[CheckResult]:
    """Every check of ``targets``, in order; an AWS error fails its check, not the run."""
    cloudformation = session.client("cloudformation")
    sagemaker = session.client("sagemaker")
    results = [
        _check(
            "stack",
            name,
            partial(_stack_status, cloudformation, name),
            HEALTHY_STACK_STATES,
        )
        for name in targets.stacks
    ]
    if targets.domain is not None:
        domain = targets.domain
        results.append(
            _check("domain", domain, lambda: _domain_status(sagemaker, domain), ("InService",))
        )
    checks: list[tuple[str, Sequence[str], Callable[[str], str], tuple[str, ...]]] = [
        (
            "model package group",
            targets.model_package_groups,
            lambda name: sagemaker.describe_model_package_group(ModelPackageGroupName=name)[
                "ModelPackageGroupStatus"
            ],
            ("Completed",),
        ),
        (
            "pipeline",
            targets.pipelines,
            lambda name: sagemaker.describe_pipeline(PipelineName=name)["PipelineStatus"],
            ("Active",),
        ),
        (
            "endpoint",
            targets.endpoints,
            lambda name: sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"],
            ("InService",),
        ),
    ]
    unreleased = _unreleased(session, targets.released_by)
    for kind, names, status_of, healthy in checks:
        for name in names:
            key = f"{kind}:{name}"
            if key in unreleased:
                results.append(CheckResult(kind, name, *unreleased[key]))
                continue
            results.append(_check(kind, name, partial(status_of, name), healthy))
    return results


def _unreleased(
    session: boto3.Session, released_by: Mapping[str, str]
) -> dict[str, tuple[bool, str]]:
    """(passed, detail), by ``<kind>:<name>``, of each resource not to check: its release
    record says ``none`` (passed), or cannot be read (failed)."""
    if not released_by:
        return {}
    ssm = session.client("ssm")
    results: dict[str, tuple[bool, str]] = {}
    for key, record in released_by.items():
        try:
            value = ssm.get_parameter(Name=record)["Parameter"]["Value"]
        except ClientError as error:
            results[key] = (False, f"release record {record}: {_error_text(error)}")
            continue
        if value == UNRELEASED:
            results[key] = (True, f"not released yet ({record} is {UNRELEASED})")
    return results


def _check(
    kind: str, name: str, status_of: Callable[[], str | None], healthy: tuple[str, ...]
) -> CheckResult:
    try:
        status = status_of()
    except ClientError as error:
        return CheckResult(kind, name, False, _error_text(error))
    if status is None:
        return CheckResult(kind, name, False, "does not exist")
    expected = " or ".join(healthy)
    passed = status in healthy
    return CheckResult(kind, name, passed, status if passed else f"{status} (expected {expected})")


def _stack_status(cloudformation: Any, name: str) -> str | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def _domain_status(sagemaker: Any, name: str) -> str | None:
    for page in sagemaker.get_paginator("list_domains").paginate():
        for domain in page["Domains"]:
            if domain["DomainName"] == name:
                described = sagemaker.describe_domain(DomainId=domain["DomainId"])
                return str(described["Status"])
    return None


def _error_text(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', str(error))}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.smoke_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--region", required=True, help="the environment's region")
    parser.add_argument("--role-arn", help="a read-only role to assume first")
    parser.add_argument("--stack", action="append", default=[], help="a CloudFormation stack")
    parser.add_argument("--domain", help="the SageMaker domain's name")
    parser.add_argument("--model-package-group", action="append", default=[])
    parser.add_argument("--pipeline", action="append", default=[], help="a SageMaker pipeline")
    parser.add_argument("--endpoint", action="append", default=[], help="a SageMaker endpoint")
    parser.add_argument(
        "--released-by",
        action="append",
        default=[],
        type=_released_by,
        metavar="KIND:NAME=RECORD",
        help="the pipeline or endpoint (KIND) NAME exists once the SSM parameter RECORD is"
        " not none",
    )
    return parser


def _released_by(text: str) -> tuple[str, str]:
    key, _, record = text.partition("=")
    kind, _, name = key.partition(":")
    if kind not in ("pipeline", "endpoint") or not name or not record.startswith("/"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not pipeline:NAME=/ssm/parameter or endpoint:NAME=/ssm/parameter"
        )
    return key, record


def main(argv: Sequence[str] | None = None) -> int:
    """Run the checks named on the command line; 0 when all pass, 1 otherwise."""
    args = _parser().parse_args(argv)
    targets = SmokeTargets(
        stacks=args.stack,
        domain=args.domain,
        model_package_groups=args.model_package_group,
        pipelines=args.pipeline,
        endpoints=args.endpoint,
        released_by=dict(args.released_by),
    )
    results = run_checks(session_for(args.region, args.role_arn), targets)
    for result in results:
        print(result)
    failed = sum(not result.passed for result in results)
    print(f"{len(results)} checks, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())

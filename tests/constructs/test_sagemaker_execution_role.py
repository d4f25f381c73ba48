"""SageMakerExecutionRole on a bare stack."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from syrupy.assertion import SnapshotAssertion

from ml_constructs import SageMakerExecutionRole
from tests.constructs.helpers import bare_stack, construct_template, key, template


def _role(**props: Any) -> SageMakerExecutionRole:
    stack = bare_stack()
    return SageMakerExecutionRole(
        stack,
        "Subject",
        description="ml-platform-test-churn: its pipelines' jobs",
        volume_key=key(stack),
        **{
            "pipelines": ["ml-platform-test-churn"],
            "package_groups": ["ml-platform-test-churn"],
            **props,
        },
    )


def _statements(role: SageMakerExecutionRole) -> dict[str, dict[str, Any]]:
    policies = template(cdk.Stack.of(role)).find_resources("AWS::IAM::Policy")
    return {
        statement["Sid"]: statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "Sid" in statement
    }


def test_registers_packages_only_pending_manual_approval() -> None:
    register = _statements(_role())["RegisterModelPackages"]
    assert register["Action"] == "sagemaker:CreateModelPackage"
    assert register["Condition"] == {
        "StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    }
    actions = {a for s in _statements(_role()).values() for a in _listed(s["Action"])}
    assert "sagemaker:UpdateModelPackage" not in actions


def test_a_role_without_pipelines_or_groups_gets_no_such_statement() -> None:
    sids = set(_statements(_role(pipelines=[], package_groups=[])))
    assert "RunJobs" in sids
    assert not {"UsePlatformPipelines", "RegisterModelPackages", "ReadModelPackages"} & sids


def test_passes_only_itself_and_only_to_sagemaker() -> None:
    passing = _statements(_role())["PassItselfToSageMaker"]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_studio_apps_of_the_domain_are_granted_on_request() -> None:
    role = _role()
    role.grant_studio_apps("d-0123456789ab")
    statements = _statements(role)
    assert "d-0123456789ab" in str(statements["StudioApps"]["Resource"])
    assert statements["StudioListings"]["Resource"] == "*"


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_role()) == snapshot_json

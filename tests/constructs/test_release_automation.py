"""ReleaseAutomation on a bare stack."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import IdempotencyTable, PlatformFunction
from ml_constructs.release_automation import ReleaseAutomation
from platform_config.names import ResourceNames
from tests.constructs.helpers import (
    FUNCTION_CODE,
    NAMES,
    bare_stack,
    construct_template,
    function_placement,
    key,
    resources,
    template,
)

PREVIOUS = ResourceNames("previous", "222222222222", "eu-west-1")


def _automation(promote_from: ResourceNames | None = None) -> ReleaseAutomation:
    stack = bare_stack()
    placement = function_placement(stack)
    function = PlatformFunction(
        stack,
        "Function",
        code_path=str(FUNCTION_CODE),
        handler="handler.lambda_handler",
        description="Releases",
        placement=placement,
    )
    return ReleaseAutomation(
        stack,
        "Subject",
        function=function,
        names=NAMES,
        idempotency_table=IdempotencyTable(
            stack, "Table", key=placement.key, removal_policy=cdk.RemovalPolicy.DESTROY
        ),
        data_key=key(stack, "DataKey"),
        workload_key=placement.key,
        promote_from=promote_from,
    )


def _statements(automation: ReleaseAutomation) -> list[dict[str, Any]]:
    return [
        s
        for policy in resources(cdk.Stack.of(automation), "AWS::IAM::Policy")
        for s in policy["PolicyDocument"]["Statement"]
    ]


def test_approvals_and_model_stack_updates_of_this_environment_reach_the_function() -> None:
    automation = _automation()
    stack = template(cdk.Stack.of(automation))
    stack.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail": Match.object_like(
                        {"ModelPackageGroupName": [{"prefix": "ml-platform-test-"}]}
                    )
                }
            )
        },
    )
    stack.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": Match.object_like({"source": ["aws.cloudformation"]})},
    )


def test_it_writes_the_records_and_updates_only_model_stacks() -> None:
    statements = _statements(_automation())
    (update,) = [s for s in statements if "cloudformation:UpdateStack" in s["Action"]]
    assert "stack/ml-platform-test-model-*/*" in str(update["Resource"])
    (records,) = [s for s in statements if "ssm:PutParameter" in s["Action"]]
    assert "parameter/ml-platform-test/releases/*" in str(records["Resource"])


def test_importing_reads_the_previous_environment_and_registers_pending_approval() -> None:
    automation = _automation(promote_from=PREVIOUS)
    statements = _statements(automation)
    assert any(
        "mlp-previous-222222222222-eu-west-1-artifacts/*" in str(s["Resource"]) for s in statements
    )
    (register,) = [s for s in statements if s["Action"] == "sagemaker:CreateModelPackage"]
    assert register["Condition"] == {
        "StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    }
    template(cdk.Stack.of(automation)).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "PREVIOUS_NAME_PREFIX": "ml-platform-previous",
                        "PREVIOUS_ACCOUNT_ID": "222222222222",
                    }
                )
            }
        },
    )


def test_without_a_source_nothing_of_another_account_is_granted() -> None:
    assert "222222222222" not in str(_statements(_automation()))


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_automation()) == snapshot_json

"""IdempotencyTable on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import IdempotencyTable
from tests.constructs.helpers import bare_stack, construct_template, key, template


def _table() -> IdempotencyTable:
    stack = bare_stack()
    return IdempotencyTable(
        stack, "Subject", key=key(stack), removal_policy=cdk.RemovalPolicy.DESTROY
    )


def test_table_keys_on_id_expires_records_and_recovers_in_time() -> None:
    table = _table()
    template(cdk.Stack.of(table)).has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
            "Replicas": [
                Match.object_like(
                    {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}
                )
            ],
        },
    )


def test_record_grant_reads_and_writes_items_without_stream_actions() -> None:
    table = _table()
    stack = cdk.Stack.of(table)
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    table.grant_records(role)
    policies = template(stack).find_resources("AWS::IAM::Policy")
    actions = {
        action
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert "dynamodb:PutItem" in actions and "dynamodb:GetItem" in actions
    assert not {"dynamodb:GetRecords", "dynamodb:GetShardIterator"} & actions


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_table()) == snapshot_json

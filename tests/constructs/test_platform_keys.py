"""PlatformKeys on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import PlatformKeys
from platform_config.names import KeyKind
from tests.constructs.helpers import NAMES, bare_stack, construct_template, template


def _keys() -> PlatformKeys:
    return PlatformKeys(
        bare_stack(), "Subject", names=NAMES, removal_policy=cdk.RemovalPolicy.RETAIN
    )


def test_three_rotated_keys_with_the_naming_objects_aliases() -> None:
    keys = _keys()
    stack = template(cdk.Stack.of(keys))
    stack.resource_count_is("AWS::KMS::Key", 3)
    stack.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    for kind in KeyKind:
        stack.has_resource_properties("AWS::KMS::Alias", {"AliasName": NAMES.key_alias(kind)})


def test_logs_key_lets_cloudwatch_logs_of_this_account_use_it() -> None:
    keys = _keys()
    template(cdk.Stack.of(keys)).has_resource_properties(
        "AWS::KMS::Key",
        {
            "Description": f"{NAMES.prefix}: CloudWatch Logs of the ML platform",
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [Match.object_like({"Sid": "AllowCloudWatchLogsOfThisAccount"})]
                )
            },
        },
    )


def test_workload_key_lets_eventbridge_rules_of_this_account_use_it() -> None:
    keys = _keys()
    template(cdk.Stack.of(keys)).has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowEventBridgeRulesOfThisAccount",
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            }
                        )
                    ]
                )
            }
        },
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_keys()) == snapshot_json

"""PlatformFunction on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import PlatformFunction
from tests.constructs.helpers import (
    FUNCTION_CODE,
    bare_stack,
    construct_template,
    function_placement,
    key,
    template,
)


def _function(**props: object) -> PlatformFunction:
    stack = bare_stack()
    return PlatformFunction(
        stack,
        "Subject",
        code_path=str(FUNCTION_CODE),
        handler="handler.lambda_handler",
        description="A test function",
        placement=function_placement(stack),
        **props,  # type: ignore[arg-type]
    )


def test_function_runs_in_the_vpc_traced_with_its_dead_letter_queue() -> None:
    function = _function(environment={"SETTING": "value"})
    template(cdk.Stack.of(function)).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "VpcConfig": Match.object_like({"SubnetIds": Match.any_value()}),
            "DeadLetterConfig": {"TargetArn": Match.any_value()},
            "ReservedConcurrentExecutions": 2,
            "Environment": {
                "Variables": {
                    "SETTING": "value",
                    "DEAD_LETTER_QUEUE_URL": Match.any_value(),
                    "POWERTOOLS_SERVICE_NAME": "Subject",
                }
            },
        },
    )


def test_dead_letter_queue_keeps_messages_fourteen_days() -> None:
    function = _function()
    template(cdk.Stack.of(function)).has_resource_properties(
        "AWS::SQS::Queue", {"MessageRetentionPeriod": 14 * 24 * 3600}
    )


def test_an_added_queue_feeds_the_function_and_dead_letters_to_its_queue() -> None:
    function = _function()
    stack = cdk.Stack.of(function)
    function.add_queue(stack, "Work", key=key(stack, "QueueKey"), batch_size=1, max_receive_count=3)
    stack_template = template(stack)
    stack_template.has_resource_properties(
        "AWS::SQS::Queue", {"RedrivePolicy": Match.object_like({"maxReceiveCount": 3})}
    )
    stack_template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"BatchSize": 1})


def test_dead_letter_alarm_fires_on_the_first_message() -> None:
    function = _function()
    stack = cdk.Stack.of(function)
    function.alarm_on_dead_letters(sns.Topic(stack, "Alerts"))
    template(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"},
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_function()) == snapshot_json

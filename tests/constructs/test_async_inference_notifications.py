"""AsyncInferenceNotifications on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.async_inference_notifications import AsyncInferenceNotifications
from tests.constructs.helpers import bare_stack, construct_template, key, template


def _notifications() -> AsyncInferenceNotifications:
    stack = bare_stack()
    return AsyncInferenceNotifications(stack, "Subject", key=key(stack))


def test_two_encrypted_topics_and_errors_kept_in_a_queue() -> None:
    notifications = _notifications()
    stack = template(cdk.Stack.of(notifications))
    stack.resource_count_is("AWS::SNS::Topic", 2)
    stack.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    stack.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "sqs", "RawMessageDelivery": True}
    )
    stack.has_resource_properties("AWS::SQS::Queue", {"MessageRetentionPeriod": 14 * 24 * 3600})


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_notifications()) == snapshot_json

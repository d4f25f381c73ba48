"""AlertTopic on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.alert_topic import AlertTopic
from tests.constructs.helpers import (
    ACCOUNT,
    NAMES,
    REGION,
    bare_stack,
    construct_template,
    template,
)


def _topic(**props: object) -> AlertTopic:
    return AlertTopic(
        bare_stack(),
        "Subject",
        topic_name=NAMES.alert_topic(),
        key_alias=NAMES.alert_key_alias(),
        **props,  # type: ignore[arg-type]
    )


def test_topic_is_encrypted_with_its_own_key_and_subscribes_the_addresses() -> None:
    topic = _topic(email_addresses=["ops@example.com"])
    stack = template(cdk.Stack.of(topic))
    stack.has_resource_properties(
        "AWS::SNS::Topic", {"TopicName": NAMES.alert_topic(), "KmsMasterKeyId": Match.any_value()}
    )
    stack.has_resource_properties("AWS::KMS::Alias", {"AliasName": NAMES.alert_key_alias()})
    stack.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )


def test_an_existing_topic_is_imported_and_the_key_still_made() -> None:
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:existing"
    topic = _topic(existing_topic_arn=arn)
    stack = template(cdk.Stack.of(topic))
    stack.resource_count_is("AWS::SNS::Topic", 0)
    stack.resource_count_is("AWS::KMS::Key", 1)
    assert topic.topic.topic_arn == arn


def test_subscribers_of_an_existing_topic_are_refused() -> None:
    with pytest.raises(ValueError, match="email_addresses subscribe to a created topic"):
        _topic(existing_topic_arn="arn:aws:sns:eu-west-1:111111111111:x", email_addresses=["a@b.c"])


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_topic()) == snapshot_json

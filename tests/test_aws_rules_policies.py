"""The IAM policy evaluator of ``aws_rules``: wildcards, principals, conditions, precedence."""

from __future__ import annotations

import pytest

from aws_rules.policies import SEGMENT, Request, allowed, decision, matches, patterns_overlap

QUEUE = "arn:aws:sqs:eu-west-1:111111111111:q"
RULE = "arn:aws:events:eu-west-1:111111111111:rule/r"
EVENTS = Request(
    "sqs:SendMessage",
    QUEUE,
    service="events.amazonaws.com",
    context={"aws:SourceArn": RULE, "aws:SourceAccount": "111111111111"},
)


def _policy(**statement: object) -> dict[str, object]:
    base = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
    return {"Statement": [{**base, "Action": "sqs:SendMessage", "Resource": QUEUE, **statement}]}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", True),
        ("kms:Decrypt", "kms:Encrypt", False),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x", True),
        ("arn:aws:s3:::b/?", "arn:aws:s3:::b/xy", False),
    ],
)
def test_wildcards(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_patterns_overlap_on_either_side() -> None:
    assert patterns_overlap(
        "arn:aws:logs:r:1:log-group:x:*",
        f"arn:{SEGMENT}:logs:{SEGMENT}:{SEGMENT}:log-group:{SEGMENT}:log-stream:{SEGMENT}",
    )
    assert not patterns_overlap(
        "arn:aws:sagemaker:r:1:endpoint-config/*",
        f"arn:{SEGMENT}:sagemaker:{SEGMENT}:{SEGMENT}:endpoint/{SEGMENT}",
    )


def test_action_is_case_insensitive_and_principal_must_match() -> None:
    assert allowed([_policy(Action="SQS:sendmessage")], EVENTS)
    other = _policy(Principal={"Service": "sns.amazonaws.com"})
    assert not allowed([other], EVENTS)
    assert allowed([_policy(Principal="*")], EVENTS)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"ArnEquals": {"aws:SourceArn": RULE}}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:events:eu-west-1:111111111111:rule/*"}}, True),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:111111111111:rule/x"}}, False),
        ({"StringEquals": {"aws:SourceAccount": ["222222222222", "111111111111"]}}, True),
        ({"StringNotEquals": {"aws:SourceAccount": "111111111111"}}, False),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, False),  # unknown key: not proven
        ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, True),
        ({"Null": {"aws:SourceArn": "false"}}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ],
)
def test_conditions_against_the_service_context(condition: dict, expected: bool) -> None:
    assert allowed([_policy(Condition=condition)], EVENTS) is expected


def test_an_explicit_deny_wins_and_an_unprovable_deny_applies() -> None:
    deny_tls = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "sqs:*",
        "Resource": QUEUE,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert decision([_policy(), {"Statement": [deny_tls]}], EVENTS) == "allow"
    deny_all = {**deny_tls, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}
    assert decision([_policy(), {"Statement": [deny_all]}], EVENTS) == "deny"
    assert decision([], EVENTS) == "implicit-deny"

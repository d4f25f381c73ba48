"""ReleaseRecord on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from syrupy.assertion import SnapshotAssertion

from ml_constructs.release_record import ReleaseRecord
from platform_contracts.releases import UNRELEASED, Slot
from tests.constructs.helpers import NAMES, bare_stack, construct_template, provider, template


def _record() -> ReleaseRecord:
    stack = bare_stack()
    return ReleaseRecord(
        stack,
        "Subject",
        provider=provider(stack),
        parameter_name=NAMES.release_record("churn", Slot.CHAMPION),
    )


def test_record_is_created_empty_and_kept() -> None:
    record = _record()
    template(cdk.Stack.of(record)).has_resource(
        "Custom::ReleaseRecord",
        {
            "Properties": {
                "ServiceToken": "arn:aws:lambda:eu-west-1:111111111111:function:provider",
                "ParameterName": "/ml-platform-test/releases/churn/champion",
                "InitialValue": UNRELEASED,
            },
            "DeletionPolicy": "Retain",
        },
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_record()) == snapshot_json

"""FeatureStore on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import FeatureStore
from platform_config import FeatureGroupSpec
from tests.constructs.helpers import NAMES, bare_stack, construct_template, key, resources, template

GROUP = FeatureGroupSpec(
    name="customer-activity",
    record_identifier="customer_id",
    event_time="event_time",
    features=[
        {"name": "customer_id", "type": "string"},
        {"name": "event_time", "type": "string"},
    ],
    online_store=True,
    online_ttl={"unit": "Days", "value": 7},
)


def _store() -> FeatureStore:
    stack = bare_stack()
    return FeatureStore(
        stack,
        "Subject",
        feature_groups=[GROUP],
        names=NAMES,
        offline_bucket=s3.Bucket.from_bucket_name(stack, "Datasets", "test-datasets"),
        key=key(stack),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def test_group_is_named_by_the_naming_object_with_encrypted_stores() -> None:
    store = _store()
    template(cdk.Stack.of(store)).has_resource_properties(
        "AWS::SageMaker::FeatureGroup",
        {
            "FeatureGroupName": NAMES.feature_group("customer-activity"),
            "OnlineStoreConfig": Match.object_like(
                {"TtlDuration": {"Unit": "Days", "Value": 7}, "SecurityConfig": Match.any_value()}
            ),
            "OfflineStoreConfig": Match.object_like({"TableFormat": "Iceberg"}),
        },
    )


def test_group_waits_for_the_offline_store_roles_policy() -> None:
    store = _store()
    groups = template(cdk.Stack.of(store)).find_resources("AWS::SageMaker::FeatureGroup")
    (group,) = groups.values()
    assert any("OfflineStoreRoleDefaultPolicy" in d for d in group["DependsOn"])


def test_record_grant_names_the_groups_arns() -> None:
    store = _store()
    stack = cdk.Stack.of(store)
    role = iam.Role(stack, "User", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    store.grant_read_write_records(role)
    statements = [
        s
        for policy in resources(stack, "AWS::IAM::Policy")
        for s in policy["PolicyDocument"]["Statement"]
        if "sagemaker:PutRecord" in s["Action"]
    ]
    assert len(statements) == 1
    assert "feature-group/ml-platform-test-customer-activity" in str(statements[0]["Resource"])


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_store()) == snapshot_json

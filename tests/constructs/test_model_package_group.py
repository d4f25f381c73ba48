"""ModelPackageGroup (and ModelRegistry, one group per model) on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from syrupy.assertion import SnapshotAssertion

from ml_constructs import ModelPackageGroup, ModelRegistry
from platform_config import ModelSpec
from tests.constructs.helpers import NAMES, bare_stack, construct_template, resources

APPROVER = "arn:aws:iam::111111111111:role/approver"


def _group(**props: object) -> ModelPackageGroup:
    return ModelPackageGroup(
        bare_stack(),
        "Subject",
        group_name="ml-platform-test-churn",
        description="Churn",
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **props,  # type: ignore[arg-type]
    )


def test_readers_may_read_and_only_approvers_may_approve() -> None:
    group = _group(reader_accounts=["222222222222"], approvers=[APPROVER])
    (properties,) = resources(cdk.Stack.of(group), "AWS::SageMaker::ModelPackageGroup")
    statements = {s["Sid"]: s for s in properties["ModelPackageGroupPolicy"]["Statement"]}
    readers = statements["PromotionReaders"]
    assert readers["Effect"] == "Allow" and "222222222222" in str(readers["Principal"])
    assert "sagemaker:UpdateModelPackage" not in readers["Action"]
    deny = statements["OnlyApproversApprove"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": [APPROVER]}


def test_a_group_without_readers_or_approvers_has_no_policy() -> None:
    (properties,) = resources(cdk.Stack.of(_group()), "AWS::SageMaker::ModelPackageGroup")
    assert "ModelPackageGroupPolicy" not in properties


def test_registry_makes_one_group_per_model_named_by_the_naming_object() -> None:
    registry = ModelRegistry(
        bare_stack(),
        "Registry",
        models=[ModelSpec(name="churn"), ModelSpec(name="fraud")],
        names=NAMES,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    groups = resources(cdk.Stack.of(registry), "AWS::SageMaker::ModelPackageGroup")
    assert sorted(g["ModelPackageGroupName"] for g in groups) == [
        NAMES.model_package_group("churn"),
        NAMES.model_package_group("fraud"),
    ]


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_group(reader_accounts=["222222222222"])) == snapshot_json

"""The registry stack: model package groups and feature groups, stateful and pinned."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from tests.conftest import SynthesizedPlatform

# Adding a model or a feature group must never rename another's resources.
PINNED_LOGICAL_IDS = {
    "AWS::SageMaker::ModelPackageGroup": {
        "ModelRegistrychurnprediction6F81B428",
        "ModelRegistryfrauddetection870EC561",
        "ModelRegistryleadscoring2F0A2409",
        "ModelRegistrysupportassistant03304C70",
        "ModelRegistryclaimstriage89BF5E96",
    },
    "AWS::SageMaker::FeatureGroup": {
        "FeatureStorecustomeractivityE22E2AF7",
        "FeatureStoretransactionfeatures606D4DE4",
    },
}


def _registry(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.registry)


def test_stateful_logical_ids_are_pinned(platforms: dict[str, SynthesizedPlatform]) -> None:
    for name, platform in platforms.items():
        template = _registry(platform)
        for kind, expected in PINNED_LOGICAL_IDS.items():
            assert set(template.find_resources(kind)) == expected, f"{name}: {kind}"


def test_one_package_group_per_catalogue_model_named_after_the_environment(
    sandbox: SynthesizedPlatform,
) -> None:
    groups = _registry(sandbox).find_resources("AWS::SageMaker::ModelPackageGroup")
    names = sorted(g["Properties"]["ModelPackageGroupName"] for g in groups.values())
    assert names == sorted(f"ml-platform-sandbox-{model.name}" for model in sandbox.config.models)
    assert "ml-platform-sandbox-churn-prediction" in names


def test_later_environment_accounts_may_read_packages_for_promotion(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    dev = _registry(platforms["dev"]).find_resources("AWS::SageMaker::ModelPackageGroup")
    for group in dev.values():
        statement = group["Properties"]["ModelPackageGroupPolicy"]["Statement"][0]
        principals = json.dumps(statement["Principal"])
        assert ":333333333333:root" in principals and "444444444444" not in principals
        assert sorted(statement["Action"]) == [
            "sagemaker:DescribeModelPackage",
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:ListModelPackages",
        ]
    prod = _registry(platforms["prod"]).find_resources("AWS::SageMaker::ModelPackageGroup")
    assert all("ModelPackageGroupPolicy" not in g["Properties"] for g in prod.values())


def test_reader_accounts_may_read_model_artifacts_and_decrypt_them(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    dev = platforms["dev"]
    policies = dev.template(dev.platform.data).find_resources("AWS::S3::BucketPolicy")
    readers = [p for p in policies.values() if "333333333333" in json.dumps(p)]
    assert len(readers) == 1
    key_policies = json.dumps(dev.template(dev.platform.data).find_resources("AWS::KMS::Key"))
    assert "333333333333" in key_policies


def test_the_registry_has_no_rule_without_a_target(sandbox: SynthesizedPlatform) -> None:
    # Issue 11 defect 9: approvals are consumed by the automation stack's rule, which names
    # the groups it deploys; a rule here without a target matched them and did nothing.
    rules = _registry(sandbox).find_resources("AWS::Events::Rule")
    assert all(rule["Properties"].get("Targets") for rule in rules.values())


def test_feature_groups_encrypt_both_stores_with_the_data_key(
    sandbox: SynthesizedPlatform,
) -> None:
    groups = _registry(sandbox).find_resources("AWS::SageMaker::FeatureGroup")
    activity = groups["FeatureStorecustomeractivityE22E2AF7"]["Properties"]
    assert activity["FeatureGroupName"] == "ml-platform-sandbox-customer-activity"
    assert activity["OnlineStoreConfig"]["EnableOnlineStore"] is True
    assert activity["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Days", "Value": 30}
    assert "KmsKeyId" in activity["OnlineStoreConfig"]["SecurityConfig"]
    offline = activity["OfflineStoreConfig"]
    assert offline["TableFormat"] == "Iceberg"
    assert offline["DisableGlueTableCreation"] is False
    assert offline["S3StorageConfig"]["S3Uri"] == (
        "s3://mlp-sandbox-111111111111-eu-west-1-datasets/feature-store"
    )
    assert "KmsKeyId" in offline["S3StorageConfig"]
    transactions = groups["FeatureStoretransactionfeatures606D4DE4"]["Properties"]
    assert "OnlineStoreConfig" not in transactions
    assert transactions["EventTimeFeatureName"] == "event_time"
    assert {"FeatureName": "amount", "FeatureType": "Fractional"} in (
        transactions["FeatureDefinitions"]
    )


def test_feature_groups_wait_for_their_roles_policy(sandbox: SynthesizedPlatform) -> None:
    groups = _registry(sandbox).find_resources("AWS::SageMaker::FeatureGroup")
    for group in groups.values():
        assert any("OfflineStoreRoleDefaultPolicy" in dep for dep in group["DependsOn"])


def test_offline_store_role_writes_only_its_prefix(sandbox: SynthesizedPlatform) -> None:
    policy = json.dumps(_registry(sandbox).find_resources("AWS::IAM::Policy"))
    assert "mlp-sandbox-111111111111-eu-west-1-datasets/feature-store/*" in policy
    assert "mlp-sandbox-111111111111-eu-west-1-datasets/*" not in policy


@pytest.mark.parametrize(("env_name", "policy"), [("sandbox", "Delete"), ("prod", "Retain")])
def test_registry_resources_follow_the_environments_retention(
    platforms: dict[str, SynthesizedPlatform], env_name: str, policy: str
) -> None:
    template = _registry(platforms[env_name])
    for kind in PINNED_LOGICAL_IDS:
        for logical_id, resource in template.find_resources(kind).items():
            assert resource["DeletionPolicy"] == policy, logical_id

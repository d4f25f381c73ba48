"""The registries: the shared feature store, and each model's own registry stack (its package
group and release record), stateful and pinned."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from platform_contracts.releases import UNRELEASED, Slot, record_parameter_name
from stacks.model_registry_stack import has_candidate_slot
from tests.conftest import (
    SynthesizedPlatform,
    model_template,
    registry_template,
    resources_of_type,
)

# Adding a model or a feature group must never rename another's resources.
PINNED_LOGICAL_IDS = {
    "AWS::SageMaker::FeatureGroup": {
        "FeatureStorecustomeractivityE22E2AF7",
        "FeatureStoretransactionfeatures606D4DE4",
    },
}
#: In each model's registry stack: its group, and a record per slot (a candidate slot only
#: for a model with an unpinned challenger or shadow variant).
PINNED_MODEL_LOGICAL_IDS = {
    "Group": "AWS::SageMaker::ModelPackageGroup",
    "ChampionRecord": "Custom::ReleaseRecord",
}
CANDIDATE_RECORD = {"CandidateRecord": "Custom::ReleaseRecord"}


def _registry(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.registry)


def _groups(platform: SynthesizedPlatform) -> dict[str, dict[str, Any]]:
    return resources_of_type(platform, "AWS::SageMaker::ModelPackageGroup")


def test_stateful_logical_ids_are_pinned(platforms: dict[str, SynthesizedPlatform]) -> None:
    for name, platform in platforms.items():
        template = _registry(platform)
        for kind, expected in PINNED_LOGICAL_IDS.items():
            assert set(template.find_resources(kind)) == expected, f"{name}: {kind}"
        template.resource_count_is("AWS::SageMaker::ModelPackageGroup", 0)


@pytest.mark.parametrize("env_name", ["sandbox", "dev", "staging", "prod"])
def test_each_models_registry_stack_pins_its_groups_and_records_logical_ids(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    for model in platform.config.models:
        resources = registry_template(platform, model.name)["Resources"]
        expected = PINNED_MODEL_LOGICAL_IDS | (
            CANDIDATE_RECORD if has_candidate_slot(model) else {}
        )
        assert {key: r["Type"] for key, r in resources.items()} == expected, model.name
        stack = platform.model(model.name).registry
        assert stack.stack_name == f"ml-platform-{env_name}-registry-{model.name}"


def test_one_package_group_per_catalogue_model_named_after_the_environment(
    sandbox: SynthesizedPlatform,
) -> None:
    groups = _groups(sandbox)
    names = sorted(g["Properties"]["ModelPackageGroupName"] for g in groups.values())
    assert names == sorted(f"ml-platform-sandbox-{model.name}" for model in sandbox.config.models)
    assert "ml-platform-sandbox-churn-prediction" in names
    # each in its model's registry stack
    for key, group in groups.items():
        model = group["Properties"]["ModelPackageGroupName"].removeprefix("ml-platform-sandbox-")
        assert key == f"ml-platform-sandbox-registry-{model}/Group"


@pytest.mark.parametrize("env_name", ["sandbox", "prod"])
def test_every_record_a_model_stack_reads_is_created_empty_and_kept_by_its_registry_stack(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    prefix = platform.config.name_prefix
    for model in platform.config.models:
        records = {
            r["Properties"]["ParameterName"]: r
            for r in registry_template(platform, model.name)["Resources"].values()
            if r["Type"] == "Custom::ReleaseRecord"
        }
        read = {
            parameter["Default"]
            for parameter in model_template(platform, model.name)["Parameters"].values()
            if parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
            and parameter["Default"].startswith(f"/{prefix}/releases/")
        }
        slots = [Slot.CHAMPION, Slot.CANDIDATE] if has_candidate_slot(model) else [Slot.CHAMPION]
        assert (
            read
            == set(records)
            == {record_parameter_name(prefix, model.name, slot) for slot in slots}
        ), model.name
        for record in records.values():
            assert record["Properties"]["InitialValue"] == UNRELEASED
            assert record["DeletionPolicy"] == record["UpdateReplacePolicy"] == "Retain"


def test_later_environment_accounts_may_read_packages_for_promotion(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    dev = _groups(platforms["dev"])
    assert len(dev) == len(platforms["dev"].config.models)
    for group in dev.values():
        (statement,) = [
            s
            for s in group["Properties"]["ModelPackageGroupPolicy"]["Statement"]
            if s["Sid"] == "PromotionReaders"
        ]
        principals = json.dumps(statement["Principal"])
        assert ":333333333333:root" in principals and "444444444444" not in principals
        assert sorted(statement["Action"]) == [
            "sagemaker:DescribeModelPackage",
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:ListModelPackages",
        ]
    # Prod has no later environment to read it; its groups' policy only names its approvers.
    prod = _groups(platforms["prod"])
    for group in prod.values():
        statements = group["Properties"]["ModelPackageGroupPolicy"]["Statement"]
        assert [s["Sid"] for s in statements] == ["OnlyApproversApprove"]


def test_reader_accounts_may_read_model_artifacts_and_decrypt_them(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    dev = platforms["dev"]
    policies = dev.template(dev.platform.data).find_resources("AWS::S3::BucketPolicy")
    readers = [p for p in policies.values() if "333333333333" in json.dumps(p)]
    assert len(readers) == 1
    key_policies = json.dumps(dev.template(dev.platform.data).find_resources("AWS::KMS::Key"))
    assert "333333333333" in key_policies


def test_no_registry_stack_grows_a_rule_per_group(sandbox: SynthesizedPlatform) -> None:
    # Approvals reach the release automation through one rule by name prefix (automation
    # stack, tested there); no registry stack holds a rule of its own.
    for stack in [
        sandbox.platform.registry,
        *(m.registry for m in sandbox.platform.models.values()),
    ]:
        sandbox.template(stack).resource_count_is("AWS::Events::Rule", 0)


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
    platform = platforms[env_name]
    template = _registry(platform)
    for kind in PINNED_LOGICAL_IDS:
        for logical_id, resource in template.find_resources(kind).items():
            assert resource["DeletionPolicy"] == policy, logical_id
    for key, group in _groups(platform).items():
        assert group["DeletionPolicy"] == policy, key

"""The data stack: keys and buckets, their protection, and their pinned logical ids."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import SynthesizedPlatform

# Renaming or moving any of these would make CloudFormation replace (and lose) the resource.
PINNED_LOGICAL_IDS = {
    "AWS::KMS::Key": {"KeysDataKey8F3FE3A4", "KeysLogsKeyD24E82DB", "KeysWorkloadKey1ADE7929"},
    "AWS::S3::Bucket": {
        "AccessLogs8B620ECA",
        "Datasets0030EE04",
        "ModelArtifacts858A2101",
        "DataCapture91154E3A",
        "MonitoringReports4B3CF795",
        "PipelineCodeD5634E34",
    },
}


def _data(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.data)


def _resources(template: Template, kind: str) -> dict[str, Any]:
    return template.find_resources(kind)


def test_stateful_logical_ids_are_pinned(platforms: dict[str, SynthesizedPlatform]) -> None:
    for name, platform in platforms.items():
        template = _data(platform)
        for kind, expected in PINNED_LOGICAL_IDS.items():
            assert set(_resources(template, kind)) == expected, f"{name}: {kind}"


def test_three_customer_managed_keys_rotate(sandbox: SynthesizedPlatform) -> None:
    template = _data(sandbox)
    template.resource_count_is("AWS::KMS::Key", 3)
    template.all_resources_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_logs_key_lets_only_this_accounts_log_groups_use_it(sandbox: SynthesizedPlatform) -> None:
    statements = _data(sandbox).find_resources("AWS::KMS::Key")["KeysLogsKeyD24E82DB"][
        "Properties"
    ]["KeyPolicy"]["Statement"]
    logs = next(s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount")
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    condition = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert "111111111111" in str(condition) and "log-group:*" in str(condition)


def test_every_bucket_blocks_public_access_is_versioned_and_owner_enforced(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _data(sandbox)
    template.resource_count_is("AWS::S3::Bucket", 6)
    template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    )


def test_data_buckets_use_the_data_key_and_log_to_the_access_log_bucket(
    sandbox: SynthesizedPlatform,
) -> None:
    buckets = _resources(_data(sandbox), "AWS::S3::Bucket")
    for logical_id, bucket in buckets.items():
        if logical_id.startswith("AccessLogs"):
            continue
        properties = bucket["Properties"]
        rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", logical_id
        key = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
        assert key == {"Fn::GetAtt": ["KeysDataKey8F3FE3A4", "Arn"]}, logical_id
        assert rule["BucketKeyEnabled"] is True
        assert properties["LoggingConfiguration"]["DestinationBucketName"] == {
            "Ref": "AccessLogs8B620ECA"
        }


def test_access_log_bucket_is_sse_s3_because_s3_logging_requires_it(
    sandbox: SynthesizedPlatform,
) -> None:
    bucket = _resources(_data(sandbox), "AWS::S3::Bucket")["AccessLogs8B620ECA"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "LoggingConfiguration" not in bucket


def test_every_bucket_policy_denies_plain_http_and_old_tls(sandbox: SynthesizedPlatform) -> None:
    policies = _resources(_data(sandbox), "AWS::S3::BucketPolicy")
    assert len(policies) == 6
    for logical_id, policy in policies.items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = [s for s in statements if s["Effect"] == "Deny"]
        conditions = [s["Condition"] for s in denies]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions, logical_id
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions, logical_id


def test_capture_and_report_buckets_tier_then_expire_as_configured(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    prod = platforms["prod"]
    buckets = _resources(_data(prod), "AWS::S3::Bucket")
    rules = buckets["DataCapture91154E3A"]["Properties"]["LifecycleConfiguration"]["Rules"]
    tiering = next(rule for rule in rules if rule["Id"] == "tier-and-expire-capture")
    assert tiering["ExpirationInDays"] == prod.config.data.data_capture_expiration_days == 731
    assert tiering["Transitions"] == [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}]
    housekeeping = next(rule for rule in rules if rule["Id"] == "housekeeping")
    assert housekeeping["NoncurrentVersionExpiration"] == {"NoncurrentDays": 365}
    assert housekeeping["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


@pytest.mark.parametrize(
    ("env_name", "policy"),
    [("sandbox", "Delete"), ("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")],
)
def test_keys_and_buckets_follow_the_environments_retention(
    platforms: dict[str, SynthesizedPlatform], env_name: str, policy: str
) -> None:
    template = _data(platforms[env_name])
    for kind in ("AWS::KMS::Key", "AWS::S3::Bucket"):
        for logical_id, resource in _resources(template, kind).items():
            assert resource["DeletionPolicy"] == policy, f"{env_name} {logical_id}"
            assert resource["UpdateReplacePolicy"] == policy, f"{env_name} {logical_id}"
    pending = 30 if policy == "Retain" else 7
    template.all_resources_properties("AWS::KMS::Key", {"PendingWindowInDays": pending})


@pytest.mark.parametrize(
    ("env_name", "protected"),
    [("sandbox", False), ("dev", False), ("staging", True), ("prod", True)],
)
def test_every_stack_follows_the_environments_termination_protection(
    platforms: dict[str, SynthesizedPlatform], env_name: str, protected: bool
) -> None:
    for stack in platforms[env_name].platform.stacks:
        assert stack.termination_protection is protected, stack.stack_name


def test_tags_from_config_reach_the_resources(sandbox: SynthesizedPlatform) -> None:
    _data(sandbox).has_resource_properties(
        "AWS::S3::Bucket",
        {"Tags": Match.array_with([{"Key": "environment", "Value": "sandbox"}])},
    )

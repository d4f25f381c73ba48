"""A version walks from dev to staging across two accounts (moto, one backend per account).

Dev is moto's default account; staging is another account, reached with credentials from
``sts:AssumeRole`` (moto keys its backends by the account the credentials belong to). The
staging function reads dev's registry and bucket through ``source_session``: in AWS its own
credentials do, through dev's group, bucket and key policies, which moto does not model.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
import pytest
import release_automation
from release_testbed import CHURN, DEV, REGION, STAGING, deploy, package_arn, package_event

from platform_contracts.releases import (
    LINEAGE_KEYS,
    Slot,
    model_package_group_name,
    model_stack_name,
    record_parameter_name,
)


@pytest.fixture
def staging_session(aws: None) -> boto3.Session:
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{STAGING.account}:role/ml-platform-staging-release-automation",
        RoleSessionName="staging",
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
        botocore_session=botocore.session.Session(),
    )
    assert session.client("sts").get_caller_identity()["Account"] == STAGING.account
    return session


@pytest.fixture
def staging(
    staging_session: boto3.Session, environ: dict[str, str], lambda_context: Any
) -> dict[str, Any]:
    """Staging deployed, and its release automation, importing from dev."""
    cloudformation = deploy(staging_session, STAGING, models=(CHURN,))
    sqs, dynamodb = staging_session.client("sqs"), staging_session.client("dynamodb")
    queues = {
        name: sqs.create_queue(QueueName=f"ml-platform-staging-{name}")["QueueUrl"]
        for name in ("dead-letters", "release-retries")
    }
    dynamodb.create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    function = release_automation.build(
        {
            **environ,
            "NAME_PREFIX": STAGING.prefix,
            "EXPECTED_ACCOUNT_ID": STAGING.account,
            "DEAD_LETTER_QUEUE_URL": queues["dead-letters"],
            "RETRY_QUEUE_URL": queues["release-retries"],
            "IDEMPOTENCY_TABLE_NAME": "idempotency",
            "ARTIFACTS_BUCKET_NAME": STAGING.bucket("artifacts"),
            "PREVIOUS_ACCOUNT_ID": DEV.account,
            "PREVIOUS_REGION": REGION,
            "PREVIOUS_NAME_PREFIX": DEV.prefix,
        },
        session=staging_session,
        source_session=boto3.DEFAULT_SESSION,  # stands for dev's resource policies
    )
    cloudformation.attach(function.flow.cloudformation)
    return {
        "invoke": lambda event: function.handle(event, lambda_context),
        "cloudformation": cloudformation,
        "session": staging_session,
    }


def staging_package(version: int) -> str:
    return package_arn(CHURN, version, STAGING.account, STAGING.prefix)


def test_a_version_approved_in_dev_is_imported_approved_and_released_in_staging(live, staging):
    live(CHURN, 2)  # approved and released in dev
    invoke, session = staging["invoke"], staging["session"]

    imported = invoke({"action": "import", "model": CHURN, "version": 2})

    assert imported["outcome"] == "imported", imported
    arn = imported["model_package_arn"]
    assert arn == staging_package(4)  # after staging's own three
    sagemaker = session.client("sagemaker")
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    lineage = {key: package["CustomerMetadataProperties"][key] for key in LINEAGE_KEYS}
    assert lineage == {
        "source_account": DEV.account,
        "source_environment": DEV.prefix,
        "source_package_arn": package_arn(CHURN, 2),
        "source_version": "2",
    }
    model_data = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    prefix = f"s3://{STAGING.bucket('artifacts')}/{CHURN}/imported/{DEV.prefix}/v2/"
    assert model_data.startswith(prefix) and model_data.endswith("/model.tar.gz")
    baseline = package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"]
    assert baseline.startswith(prefix)
    s3 = session.client("s3")
    bucket, key = model_data.removeprefix("s3://").split("/", 1)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read().startswith(b"model of ")

    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    event = package_event(CHURN, 4, account=STAGING.account)
    event["detail"].update(
        ModelPackageGroupName=model_package_group_name(STAGING.prefix, CHURN),
        ModelPackageArn=arn,
    )
    released = invoke(event)

    assert (released["outcome"], released["stack"]) == ("released", "update-started")
    record = record_parameter_name(STAGING.prefix, CHURN, Slot.CHAMPION)
    assert session.client("ssm").get_parameter(Name=record)["Parameter"]["Value"] == arn
    stack = staging["cloudformation"].stacks[model_stack_name(STAGING.prefix, CHURN)]
    assert stack.pending["ChampionPackage"] == arn
    reports = s3.list_objects_v2(Bucket=STAGING.bucket("reports"))["Contents"]
    assert {o["Key"] for o in reports} == {
        f"baselines/{CHURN}/4/data-quality/statistics.json",
        f"baselines/{CHURN}/4/data-quality/constraints.json",
    }


def test_importing_the_same_version_again_returns_the_first_import(live, staging):
    live(CHURN, 2)
    first = staging["invoke"]({"action": "import", "model": CHURN, "version": 2})

    again = staging["invoke"](
        {"action": "import", "model": CHURN, "source_package_arn": package_arn(CHURN, 2)}
    )

    assert again["outcome"] == "already-imported"
    assert again["model_package_arn"] == first["model_package_arn"]


def test_a_version_not_approved_in_dev_is_not_imported(platform, staging):
    result = staging["invoke"]({"action": "import", "model": CHURN, "version": 3})

    assert (result["outcome"], result["reason"]) == ("refused", "not-approved-in-source")
    packages = (
        staging["session"]
        .client("sagemaker")
        .list_model_packages(ModelPackageGroupName=model_package_group_name(STAGING.prefix, CHURN))[
            "ModelPackageSummaryList"
        ]
    )
    assert len(packages) == 3


def test_only_the_previous_environment_is_imported_from(platform, staging):
    other = package_arn(CHURN, 2, account="444444444444", prefix="ml-platform-prod")

    result = staging["invoke"]({"action": "import", "model": CHURN, "source_package_arn": other})

    assert (result["outcome"], result["reason"]) == ("refused", "not-previous-environment")


def test_a_dev_event_reaching_staging_is_parked(live, staging):
    result = staging["invoke"](package_event(CHURN, 2))

    assert (result["outcome"], result["reason"]) == ("dead-lettered", "wrong-account")

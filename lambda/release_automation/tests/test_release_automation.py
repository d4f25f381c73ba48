"""The release automation against moto: approvals, rejections, stack events, retries."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import model_stack
import pytest
import release_automation
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from release_testbed import (
    ACCOUNT_ID,
    CHURN,
    FRAUD,
    PREFIX,
    REPORTS,
    all_records,
    load_event,
    package_arn,
    package_event,
    record,
    record_history,
    retry_messages,
)

from platform_contracts.model_settings import settings_path
from platform_contracts.releases import Slot, model_stack_name, parse_change

CHURN_STACK = model_stack_name(PREFIX, CHURN)
FRAUD_STACK = model_stack_name(PREFIX, FRAUD)


def last_description(model: str, slot: Slot = Slot.CHAMPION) -> str:
    return str(record_history(model, slot)[-1]["Description"])


# --- Approved ---------------------------------------------------------------------------


def test_first_approval_writes_the_champion_record_and_updates_the_stack(approve, cloudformation):
    result = approve(CHURN, 2)

    assert result["outcome"] == "released" and result["stack"] == "update-started"
    assert record(CHURN) == package_arn(CHURN, 2)
    assert last_description(CHURN).startswith("released v2: approved by ")
    assert "(looks good)" in last_description(CHURN)
    [update] = cloudformation.updates()
    assert update["StackName"] == CHURN_STACK and update["UsePreviousTemplate"] is True
    assert update["Parameters"] == [
        {"ParameterKey": "BootstrapVersion", "UsePreviousValue": True},
        {"ParameterKey": "ChampionPackage", "UsePreviousValue": True},
    ]
    assert update["Capabilities"] == ["CAPABILITY_IAM"]
    assert update["ClientRequestToken"].startswith("release-automation-champion2-")
    assert "RoleARN" not in update
    assert cloudformation.stacks[CHURN_STACK].pending["ChampionPackage"] == package_arn(CHURN, 2)


def test_an_approval_changes_exactly_one_record(live, approve):
    live(CHURN, 1)
    live(FRAUD, 1)
    before = all_records()

    approve(CHURN, 2)

    after = all_records()
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {f"/{PREFIX}/releases/{CHURN}/champion"}


def test_first_approval_of_a_model_with_a_challenger_fills_both_slots(approve):
    approve(FRAUD, 1)

    assert record(FRAUD, Slot.CHAMPION) == record(FRAUD, Slot.CANDIDATE) == package_arn(FRAUD, 1)


def test_a_later_approval_of_a_model_with_a_challenger_changes_only_the_candidate(live, approve):
    live(FRAUD, 1)
    before = all_records()

    result = approve(FRAUD, 2)

    assert result["slots"] == ["candidate"]
    assert record(FRAUD, Slot.CANDIDATE) == package_arn(FRAUD, 2)
    after = all_records()
    assert {name for name in after if after[name] != before[name]} == {
        f"/{PREFIX}/releases/{FRAUD}/candidate"
    }


def test_approval_copies_the_baselines_under_the_released_version(approve):
    result = approve(CHURN, 2)

    s3 = boto3.client("s3")
    keys = sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=REPORTS, Prefix="baselines/")["Contents"]
    )
    assert keys == [
        f"baselines/{CHURN}/2/data-quality/constraints.json",
        f"baselines/{CHURN}/2/data-quality/statistics.json",
    ]
    assert sorted(result["baselines"]) == [f"s3://{REPORTS}/{key}" for key in keys]
    body = s3.get_object(Bucket=REPORTS, Key=keys[1])["Body"].read()
    assert body.startswith(b"statistics of ")


def test_the_cloudformation_role_is_passed_when_configured(environ, cloudformation, lambda_context):
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT_ID}-eu-west-1"
    function = release_automation.build(
        {**environ, "CLOUDFORMATION_ROLE_ARN": role}, session=boto3.DEFAULT_SESSION
    )
    cloudformation.attach(function.flow.cloudformation)
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package_arn(CHURN, 1), ModelApprovalStatus="Approved"
    )

    function.handle(package_event(CHURN, 1), lambda_context)

    assert cloudformation.updates()[0]["RoleARN"] == role


def test_an_approval_withdrawn_before_processing_releases_nothing(invoke, cloudformation):
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package_arn(CHURN, 2), ModelApprovalStatus="Rejected"
    )

    result = invoke(package_event(CHURN, 2, "Approved"))

    assert (result["outcome"], result["reason"]) == ("refused", "not-approved")
    assert record(CHURN) == "none" and cloudformation.updates() == []


def test_an_approval_older_than_the_served_version_is_refused(live, approve, cloudformation):
    live(CHURN, 3)

    result = approve(CHURN, 2)

    assert (result["outcome"], result["reason"]) == ("refused", "older-than-served")
    assert record(CHURN) == package_arn(CHURN, 3)
    assert len(cloudformation.updates()) == 1


def test_a_redelivered_event_is_processed_once(approve, invoke, cloudformation):
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package_arn(CHURN, 2), ModelApprovalStatus="Approved"
    )
    event = package_event(CHURN, 2)

    first = invoke(event)
    second = invoke(copy.deepcopy(event))

    assert second == first
    assert len(cloudformation.updates()) == 1 and len(record_history(CHURN)) == 2


def test_another_event_for_the_released_version_finds_the_stack_converged(live, invoke):
    live(CHURN, 2)

    result = invoke(package_event(CHURN, 2))

    assert (result["outcome"], result["stack"]) == ("already-released", "converged")
    assert len(record_history(CHURN)) == 2


def test_a_package_awaiting_approval_is_ignored(invoke, dead_letters, cloudformation):
    result = invoke(package_event(CHURN, 2, "PendingManualApproval"))

    assert result["outcome"] == "ignored"
    assert dead_letters() == [] and cloudformation.updates() == []


def test_an_approval_for_a_model_that_is_not_served_is_ignored(invoke, dead_letters):
    from release_testbed import model_settings

    settings = model_settings(CHURN)
    unserved = json.loads(settings.to_json())
    unserved["release"] = None
    boto3.client("ssm").put_parameter(
        Name=f"{settings_path(PREFIX)}{CHURN}/settings",
        Value=json.dumps(unserved),
        Type="String",
        Overwrite=True,
    )

    result = invoke(package_event(CHURN, 2))

    assert result["outcome"] == "ignored" and dead_letters() == []


# --- A busy stack -----------------------------------------------------------------------


def test_an_approval_while_the_stack_is_busy_writes_the_record_and_queues_a_retry(
    approve, cloudformation, retry_queue
):
    cloudformation.start_foreign_update(CHURN_STACK)

    result = approve(CHURN, 2)

    assert result["stack"] == "stack-busy"
    assert record(CHURN) == package_arn(CHURN, 2)
    assert cloudformation.updates() == []
    assert retry_messages(retry_queue) == [
        {"body": {"kind": "roll-out", "model": CHURN, "attempt": 1}, "delay_seconds": 60}
    ]


def test_a_retry_updates_the_stack_once_it_is_idle(
    approve, cloudformation, invoke, sqs_event, retry_queue
):
    cloudformation.start_foreign_update(CHURN_STACK)
    approve(CHURN, 2)
    cloudformation.finish(CHURN_STACK)  # the other update ends, serving what it resolved

    result = invoke(sqs_event(json.dumps({"kind": "roll-out", "model": CHURN, "attempt": 1})))

    assert result == {"batchItemFailures": []}
    assert cloudformation.stacks[CHURN_STACK].pending["ChampionPackage"] == package_arn(CHURN, 2)


def test_a_retry_on_a_still_busy_stack_queues_the_next_attempt_later(
    cloudformation, invoke, sqs_event, retry_queue
):
    cloudformation.start_foreign_update(CHURN_STACK)

    invoke(sqs_event(json.dumps({"kind": "roll-out", "model": CHURN, "attempt": 3})))

    assert retry_messages(retry_queue) == [
        {"body": {"kind": "roll-out", "model": CHURN, "attempt": 4}, "delay_seconds": 480}
    ]


def test_retry_delays_double_up_to_the_sqs_maximum():
    delays = [release_automation.retry_delay(attempt) for attempt in range(1, 8)]

    assert delays == [60, 120, 240, 480, 900, 900, 900]


def test_a_stack_busy_for_too_long_is_parked_with_the_reason(
    cloudformation, invoke, sqs_event, dead_letters, retry_queue
):
    attempt = release_automation.MAX_ATTEMPTS + 1
    invoke(sqs_event(json.dumps({"kind": "roll-out", "model": CHURN, "attempt": attempt})))

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "stack-busy-too-long"
    assert retry_messages(retry_queue) == []


def test_a_stack_that_turns_busy_between_describe_and_update_is_busy():
    client = boto3.client("cloudformation", region_name="eu-west-1")
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": CHURN_STACK,
                        "CreationTime": "2026-11-01T00:00:00Z",
                        "StackStatus": "UPDATE_COMPLETE",
                    }
                ]
            },
        )
        stubber.add_client_error(
            "update_stack",
            "ValidationError",
            f"Stack:arn:aws:cloudformation:eu-west-1:{ACCOUNT_ID}:stack/{CHURN_STACK}/1 is in "
            "UPDATE_IN_PROGRESS state and can not be updated.",
        )

        assert model_stack.update(client, CHURN_STACK, None, {"champion": 2}) == model_stack.BUSY


@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_FAILED", "ROLLBACK_COMPLETE"])
def test_a_stack_that_needs_a_person_parks_the_event(approve, cloudformation, dead_letters, status):
    cloudformation.stacks[CHURN_STACK].status = status

    approve(CHURN, 2)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "stack-not-updatable"
    assert status in message["attributes"]["reason_detail"]
    assert record(CHURN) == package_arn(CHURN, 2)  # kept: the next reconcile rolls it out


def test_a_retry_for_a_stack_that_needs_a_person_is_parked_at_once(
    cloudformation, invoke, sqs_event, dead_letters
):
    cloudformation.stacks[CHURN_STACK].status = "UPDATE_ROLLBACK_FAILED"

    result = invoke(sqs_event(json.dumps({"kind": "roll-out", "model": CHURN, "attempt": 2})))

    assert result == {"batchItemFailures": []}
    [message] = dead_letters()
    assert message["attributes"]["reason"] == "stack-not-updatable"


# --- Stack status changes ---------------------------------------------------------------


def test_a_rolled_back_release_sets_the_record_back_and_marks_the_version(
    live, approve, cloudformation, invoke, emf_metrics
):
    live(CHURN, 1)
    approve(CHURN, 2)

    result = invoke(cloudformation.finish(CHURN_STACK, rolled_back=True, reason="alarm 5xx"))

    assert result["outcome"] == "rolled-back" and result["stack"] == "converged"
    assert record(CHURN) == package_arn(CHURN, 1)
    description = last_description(CHURN)
    assert description.startswith("rolled-back v2: stack ") and "alarm 5xx" in description
    [metric] = [m for m in emf_metrics() if "ReleaseRolledBack" in m]
    assert metric["ModelPackageGroup"] == f"{PREFIX}-{CHURN}"


def test_a_late_duplicate_approval_after_a_rollback_is_refused(
    live, approve, cloudformation, invoke
):
    live(CHURN, 1)
    approve(CHURN, 2)
    invoke(cloudformation.finish(CHURN_STACK, rolled_back=True))
    updates = len(cloudformation.updates())

    result = invoke(package_event(CHURN, 2))

    assert (result["outcome"], result["reason"]) == ("refused", "withdrawn")
    assert record(CHURN) == package_arn(CHURN, 1)
    assert len(cloudformation.updates()) == updates


def test_an_approval_during_a_failing_roll_out_survives_its_rollback(
    live, approve, cloudformation, invoke
):
    live(CHURN, 1)
    approve(CHURN, 2)
    assert approve(CHURN, 3)["stack"] == "stack-busy"

    result = invoke(cloudformation.finish(CHURN_STACK, rolled_back=True))

    assert result["rolled_back"] == {"champion": package_arn(CHURN, 2)}
    assert record(CHURN) == package_arn(CHURN, 3)
    assert parse_change(last_description(CHURN))[1] == 2
    assert result["stack"] == "update-started"
    assert cloudformation.stacks[CHURN_STACK].pending["ChampionPackage"] == package_arn(CHURN, 3)


def test_completion_of_another_update_rolls_out_a_record_it_did_not_serve(
    approve, cloudformation, invoke
):
    cloudformation.start_foreign_update(CHURN_STACK)  # resolved before the approval
    approve(CHURN, 2)

    result = invoke(cloudformation.finish(CHURN_STACK))

    assert (result["outcome"], result["stack"]) == ("reconciling", "update-started")


def test_a_rollback_of_another_update_does_not_blame_the_record(approve, cloudformation, invoke):
    cloudformation.start_foreign_update(CHURN_STACK)
    approve(CHURN, 2)

    result = invoke(cloudformation.finish(CHURN_STACK, rolled_back=True))

    assert result["outcome"] == "reconciling"
    assert record(CHURN) == package_arn(CHURN, 2)
    assert not last_description(CHURN).startswith("rolled-back")


def test_an_unexplained_rollback_of_its_own_update_is_parked(
    live, approve, cloudformation, invoke, dead_letters
):
    live(CHURN, 1)
    approve(CHURN, 2)
    event = cloudformation.finish(CHURN_STACK, rolled_back=True)
    event["detail"]["client-request-token"] = "release-automation-champion99-0a1b2c3d4e5f"

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "rollout-failed"


def test_a_completed_stack_that_serves_its_records_needs_nothing(live, invoke, cloudformation):
    live(CHURN, 1)
    event = load_event("stack_update_complete")
    event["detail"]["stack-id"] = cloudformation.stacks[CHURN_STACK].stack_id

    assert invoke(event) == {"outcome": "in-sync"}


def test_a_status_change_of_an_unknown_stack_is_parked(invoke, dead_letters):
    event = load_event("stack_update_complete")
    event["detail"]["stack-id"] = event["detail"]["stack-id"].replace("churn", "other")

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "unknown-model"


# --- Rejected ---------------------------------------------------------------------------


def test_a_rejection_returns_the_slot_to_the_previous_version(
    live, approve, cloudformation, emf_metrics
):
    live(CHURN, 1)
    live(CHURN, 2)

    result = approve(CHURN, 2, "Rejected")

    assert (result["outcome"], result["stack"]) == ("rejected", "update-started")
    assert record(CHURN) == package_arn(CHURN, 1)
    assert last_description(CHURN).startswith("rejected v2: rejected by ")
    assert last_description(CHURN).endswith("serving v1")
    [metric] = [m for m in emf_metrics() if "ModelPackageRejected" in m]
    assert metric["ModelPackageRejected"] == [1.0]
    assert metric["ModelPackageGroup"] == f"{PREFIX}-{CHURN}"
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "MLPlatform/Releases"


def test_a_rejection_of_a_version_no_slot_serves_changes_nothing(live, approve, cloudformation):
    live(CHURN, 1)
    before, updates = all_records(), len(cloudformation.updates())

    result = approve(CHURN, 3, "Rejected")

    assert result == {"outcome": "rejection-recorded"}
    assert all_records() == before and len(cloudformation.updates()) == updates


def test_a_rejection_skips_versions_that_are_no_longer_approved(live, approve):
    live(CHURN, 1)
    live(CHURN, 2)
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package_arn(CHURN, 1), ModelApprovalStatus="Rejected"
    )

    approve(CHURN, 2, "Rejected")

    assert record(CHURN) == "none"


def test_a_rejected_version_approved_again_is_refused(live, approve):
    live(CHURN, 1)
    live(CHURN, 2)
    approve(CHURN, 2, "Rejected")

    result = approve(CHURN, 2)

    assert (result["outcome"], result["reason"]) == ("refused", "withdrawn")
    assert record(CHURN) == package_arn(CHURN, 1)


# --- Direct invocations -----------------------------------------------------------------


def test_promote_candidate_makes_the_candidate_champion(live, invoke):
    live(FRAUD, 1)
    live(FRAUD, 2)

    result = invoke({"action": "promote-candidate", "model": FRAUD, "requested_by": "alice"})

    assert (result["outcome"], result["stack"]) == ("promoted", "update-started")
    assert record(FRAUD, Slot.CHAMPION) == record(FRAUD, Slot.CANDIDATE) == package_arn(FRAUD, 2)
    assert last_description(FRAUD) == (
        "promoted v2: candidate promoted to champion, requested by alice"
    )


def test_promote_candidate_of_the_champion_changes_no_record(live, invoke):
    live(FRAUD, 1)

    result = invoke({"action": "promote-candidate", "model": FRAUD})

    assert (result["outcome"], result["stack"]) == ("already-champion", "converged")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"action": "promote-candidate", "model": CHURN}, "no-candidate-slot"),
        ({"action": "promote-candidate", "model": FRAUD}, "no-candidate"),
        ({"action": "promote-candidate", "model": "nope"}, "unknown-model"),
        ({"action": "promote-candidate"}, "malformed-event"),
        ({"action": "deploy-everything", "model": CHURN}, "unsupported-action"),
        ({"action": "import", "model": CHURN, "version": 2}, "no-previous-environment"),
    ],
)
def test_a_direct_invocation_that_cannot_be_done_is_refused_with_the_reason(
    platform, invoke, dead_letters, payload, reason
):
    result = invoke(payload)

    assert (result["outcome"], result["reason"]) == ("refused", reason)
    assert dead_letters() == []


# --- Unusable events: parked with the reason, on the first attempt -----------------------


@pytest.mark.parametrize(
    "field",
    ["ModelPackageGroupName", "ModelPackageArn", "ModelApprovalStatus", "ModelPackageVersion"],
)
def test_an_event_missing_a_field_is_parked_with_the_reason(invoke, dead_letters, field):
    event = package_event(CHURN, 2)
    del event["detail"][field]

    result = invoke(event)

    [message] = dead_letters()
    assert result["outcome"] == "dead-lettered"
    assert message["attributes"]["reason"] == "malformed-event"
    assert f"detail.{field} is missing" == message["attributes"]["reason_detail"]
    assert message["attributes"]["event_id"] == event["id"]
    assert message["body"] == event


@pytest.mark.parametrize(
    ("path", "value", "detail"),
    [
        (("detail", "ModelPackageVersion"), "2", 'detail.ModelPackageVersion is "2", not int'),
        (("detail", "ModelPackageVersion"), True, "detail.ModelPackageVersion is true, not int"),
        (("detail", "ModelApprovalStatus"), ["Approved"], "detail.ModelApprovalStatus is"),
        (("detail",), [], "detail.ModelPackageGroupName is missing"),
        (("account",), 123456789012, "account is 123456789012, not str"),
        (("detail", "ModelPackageArn"), "arn:aws:s3:::bucket", "detail.ModelPackageArn: "),
    ],
)
def test_an_event_with_a_wrong_typed_field_is_parked_without_a_retry(
    invoke, dead_letters, path, value, detail
):
    event = package_event(CHURN, 2)
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    invoke(event)  # returns: Lambda does not retry it

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "malformed-event"
    assert message["attributes"]["reason_detail"].startswith(detail)
    assert record(CHURN) == "none"


def test_a_stack_event_with_a_wrong_typed_status_is_parked(invoke, dead_letters):
    event = load_event("stack_update_complete")
    event["detail"]["status-details"] = "UPDATE_COMPLETE"

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason_detail"] == (
        'detail.status-details is "UPDATE_COMPLETE", not dict'
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"account": "999999999999"}, "wrong-account"),
        ({"source": "aws.s3", "detail-type": "Object Created"}, "unsupported-event"),
        ({"id": ""}, "malformed-event"),
    ],
)
def test_an_event_it_does_not_handle_is_parked(invoke, dead_letters, changes, reason):
    event = {**package_event(CHURN, 2), **changes}

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == reason


def test_an_event_for_a_package_missing_from_the_registry_is_parked(invoke, dead_letters):
    invoke(package_event(CHURN, 9))

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "package-not-found"


def test_an_event_of_a_model_whose_settings_do_not_parse_is_parked(invoke, dead_letters):
    boto3.client("ssm").put_parameter(
        Name=f"{settings_path(PREFIX)}{CHURN}/settings",
        Value='{"schema_version": 1}',
        Type="String",
        Overwrite=True,
    )

    invoke(package_event(CHURN, 2))

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "invalid-settings"
    assert "retraining is not a JSON object" in message["attributes"]["reason_detail"]


def test_an_event_of_a_model_without_its_record_is_parked(approve, dead_letters):
    boto3.client("ssm").delete_parameter(Name=f"/{PREFIX}/releases/{CHURN}/champion")

    approve(CHURN, 2)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "record-missing"


def test_a_malformed_retry_message_is_parked_and_not_retried(invoke, sqs_event, dead_letters):
    result = invoke(sqs_event('{"kind": "roll-out", "model": 7, "attempt": 1}'))

    assert result == {"batchItemFailures": []}
    [message] = dead_letters()
    assert message["attributes"]["reason_detail"] == "model is 7, not str"


def test_an_aws_error_raises_so_that_lambda_retries(automation, invoke, dead_letters, monkeypatch):
    def throttled(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
            "DescribeModelPackage",
        )

    monkeypatch.setattr(automation.flow.sagemaker, "describe_model_package", throttled)

    with pytest.raises(ClientError, match="ThrottlingException"):
        invoke(package_event(CHURN, 2))
    assert dead_letters() == [] and record(CHURN) == "none"


def test_an_aws_error_on_a_retry_message_fails_only_that_message(invoke, sqs_event, monkeypatch):
    describe = model_stack.describe

    def throttled_for_churn(client: Any, stack_name: str) -> Any:
        if stack_name == CHURN_STACK:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "slow"}}, "DescribeStacks"
            )
        return describe(client, stack_name)

    monkeypatch.setattr(model_stack, "describe", throttled_for_churn)
    event = sqs_event(json.dumps({"kind": "roll-out", "model": CHURN, "attempt": 1}))
    fraud = sqs_event(json.dumps({"kind": "roll-out", "model": FRAUD, "attempt": 1}))
    event["Records"].append(fraud["Records"][0])

    result = invoke(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_parking_is_logged_with_the_event_id_and_reason(invoke, structured_logs):
    read_logs = structured_logs(release_automation.logger)
    event = package_event(CHURN, 2, account="999999999999")

    invoke(event)

    [line] = [line for line in read_logs() if line["level"] == "ERROR"]
    assert (line["event_id"], line["reason"]) == (event["id"], "wrong-account")


# --- Settings ----------------------------------------------------------------------------


def test_the_handler_runs_with_the_environment_it_is_given(
    environ, cloudformation, lambda_context, monkeypatch
):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    release_automation.runtime.cache_clear()
    try:
        cloudformation.attach(release_automation.runtime().flow.cloudformation)
        result = release_automation.lambda_handler(
            package_event(CHURN, 3, "Rejected"), lambda_context
        )
    finally:
        release_automation.runtime.cache_clear()

    assert result == {"outcome": "rejection-recorded"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"NAME_PREFIX": ""}, "NAME_PREFIX: required environment variable is missing or empty"),
        ({"EXPECTED_ACCOUNT_ID": "12345"}, "EXPECTED_ACCOUNT_ID: expected 12 digits, got '12345'"),
        ({"RETRY_QUEUE_URL": "queue"}, "RETRY_QUEUE_URL: expected an SQS URL, got 'queue'"),
        ({"IDEMPOTENCY_TTL_SECONDS": "0"}, "IDEMPOTENCY_TTL_SECONDS: expected a positive"),
        ({"CLOUDFORMATION_ROLE_ARN": "admin"}, "CLOUDFORMATION_ROLE_ARN: expected an IAM role"),
        ({"PREVIOUS_ACCOUNT_ID": "333333333333"}, "PREVIOUS_NAME_PREFIX: required when"),
        (
            {
                "PREVIOUS_ACCOUNT_ID": "333333333333",
                "PREVIOUS_REGION": "eu-west-1",
                "PREVIOUS_NAME_PREFIX": "ml-platform-dev",
            },
            "ARTIFACTS_BUCKET_NAME: required when PREVIOUS_ACCOUNT_ID is set",
        ),
    ],
)
def test_invalid_settings_are_reported_in_one_line(environ, changes, message):
    from automation_runtime import SettingsError
    from release_settings import load_settings

    with pytest.raises(SettingsError) as raised:
        load_settings({**environ, **changes})

    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


# --- Sample events ------------------------------------------------------------------------


def test_every_sample_event_names_its_documentation_and_has_the_documented_envelope():
    from release_testbed import EVENTS

    sources = json.loads((EVENTS / "sources.json").read_text())
    samples = {path.name for path in EVENTS.glob("*.json")} - {"sources.json"}
    assert set(sources) == samples
    assert all(url.startswith("https://docs.aws.amazon.com/") for url in sources.values())
    envelope = {"version", "id", "detail-type", "source", "account", "time", "region", "resources"}
    for name in samples - {"retry_queue_message.json"}:
        assert envelope | {"detail"} == set(load_event(name.removesuffix(".json"))), name
    [message] = load_event("retry_queue_message")["Records"]
    assert message["eventSource"] == "aws:sqs" and json.loads(message["body"])["kind"] == "roll-out"

"""The retraining trigger against moto: sample events in AWS's documented shapes."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import retraining_trigger
from botocore.exceptions import ClientError
from trigger_settings import SettingsError, load_settings

EVENTS = Path(__file__).parent / "events"
ACCOUNT_ID = "123456789012"
DATASET_BUCKET = "mlops-datasets-123456789012"
MODELS = {
    "churn": {
        "pipeline_name": "churn-training",
        "cooldown_seconds": 21600,
        "dataset_prefix": "churn/incoming/",
        "input_data_parameter": "InputDataUri",
        "drift_alarm_names": ["churn-feature-drift"],
        "monitoring_schedule_names": ["churn-data-quality"],
        "schedule_rule_names": ["churn-weekly-retraining"],
    },
    "fraud": {
        "pipeline_name": "fraud-training",
        "cooldown_seconds": 3600,
        "dataset_prefix": "fraud/incoming/",
        "drift_alarm_names": ["fraud-feature-drift"],
    },
}


def load_event(name: str, **changes: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event.update(changes)
    return event


def executions(pipeline_name: str) -> list[dict[str, Any]]:
    summaries = boto3.client("sagemaker").list_pipeline_executions(PipelineName=pipeline_name)
    return summaries["PipelineExecutionSummaries"]


def parameters_of(execution_arn: str) -> dict[str, str]:
    response = boto3.client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution_arn
    )
    return {p["Name"]: p["Value"] for p in response["PipelineParameters"]}


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, idempotency_table: str, dead_letter_queue: str
) -> dict[str, str]:
    values = {
        "EXPECTED_ACCOUNT_ID": ACCOUNT_ID,
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue,
        "IDEMPOTENCY_TABLE_NAME": idempotency_table,
        "DATASET_BUCKET_NAME": DATASET_BUCKET,
        "RETRAINING_MODELS": json.dumps(MODELS),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def pipelines(aws: None) -> None:
    sagemaker = boto3.client("sagemaker")
    for spec in MODELS.values():
        sagemaker.create_pipeline(
            PipelineName=spec["pipeline_name"],
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
            RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-pipelines",
        )


@pytest.fixture
def invoke(
    environment: dict[str, str], pipelines: None, lambda_context: Any
) -> Iterator[Callable[[dict[str, Any]], dict[str, Any]]]:
    # Settings and clients are cached per cold start; each test is a new cold start in moto.
    retraining_trigger.runtime.cache_clear()
    yield lambda event: retraining_trigger.lambda_handler(event, lambda_context)
    retraining_trigger.runtime.cache_clear()


# --- The four causes --------------------------------------------------------------------


def test_monitoring_violation_starts_the_models_pipeline_naming_the_cause(invoke):
    result = invoke(load_event("monitoring_violation"))

    [execution] = executions("churn-training")
    assert result["outcome"] == "started"
    assert execution["PipelineExecutionArn"] == result["pipeline_execution_arn"]
    assert (
        "monitoring schedule churn-data-quality found violations"
        in (execution["PipelineExecutionDescription"])
    )
    assert execution["PipelineExecutionDisplayName"].startswith("monitoring-violation-0a15f67d")


def test_monitoring_violation_is_mapped_through_the_environment_when_the_arn_is_absent(invoke):
    event = load_event("monitoring_violation")
    del event["detail"]["MonitoringScheduleArn"]

    invoke(event)

    assert len(executions("churn-training")) == 1


def test_drift_alarm_entering_alarm_starts_the_alarmed_models_pipeline(invoke):
    invoke(load_event("drift_alarm"))

    [execution] = executions("churn-training")
    assert executions("fraud-training") == []
    assert (
        "drift alarm churn-feature-drift entered ALARM" in execution["PipelineExecutionDescription"]
    )


def test_new_training_data_passes_the_object_uri_as_the_input_parameter(invoke):
    invoke(load_event("new_training_data"))

    [execution] = executions("churn-training")
    assert parameters_of(execution["PipelineExecutionArn"]) == {
        "InputDataUri": f"s3://{DATASET_BUCKET}/churn/incoming/2026-11-25/customers.parquet"
    }


def test_scheduled_event_starts_the_pipeline_of_the_model_owning_the_rule(invoke):
    invoke(load_event("scheduled_retraining"))

    [execution] = executions("churn-training")
    assert execution["PipelineExecutionDescription"].startswith(
        "Scheduled retraining by rule churn-weekly-retraining"
    )


def test_causes_without_data_pass_no_pipeline_parameters(invoke):
    invoke(load_event("drift_alarm"))

    [execution] = executions("churn-training")
    assert parameters_of(execution["PipelineExecutionArn"]) == {}


def test_client_request_token_is_stable_per_event_and_within_sagemaker_limits():
    token = retraining_trigger.client_request_token("churn", "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92")

    assert token == retraining_trigger.client_request_token(
        "churn", "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    )
    assert token != retraining_trigger.client_request_token("churn", "another-event")
    assert 32 <= len(token) <= 128


# --- Idempotency and cool-down ----------------------------------------------------------


def test_redelivered_event_starts_nothing_the_second_time(invoke):
    event = load_event("drift_alarm")

    first = invoke(event)
    second = invoke(copy.deepcopy(event))

    assert len(executions("churn-training")) == 1
    assert second == first


def test_burst_of_violations_inside_the_cooldown_starts_one_retraining(invoke):
    outcomes = [
        invoke(load_event("monitoring_violation", id=f"0a15f67d-aa23-4c1e-9b7a-00000000000{i}"))[
            "outcome"
        ]
        for i in range(3)
    ]

    assert len(executions("churn-training")) == 1
    assert outcomes == ["started", "skipped-cooldown", "skipped-cooldown"]


def test_cooldown_spans_causes_of_the_same_model(invoke):
    invoke(load_event("monitoring_violation"))
    result = invoke(load_event("new_training_data"))

    assert result["outcome"] == "skipped-cooldown"
    assert len(executions("churn-training")) == 1


def test_cooldown_of_one_model_does_not_hold_back_another(invoke):
    invoke(load_event("drift_alarm"))
    fraud_alarm = load_event("drift_alarm", id="9d3e4f5a-0000-4b1c-8d2e-3f4a5b6c7d8e")
    fraud_alarm["detail"]["alarmName"] = "fraud-feature-drift"

    result = invoke(fraud_alarm)

    assert result["outcome"] == "started"
    assert len(executions("fraud-training")) == 1


def test_event_after_the_cooldown_expired_starts_a_new_retraining(invoke, idempotency_table):
    boto3.client("dynamodb").put_item(
        TableName=idempotency_table,
        Item={
            "id": {"S": "cooldown#churn"},
            "expiration": {"N": str(int(time.time()) - 1)},
            "event_id": {"S": "an-earlier-event"},
            "cause": {"S": "schedule"},
        },
    )

    result = invoke(load_event("drift_alarm"))

    assert result["outcome"] == "started"
    assert len(executions("churn-training")) == 1


def test_cooldown_record_holds_the_starting_event_until_the_window_ends(invoke, idempotency_table):
    before = int(time.time())
    invoke(load_event("drift_alarm"))

    item = boto3.client("dynamodb").get_item(
        TableName=idempotency_table, Key={"id": {"S": "cooldown#churn"}}
    )["Item"]
    assert item["event_id"]["S"] == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    assert before + 21600 <= int(item["expiration"]["N"]) <= int(time.time()) + 21600


def test_skip_inside_the_cooldown_is_logged_with_model_cause_and_event_id(invoke, structured_logs):
    read_logs = structured_logs(retraining_trigger.logger)
    invoke(load_event("drift_alarm"))
    invoke(load_event("monitoring_violation"))

    skipped = [line for line in read_logs() if "cool-down" in line["message"]]
    assert len(skipped) == 1
    assert skipped[0]["model"] == "churn"
    assert skipped[0]["cause"] == "monitoring-violation"
    assert skipped[0]["event_id"] == "0a15f67d-aa23-4c1e-9b7a-3f5e2d8c7b61"
    assert skipped[0]["cooldown_holder"]["event_id"] == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"


def test_start_is_logged_with_model_cause_and_event_id(invoke, structured_logs):
    read_logs = structured_logs(retraining_trigger.logger)
    invoke(load_event("scheduled_retraining"))

    [started] = [line for line in read_logs() if line["message"] == "Retraining pipeline started"]
    assert (started["model"], started["cause"], started["event_id"]) == (
        "churn",
        "schedule",
        "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    )


# --- AWS errors propagate; the retry then succeeds --------------------------------------


def test_failed_start_raises_and_frees_the_cooldown_for_the_retry(invoke, dead_letters):
    boto3.client("sagemaker").delete_pipeline(
        PipelineName="churn-training", ClientRequestToken="x" * 32
    )
    event = load_event("drift_alarm")

    with pytest.raises(ClientError):
        invoke(event)

    assert dead_letters() == []
    boto3.client("sagemaker").create_pipeline(
        PipelineName="churn-training",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-pipelines",
    )
    assert invoke(event)["outcome"] == "started"
    assert len(executions("churn-training")) == 1


def test_failed_start_does_not_hold_back_the_next_event_for_the_model(invoke):
    sagemaker = boto3.client("sagemaker")
    sagemaker.delete_pipeline(PipelineName="churn-training", ClientRequestToken="x" * 32)
    with pytest.raises(ClientError):
        invoke(load_event("drift_alarm"))
    sagemaker.create_pipeline(
        PipelineName="churn-training",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-pipelines",
    )

    result = invoke(load_event("monitoring_violation"))

    assert result["outcome"] == "started"


# --- Events that cannot be acted on go to the dead-letter queue ---------------------------


def test_event_missing_a_detail_field_is_dead_lettered_with_the_reason(invoke, dead_letters):
    event = load_event("drift_alarm")
    del event["detail"]["alarmName"]

    result = invoke(event)

    [message] = dead_letters()
    assert result == {"outcome": "dead-lettered", "reason": "missing-field"}
    assert message["attributes"]["reason"] == "missing-field"
    assert message["attributes"]["reason_detail"] == "detail.alarmName is missing"
    assert message["attributes"]["event_id"] == event["id"]
    assert message["body"] == event
    assert executions("churn-training") == []


def test_event_for_an_unknown_model_is_dead_lettered_with_the_reason(invoke, dead_letters):
    event = load_event("drift_alarm")
    event["detail"]["alarmName"] = "someone-elses-alarm"

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "unknown-model"
    assert "someone-elses-alarm" in message["attributes"]["reason_detail"]
    assert executions("churn-training") == executions("fraud-training") == []


def test_event_from_another_account_is_dead_lettered_with_the_reason(invoke, dead_letters):
    invoke(load_event("monitoring_violation", account="999999999999"))

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "wrong-account"
    assert executions("churn-training") == []


def test_event_without_an_id_is_dead_lettered_without_touching_idempotency(invoke, dead_letters):
    event = load_event("scheduled_retraining")
    del event["id"]

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "missing-field"
    assert "event_id" not in message["attributes"]
    assert executions("churn-training") == []


def test_event_of_an_unsupported_type_is_dead_lettered(invoke, dead_letters):
    invoke(
        load_event(
            "scheduled_retraining", **{"detail-type": "EC2 Instance State-change Notification"}
        )
    )

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "unsupported-event"


def test_object_created_in_another_bucket_is_dead_lettered(invoke, dead_letters):
    event = load_event("new_training_data")
    event["detail"]["bucket"]["name"] = "some-other-bucket"

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "unexpected-bucket"
    assert executions("churn-training") == []


def test_dead_lettering_is_logged_with_the_event_id_and_reason(invoke, structured_logs):
    read_logs = structured_logs(retraining_trigger.logger)
    invoke(load_event("drift_alarm", account="999999999999"))

    [line] = [line for line in read_logs() if line["level"] == "ERROR"]
    assert line["event_id"] == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    assert line["reason"] == "wrong-account"


def test_redelivered_unusable_event_is_dead_lettered_once(invoke, dead_letters):
    event = load_event("drift_alarm", account="999999999999")

    invoke(event)
    invoke(copy.deepcopy(event))

    assert len(dead_letters()) == 1


# --- Well-formed events that ask for nothing ----------------------------------------------


def test_alarm_returning_to_ok_starts_nothing_and_dead_letters_nothing(invoke, dead_letters):
    event = load_event("drift_alarm")
    event["detail"]["state"]["value"] = "OK"

    result = invoke(event)

    assert result["outcome"] == "ignored"
    assert executions("churn-training") == []
    assert dead_letters() == []


def test_monitoring_run_without_violations_starts_nothing(invoke, dead_letters):
    event = load_event("monitoring_violation")
    event["detail"]["ExitMessage"] = "Completed: Job completed successfully with no violations."

    result = invoke(event)

    assert result["outcome"] == "ignored"
    assert executions("churn-training") == []
    assert dead_letters() == []


# --- Settings ---------------------------------------------------------------------------


def test_missing_environment_variable_fails_the_invocation_naming_it(
    invoke, monkeypatch, lambda_context
):
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL")

    with pytest.raises(SettingsError, match="^DEAD_LETTER_QUEUE_URL: required"):
        invoke(load_event("drift_alarm"))


def _settings_env(models: dict[str, Any]) -> dict[str, str]:
    return {
        "EXPECTED_ACCOUNT_ID": ACCOUNT_ID,
        "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
        "IDEMPOTENCY_TABLE_NAME": "table",
        "DATASET_BUCKET_NAME": DATASET_BUCKET,
        "RETRAINING_MODELS": json.dumps(models),
    }


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ({"churn": {}}, r"RETRAINING_MODELS\['churn'\]\.pipeline_name: expected"),
        (
            {"churn": {"pipeline_name": "p", "cooldown_seconds": -1}},
            r"RETRAINING_MODELS\['churn'\]\.cooldown_seconds: expected an integer >= 0, got -1",
        ),
        (
            {"churn": {"pipeline_name": "p", "cooldown": 60}},
            r"RETRAINING_MODELS\['churn'\]: unknown field\(s\) \['cooldown'\]",
        ),
        (
            {
                "a": {"pipeline_name": "p", "drift_alarm_names": ["shared"]},
                "b": {"pipeline_name": "q", "drift_alarm_names": ["shared"]},
            },
            r"drift_alarm_names entry 'shared' is claimed by both 'a' and 'b'",
        ),
        (
            {
                "a": {"pipeline_name": "p", "dataset_prefix": "data/"},
                "b": {"pipeline_name": "q", "dataset_prefix": "data/b/"},
            },
            r"dataset_prefix 'data/' of model 'a' contains 'data/b/'",
        ),
    ],
)
def test_invalid_model_settings_are_reported_in_one_line(models, message):
    with pytest.raises(SettingsError, match=message) as error:
        load_settings(_settings_env(models))

    assert "\n" not in str(error.value)


def test_dataset_prefix_without_a_dataset_bucket_is_rejected():
    environ = _settings_env(MODELS)
    del environ["DATASET_BUCKET_NAME"]

    with pytest.raises(SettingsError, match="^DATASET_BUCKET_NAME: required"):
        load_settings(environ)


def test_defaults_apply_to_optional_model_fields():
    settings = load_settings(_settings_env({"churn": {"pipeline_name": "churn-training"}}))

    churn = settings.models["churn"]
    assert (churn.cooldown_seconds, churn.input_data_parameter, churn.drift_alarm_names) == (
        3600,
        "InputDataUri",
        (),
    )
    assert settings.idempotency_ttl_seconds == 86400

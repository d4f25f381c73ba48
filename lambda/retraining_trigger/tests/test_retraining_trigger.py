"""The retraining trigger against moto: AWS's sample events (``tests/events``), the models'
settings documents in SSM, their pipelines and package groups in SageMaker."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import event_samples
import pytest
import retraining_trigger
from automation_runtime import SettingsError
from botocore.exceptions import ClientError
from moto.sqs.models import sqs_backends
from pipeline_starts import client_request_token, display_name
from trigger_settings import load_settings

from platform_contracts.model_settings import (
    ModelSettings,
    RetrainingSettings,
    settings_parameter_name,
)
from platform_contracts.retraining import (
    REGISTER_NEW_BASELINE,
    SKIP_DRIFT_CHECK,
    Trigger,
    rule_for,
    training_data_prefix,
    training_data_uri,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PREFIX = "ml-platform-dev"
BUCKET = f"mlp-dev-{ACCOUNT}-{REGION}-datasets"
CHURN, FRAUD, LEADS = "churn-prediction", "fraud-detection", "lead-scoring"
START = 1_800_000_000.0


def settings_of(model: str, **retraining: Any) -> ModelSettings:
    name = f"{PREFIX}-{model}"
    defaults: dict[str, Any] = {
        "cooldown_seconds": 3600,
        "on_drift": True,
        "drift_alarm_name": f"{name}-drift",
        "monitoring_schedule_names": (f"{name}-data-quality", f"{name}-model-quality"),
        "dataset_prefix": training_data_prefix(model),
    }
    return ModelSettings(
        model=model,
        pipeline_name=name,
        model_package_group_name=name,
        retraining=RetrainingSettings(**{**defaults, **retraining}),
    )


MODELS = {
    CHURN: settings_of(CHURN),
    FRAUD: settings_of(FRAUD, dataset_prefix=None, quiet_period_seconds=2000),
    LEADS: settings_of(LEADS, on_drift=False, dataset_prefix=None),
}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def arrivals_queue(aws: None) -> str:
    return boto3.client("sqs").create_queue(QueueName=f"{PREFIX}-arrivals")["QueueUrl"]


@pytest.fixture
def environ(idempotency_table: str, dead_letter_queue: str, arrivals_queue: str) -> dict[str, str]:
    """The function's environment, as the automation stack sets it (and Lambda's region)."""
    return {
        "NAME_PREFIX": PREFIX,
        "EXPECTED_ACCOUNT_ID": ACCOUNT,
        "AWS_REGION": REGION,
        "IDEMPOTENCY_TABLE_NAME": idempotency_table,
        "DATASET_BUCKET_NAME": BUCKET,
        "ARRIVALS_QUEUE_URL": arrivals_queue,
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue,
    }


@pytest.fixture
def deployed(aws: None) -> None:
    """Each model's settings document, pipeline and package group, as the stacks leave them."""
    ssm, sagemaker = boto3.client("ssm"), boto3.client("sagemaker")
    for model, settings in MODELS.items():
        ssm.put_parameter(
            Name=settings_parameter_name(PREFIX, model), Value=settings.to_json(), Type="String"
        )
        create_pipeline(settings.pipeline_name)
        sagemaker.create_model_package_group(
            ModelPackageGroupName=settings.model_package_group_name
        )


def create_pipeline(name: str) -> None:
    parameters = [
        {"Name": "InputDataUri", "Type": "String"},
        {"Name": SKIP_DRIFT_CHECK, "Type": "Boolean", "DefaultValue": False},
        {"Name": REGISTER_NEW_BASELINE, "Type": "Boolean", "DefaultValue": False},
    ]
    boto3.client("sagemaker").create_pipeline(
        PipelineName=name,
        PipelineDefinition=json.dumps(
            {"Version": "2020-12-01", "Parameters": parameters, "Steps": []}
        ),
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-pipelines",
    )


def approve_a_version(model: str) -> None:
    sagemaker = boto3.client("sagemaker")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=f"{PREFIX}-{model}",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/xgb:1.7-1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")


@pytest.fixture
def trigger(environ: dict[str, str], deployed: None, clock: Clock) -> Any:
    return retraining_trigger.build(environ, session=boto3.DEFAULT_SESSION, clock=clock)


@pytest.fixture
def invoke(trigger: Any, lambda_context: Any) -> Callable[[Any], dict[str, Any]]:
    return lambda event: trigger.handle(event, lambda_context)


def executions(model: str) -> list[dict[str, Any]]:
    sagemaker = boto3.client("sagemaker")
    summaries = sagemaker.list_pipeline_executions(PipelineName=f"{PREFIX}-{model}")
    return [
        {
            **summary,
            "parameters": {
                p["Name"]: p["Value"]
                for p in sagemaker.list_pipeline_parameters_for_execution(
                    PipelineExecutionArn=summary["PipelineExecutionArn"]
                )["PipelineParameters"]
            },
        }
        for summary in summaries["PipelineExecutionSummaries"]
    ]


def violation(model: str = CHURN, **changes: Any) -> dict[str, Any]:
    return event_samples.monitoring_execution(
        account=ACCOUNT,
        region=REGION,
        schedule=f"{PREFIX}-{model}-data-quality",
        endpoint=f"{PREFIX}-{model}",
        **changes,
    )


def alarm(model: str = CHURN, state: str = "ALARM") -> dict[str, Any]:
    return event_samples.alarm_state_change(
        account=ACCOUNT, region=REGION, alarm=f"{PREFIX}-{model}-drift", state=state
    )


def new_object(key: str, bucket: str = BUCKET) -> dict[str, Any]:
    return event_samples.object_created(account=ACCOUNT, region=REGION, bucket=bucket, key=key)


def queued(queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue, delayed or not (moto's backend: a delayed message cannot
    be received before its time); the queue is emptied."""
    queue = sqs_backends[ACCOUNT][REGION].queues[queue_url.rsplit("/", 1)[-1]]
    messages = [
        {
            "body": message.body,
            "delay_seconds": round((message.delayed_until - message.sent_timestamp) / 1000)
            if message.delayed_until
            else 0,
        }
        for message in queue._messages
    ]
    queue._messages.clear()
    return messages


def deliver(invoke: Callable[[Any], dict[str, Any]], body: str) -> dict[str, Any]:
    return invoke(
        event_samples.sqs_event(
            body=body, queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-arrivals", region=REGION
        )
    )


# --- drift: a violation or the drift alarm starts the table's run -----------------------------


@pytest.mark.parametrize("approved", [False, True])
@pytest.mark.parametrize(
    ("event", "trigger_kind"),
    [(violation, Trigger.MONITORING_VIOLATION), (alarm, Trigger.DRIFT_ALARM)],
)
def test_drift_starts_the_models_pipeline_with_the_tables_parameters(
    invoke, dead_letters, event, trigger_kind, approved
):
    if approved:
        approve_a_version(CHURN)

    result = invoke(event())

    [execution] = executions(CHURN)
    expected = rule_for(trigger_kind, has_approved_version=approved).parameters(
        training_data_uri(BUCKET, CHURN)
    )
    assert execution["parameters"] == expected
    assert result["outcome"] == "started"
    assert execution["PipelineExecutionDisplayName"].startswith(trigger_kind.value)
    assert executions(FRAUD) == [] and dead_letters() == []


def test_the_schedule_is_read_from_the_executions_environment(invoke):
    event = violation()
    event["detail"]["MonitoringScheduleArn"] = "arn:aws:sagemaker:eu-west-1:1:monitoring-schedule/x"

    invoke(event)

    assert (
        "ml-platform-dev-churn-prediction-data-quality"
        in (executions(CHURN)[0]["PipelineExecutionDescription"])
    )


@pytest.mark.parametrize(
    "event",
    [
        lambda: alarm(state="OK"),
        lambda: violation(exit_message="Completed: Job completed successfully with no violations."),
        lambda: violation(LEADS),
        lambda: alarm(LEADS),
    ],
    ids=["alarm-ok", "no-violations", "violation-off", "alarm-off"],
)
def test_what_asks_for_no_retraining_starts_nothing_and_parks_nothing(invoke, dead_letters, event):
    assert invoke(event())["outcome"] == "ignored"

    assert executions(CHURN) == executions(LEADS) == []
    assert dead_letters() == []


# --- new data: one run per batch, after the quiet period ---------------------------------------


@pytest.mark.parametrize("approved", [False, True])
def test_five_objects_arriving_together_start_one_run_on_the_training_prefix(
    invoke, arrivals_queue, clock, dead_letters, approved
):
    if approved:
        approve_a_version(CHURN)
    no_cooldown(CHURN)  # so that a start per object would show as executions
    for number in range(5):
        assert invoke(new_object(f"{CHURN}/training/batch-7/part-{number}.csv"))["outcome"] == (
            "arrival-noted"
        )
        clock.now += 10

    messages = queued(arrivals_queue)
    assert [m["delay_seconds"] for m in messages] == [900] * 5
    clock.now += 900
    outcomes = [deliver(invoke, m["body"]) for m in messages]

    assert outcomes == [{"batchItemFailures": []}] * 5
    [execution] = executions(CHURN)
    assert execution["parameters"] == rule_for(
        Trigger.NEW_DATA, has_approved_version=approved
    ).parameters(training_data_uri(BUCKET, CHURN))
    assert queued(arrivals_queue) == [] and dead_letters() == []


def test_an_arrival_during_the_quiet_period_postpones_the_run(invoke, arrivals_queue, clock):
    no_cooldown(CHURN)
    invoke(new_object(f"{CHURN}/training/a.csv"))
    [first] = queued(arrivals_queue)
    clock.now += 600
    invoke(new_object(f"{CHURN}/training/b.csv"))
    [second] = queued(arrivals_queue)

    clock.now += 300
    deliver(invoke, first["body"])  # 900 s after a.csv, 300 s after b.csv
    assert executions(CHURN) == []
    clock.now += 600
    deliver(invoke, second["body"])

    assert len(executions(CHURN)) == 1


def replace_settings(settings: ModelSettings) -> None:
    boto3.client("ssm").put_parameter(
        Name=settings_parameter_name(PREFIX, settings.model),
        Value=settings.to_json(),
        Type="String",
        Overwrite=True,
    )


def no_cooldown(model: str) -> None:
    replace_settings(settings_of(model, cooldown_seconds=0))


def test_a_quiet_period_longer_than_sqs_delays_is_waited_out_by_re_delaying(
    invoke, arrivals_queue, clock
):
    replace_settings(settings_of(CHURN, quiet_period_seconds=2000))
    invoke(new_object(f"{CHURN}/training/a.csv"))
    delays = []
    for _ in range(3):
        [message] = queued(arrivals_queue)
        delays.append(message["delay_seconds"])
        clock.now += message["delay_seconds"]
        deliver(invoke, message["body"])

    assert delays == [900, 900, 200]
    assert len(executions(CHURN)) == 1
    assert queued(arrivals_queue) == []


def test_a_redelivered_message_of_a_started_batch_starts_nothing(invoke, arrivals_queue, clock):
    no_cooldown(CHURN)
    invoke(new_object(f"{CHURN}/training/a.csv"))
    [message] = queued(arrivals_queue)
    clock.now += 900

    deliver(invoke, message["body"])
    deliver(invoke, message["body"])

    assert len(executions(CHURN)) == 1


@pytest.mark.parametrize(
    "key", [f"{FRAUD}/training/a.csv", f"{CHURN}/training/folder/", f"{CHURN}/other/a.csv"]
)
def test_objects_no_model_retrains_on_start_nothing(invoke, arrivals_queue, dead_letters, key):
    result = invoke(new_object(key))

    if key.startswith(CHURN + "/other"):
        [parked] = dead_letters()
        assert parked["attributes"]["reason"] == "unknown-model"
    else:
        assert result["outcome"] == "ignored" and dead_letters() == []
    assert queued(arrivals_queue) == []


# --- cool-down and idempotency ------------------------------------------------------------


def test_a_burst_of_reasons_inside_the_cooldown_starts_one_run_the_first_wins(invoke, clock):
    outcomes = [invoke(violation())["outcome"], invoke(alarm())["outcome"]]
    clock.now += 3599
    outcomes.append(invoke(violation())["outcome"])

    assert outcomes == ["started", "skipped-cooldown", "skipped-cooldown"]
    [execution] = executions(CHURN)
    assert execution["PipelineExecutionDisplayName"].startswith("monitoring-violation")


def test_after_the_cooldown_a_new_reason_starts_a_new_run(invoke, clock):
    invoke(alarm())
    clock.now += 3600

    assert invoke(alarm())["outcome"] == "started"
    assert len(executions(CHURN)) == 2


def test_the_cooldown_of_one_model_does_not_hold_back_another(invoke):
    invoke(alarm())

    assert invoke(alarm(FRAUD))["outcome"] == "started"


def test_a_redelivered_event_starts_nothing_the_second_time(invoke):
    event = alarm()

    first = invoke(event)
    second = invoke(json.loads(json.dumps(event)))

    assert second == first
    assert len(executions(CHURN)) == 1


# --- nothing lost silently: unusable events parked with the reason, AWS errors raised -------


def _missing(path: str) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = event
        for part in parents:
            node = node[part]
        del node[leaf]

    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = event
        for part in parents:
            node = node[part]
        node[leaf] = value

    return change


@pytest.mark.parametrize(
    ("make", "change", "reason", "detail"),
    [
        (violation, _missing("detail.Environment"), "malformed-event", "detail.Environment."),
        (violation, _set("detail.ProcessingJobStatus", 3), "malformed-event", "not str"),
        (violation, _set("detail.ExitMessage", ["x"]), "malformed-event", "detail.ExitMessage"),
        (alarm, _missing("detail.alarmName"), "malformed-event", "detail.alarmName is missing"),
        (alarm, _set("detail.state", "ALARM"), "malformed-event", "detail.state.value"),
        (alarm, _set("detail.alarmName", "someone-elses-drift"), "unknown-model", "someone"),
        (violation, _set("account", "999999999999"), "wrong-account", "999999999999"),
        (alarm, _set("detail-type", "EC2 Instance State-change"), "unsupported-event", "EC2"),
        (alarm, _missing("id"), "malformed-event", "id is missing"),
        (
            lambda: new_object("churn-prediction/training/a.csv", "other-bucket"),
            lambda e: None,
            "unexpected-bucket",
            "other-bucket",
        ),
        (
            lambda: new_object("churn-prediction/training/a.csv"),
            _set("detail.object.key", 7),
            "malformed-event",
            "detail.object.key",
        ),
    ],
)
def test_an_unusable_event_is_parked_with_its_reason_on_the_first_attempt(
    invoke, dead_letters, make, change, reason, detail
):
    event = make()
    change(event)

    result = invoke(event)

    [parked] = dead_letters()
    assert result["outcome"] == "dead-lettered"
    assert parked["attributes"]["reason"] == reason
    assert detail in parked["attributes"]["reason_detail"]
    assert parked["body"] == event
    assert executions(CHURN) == []


def test_an_invalid_settings_document_parks_its_models_events_with_the_reason(invoke, dead_letters):
    boto3.client("ssm").put_parameter(
        Name=settings_parameter_name(PREFIX, CHURN), Value="{}", Type="String", Overwrite=True
    )

    invoke(alarm())

    [parked] = dead_letters()
    assert parked["attributes"]["reason"] == "invalid-settings"
    assert "churn-prediction/settings" in parked["attributes"]["reason_detail"]


def test_an_unusable_arrivals_message_is_parked_and_not_retried(invoke, dead_letters):
    result = deliver(invoke, '{"kind": "arrival", "model": "churn-prediction"}')

    [parked] = dead_letters()
    assert result == {"batchItemFailures": []}
    assert parked["attributes"]["reason"] == "malformed-event"


def test_an_aws_error_raises_so_that_the_event_is_retried_and_the_retry_starts(
    invoke, dead_letters
):
    sagemaker = boto3.client("sagemaker")
    sagemaker.delete_pipeline(PipelineName=f"{PREFIX}-{CHURN}", ClientRequestToken="x" * 32)
    event = alarm()

    with pytest.raises(ClientError):
        invoke(event)

    assert dead_letters() == []
    create_pipeline(f"{PREFIX}-{CHURN}")
    assert invoke(event)["outcome"] == "started"


def test_an_aws_error_on_an_arrival_fails_that_message_alone(
    invoke, arrivals_queue, clock, dead_letters
):
    invoke(new_object(f"{CHURN}/training/a.csv"))
    [message] = queued(arrivals_queue)
    clock.now += 900
    boto3.client("sagemaker").delete_pipeline(
        PipelineName=f"{PREFIX}-{CHURN}", ClientRequestToken="x" * 32
    )
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-arrivals"
    failing = event_samples.sqs_event(body=message["body"], queue_arn=queue_arn, region=REGION)
    parked = event_samples.sqs_event(body="not json", queue_arn=queue_arn, region=REGION)
    batch = {"Records": failing["Records"] + parked["Records"]}

    result = invoke(batch)

    assert result == {"batchItemFailures": [{"itemIdentifier": failing["Records"][0]["messageId"]}]}
    assert [m["attributes"]["reason"] for m in dead_letters()] == ["malformed-event"]


# --- settings and names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATASET_BUCKET_NAME", "", "DATASET_BUCKET_NAME: required"),
        ("ARRIVALS_QUEUE_URL", "queue", "ARRIVALS_QUEUE_URL: expected an SQS URL"),
        ("EXPECTED_ACCOUNT_ID", "12", "EXPECTED_ACCOUNT_ID: expected 12 digits"),
        ("IDEMPOTENCY_TTL_SECONDS", "-1", "IDEMPOTENCY_TTL_SECONDS: expected a positive"),
    ],
)
def test_a_wrong_environment_variable_is_named_in_one_line(environ, name, value, message):
    with pytest.raises(SettingsError, match=f"^{message}") as error:
        load_settings({**environ, name: value})

    assert "\n" not in str(error.value)


def test_names_sagemaker_accepts_stable_per_model_and_event():
    event_id = "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"

    name = display_name(Trigger.MONITORING_VIOLATION, event_id * 3)
    token = client_request_token(CHURN, event_id)

    assert len(name) <= 82 and name[-1] != "-"
    assert token == client_request_token(CHURN, event_id) != client_request_token(FRAUD, event_id)
    assert 32 <= len(token) <= 128

"""The model deployment function against moto: registry events in AWS's documented shape."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import model_deployment
import pytest
from botocore.stub import Stubber
from deployment_settings import SettingsError, load_settings
from moto.sagemaker.models import sagemaker_backends

EVENTS = Path(__file__).parent / "events"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-inference"
PACKAGE_V1 = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:model-package/churn/1"
PACKAGE_V2 = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:model-package/churn/2"
XGBOOST_IMAGE = f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:endpoint/churn-prod"
CANARY = {
    "strategy": "canary",
    "canary_percent": 10,
    "wait_seconds": 600,
    "termination_wait_seconds": 300,
    "maximum_execution_timeout_seconds": 3600,
    "rollback_alarm_names": ["churn-prod-5xx", "churn-prod-latency"],
}
LIVE_DATA_CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 50,
    "DestinationS3Uri": "s3://mlops-data-capture-123456789012/churn-prod",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
}


def load_event(name: str, **changes: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event.update(changes)
    return event


def deployment_models(**churn_changes: Any) -> dict[str, Any]:
    churn = {
        "endpoint_name": "churn-prod",
        "variant_names": ["Primary"],
        "initial_variant": {
            "variant_name": "Primary",
            "instance_type": "ml.m5.large",
            "initial_instance_count": 2,
        },
        "initial_data_capture": {
            "destination_s3_uri": "s3://mlops-data-capture-123456789012/churn-prod",
            "sampling_percent": 25,
        },
        "rollout": CANARY,
    }
    churn.update(churn_changes)
    return {"churn": churn}


def endpoint_config_names() -> list[str]:
    configs = boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    return sorted(c["EndpointConfigName"] for c in configs)


def model_names() -> list[str]:
    return sorted(m["ModelName"] for m in boto3.client("sagemaker").list_models()["Models"])


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, idempotency_table: str, dead_letter_queue: str
) -> None:
    values = {
        "EXPECTED_ACCOUNT_ID": ACCOUNT_ID,
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue,
        "IDEMPOTENCY_TABLE_NAME": idempotency_table,
        "MODEL_EXECUTION_ROLE_ARN": ROLE_ARN,
        "MODEL_VPC_SUBNET_IDS": "subnet-0a1b2c3d,subnet-4e5f6a7b",
        "MODEL_VPC_SECURITY_GROUP_IDS": "sg-0123abcd",
        "MODEL_ENABLE_NETWORK_ISOLATION": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "MLPlatform/ModelDeployment",
        "DEPLOYMENT_MODELS": json.dumps(deployment_models()),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def registry(aws: None) -> None:
    """Group ``churn`` with version 1 (approved, live) and version 2, approved just now."""
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    for _ in range(2):
        sagemaker.create_model_package(
            ModelPackageGroupName="churn",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": XGBOOST_IMAGE,
                        "ModelDataUrl": "s3://mlops-models-123456789012/churn/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    for arn in (PACKAGE_V1, PACKAGE_V2):
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")


@pytest.fixture
def live_endpoint(registry: None) -> None:
    """``churn-prod`` in service: v1 in ``Primary``, a challenger model in ``Challenger``."""
    sagemaker = boto3.client("sagemaker")
    for name, package in (("churn-v1", PACKAGE_V1), ("churn-challenger", PACKAGE_V1)):
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer={"ModelPackageName": package},
            ExecutionRoleArn=ROLE_ARN,
        )
    sagemaker.create_endpoint_config(
        EndpointConfigName="churn-prod-v1",
        ProductionVariants=[
            {
                "VariantName": "Primary",
                "ModelName": "churn-v1",
                "InstanceType": "ml.c5.xlarge",
                "InitialInstanceCount": 3,
                "InitialVariantWeight": 0.9,
            },
            {
                "VariantName": "Challenger",
                "ModelName": "churn-challenger",
                "InstanceType": "ml.c5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 0.1,
            },
        ],
        DataCaptureConfig=LIVE_DATA_CAPTURE,
        KmsKeyId=f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    sagemaker.create_endpoint(EndpointName="churn-prod", EndpointConfigName="churn-prod-v1")


@pytest.fixture
def deployer(environment: None, registry: None) -> Iterator[model_deployment.ModelDeployer]:
    # Settings and clients are cached per cold start; each test is a new cold start in moto.
    model_deployment.runtime.cache_clear()
    yield model_deployment.runtime()
    model_deployment.runtime.cache_clear()


@pytest.fixture
def invoke(deployer: Any, lambda_context: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda event: model_deployment.lambda_handler(event, lambda_context)


@pytest.fixture
def update_endpoint(deployer: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A Stubber for UpdateEndpoint alone; no expected response means no call is allowed.

    moto 5.2.5 does not implement UpdateEndpoint, so this one call of the function's client
    is routed to a stubbed client, which still validates the request against the SageMaker
    API model. Every other call of the function reaches moto.
    """
    stubbed_client = boto3.client("sagemaker")
    monkeypatch.setattr(deployer.sagemaker, "update_endpoint", stubbed_client.update_endpoint)
    with Stubber(stubbed_client) as stubber:
        yield stubber


def expect_update(stubber: Stubber, deployment_config: dict[str, Any]) -> None:
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        expected_params={
            "EndpointName": "churn-prod",
            "EndpointConfigName": "churn-prod-v2",
            "DeploymentConfig": deployment_config,
        },
    )


CANARY_DEPLOYMENT_CONFIG = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 600,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        },
        "TerminationWaitInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 3600,
    },
    "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": "churn-prod-5xx"}, {"AlarmName": "churn-prod-latency"}]
    },
}


# --- Approved: existing endpoint --------------------------------------------------------


def test_approval_creates_a_model_from_the_package_named_after_its_version(
    live_endpoint, invoke, update_endpoint
):
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    invoke(load_event("model_package_approved"))

    model = boto3.client("sagemaker").describe_model(ModelName="churn-v2")
    assert model["PrimaryContainer"] == {"ModelPackageName": PACKAGE_V2}
    assert model["ExecutionRoleArn"] == ROLE_ARN
    assert model["VpcConfig"] == {
        "Subnets": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
        "SecurityGroupIds": ["sg-0123abcd"],
    }


def test_created_model_asks_for_the_network_isolation_of_the_settings(
    live_endpoint, deployer, invoke, update_endpoint
):
    # moto accepts but does not store EnableNetworkIsolation: observe the request sent to it.
    requests: list[dict[str, Any]] = []
    deployer.sagemaker.meta.events.register(
        "provide-client-params.sagemaker.CreateModel", lambda params, **_: requests.append(params)
    )
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    invoke(load_event("model_package_approved"))

    assert [r["EnableNetworkIsolation"] for r in requests] == [True]


def test_approval_copies_the_live_config_substituting_the_model_in_the_named_variant(
    live_endpoint, invoke, update_endpoint
):
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    invoke(load_event("model_package_approved"))

    sagemaker = boto3.client("sagemaker")
    live = sagemaker.describe_endpoint_config(EndpointConfigName="churn-prod-v1")
    new = sagemaker.describe_endpoint_config(EndpointConfigName="churn-prod-v2")
    primary, challenger = new["ProductionVariants"]
    assert primary == {**live["ProductionVariants"][0], "ModelName": "churn-v2"}
    assert challenger == live["ProductionVariants"][1]
    assert new["DataCaptureConfig"] == LIVE_DATA_CAPTURE
    assert new["KmsKeyId"] == live["KmsKeyId"]


def test_approval_updates_the_endpoint_with_the_canary_deployment_config(
    live_endpoint, invoke, update_endpoint
):
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    result = invoke(load_event("model_package_approved"))

    update_endpoint.assert_no_pending_responses()
    assert result == {
        "outcome": "update-started",
        "model_name": "churn-v2",
        "endpoint_config_name": "churn-prod-v2",
        "baselines_published": [],
    }


PIPELINE_OUTPUT = "mlops-pipelines-123456789012"
DRIFT_CHECK_BASELINES = {
    "ModelDataQuality": {
        "Constraints": {
            "ContentType": "application/json",
            "S3Uri": f"s3://{PIPELINE_OUTPUT}/run-7/dq/constraints.json",
        },
        "Statistics": {
            "ContentType": "application/json",
            "S3Uri": f"s3://{PIPELINE_OUTPUT}/run-7/dq/statistics.json",
        },
    },
    "ModelQuality": {
        "Constraints": {
            "ContentType": "application/json",
            "S3Uri": f"s3://{PIPELINE_OUTPUT}/run-7/mq/constraints.json",
        },
    },
}


@pytest.fixture
def baselines(monkeypatch: pytest.MonkeyPatch, environment: None, registry: None) -> str:
    """Version 2 carries drift-check baselines; BASELINES_URI names where monitors read."""
    s3 = boto3.client("s3")
    for bucket in (PIPELINE_OUTPUT, "mlops-reports-123456789012"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name, content in (
        ("dq/constraints.json", b'{"features": []}'),
        ("dq/statistics.json", b'{"dataset": {}}'),
        ("mq/constraints.json", b'{"binary_classification_constraints": {}}'),
    ):
        s3.put_object(Bucket=PIPELINE_OUTPUT, Key=f"run-7/{name}", Body=content)
    backend = sagemaker_backends[ACCOUNT_ID][REGION]
    backend.model_packages[PACKAGE_V2].drift_check_baselines = DRIFT_CHECK_BASELINES
    monkeypatch.setenv("BASELINES_URI", "s3://mlops-reports-123456789012/baselines")
    return "mlops-reports-123456789012"


def test_rollout_publishes_the_packages_baselines_where_the_monitors_read(
    baselines, live_endpoint, invoke, update_endpoint
):
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    result = invoke(load_event("model_package_approved"))

    s3 = boto3.client("s3")
    expected = {
        "baselines/churn/data-quality/constraints.json": b'{"features": []}',
        "baselines/churn/data-quality/statistics.json": b'{"dataset": {}}',
        "baselines/churn/model-quality/constraints.json": b'{"binary_classification_constraints": {}}',
    }
    for key, content in expected.items():
        assert s3.get_object(Bucket=baselines, Key=key)["Body"].read() == content
    assert sorted(result["baselines_published"]) == sorted(
        f"s3://{baselines}/{key}" for key in expected
    )


def test_rejection_publishes_no_baseline(baselines, invoke):
    invoke(load_event("model_package_rejected"))

    listed = boto3.client("s3").list_objects_v2(Bucket=baselines)
    assert listed.get("KeyCount", 0) == 0


def test_baselines_uri_must_be_an_s3_uri(environment, monkeypatch):
    monkeypatch.setenv("BASELINES_URI", "reports/baselines")
    with pytest.raises(SettingsError, match="BASELINES_URI: 'reports/baselines' is not an"):
        load_settings()


@pytest.mark.parametrize(
    ("rollout", "deployment_config"),
    [
        (
            {
                "strategy": "linear",
                "step_percent": 25,
                "wait_seconds": 120,
                "rollback_alarm_names": ["a"],
            },
            {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "LINEAR",
                        "WaitIntervalInSeconds": 120,
                        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                    },
                    "TerminationWaitInSeconds": 0,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}]},
            },
        ),
        (
            {"strategy": "all_at_once"},
            {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "ALL_AT_ONCE",
                        "WaitIntervalInSeconds": 300,
                    },
                    "TerminationWaitInSeconds": 0,
                }
            },
        ),
        (
            {
                "strategy": "rolling",
                "batch_percent": 50,
                "rollback_batch_percent": 100,
                "wait_seconds": 60,
                "maximum_execution_timeout_seconds": 1800,
                "rollback_alarm_names": ["a", "b"],
            },
            {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                    "WaitIntervalInSeconds": 60,
                    "RollbackMaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 100},
                    "MaximumExecutionTimeoutInSeconds": 1800,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}, {"AlarmName": "b"}]},
            },
        ),
    ],
    ids=["linear", "all_at_once", "rolling"],
)
def test_each_rollout_strategy_becomes_its_deployment_config(
    rollout, deployment_config, live_endpoint, monkeypatch, invoke, update_endpoint
):
    monkeypatch.setenv("DEPLOYMENT_MODELS", json.dumps(deployment_models(rollout=rollout)))
    model_deployment.runtime.cache_clear()
    monkeypatch.setattr(
        model_deployment.runtime().sagemaker,
        "update_endpoint",
        update_endpoint.client.update_endpoint,
    )
    expect_update(update_endpoint, deployment_config)

    invoke(load_event("model_package_approved"))

    update_endpoint.assert_no_pending_responses()


def test_all_production_variants_get_the_model_when_no_variant_is_named(
    live_endpoint, monkeypatch, invoke, update_endpoint
):
    models = deployment_models()
    del models["churn"]["variant_names"]
    monkeypatch.setenv("DEPLOYMENT_MODELS", json.dumps(models))
    model_deployment.runtime.cache_clear()
    monkeypatch.setattr(
        model_deployment.runtime().sagemaker,
        "update_endpoint",
        update_endpoint.client.update_endpoint,
    )
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    invoke(load_event("model_package_approved"))

    new = boto3.client("sagemaker").describe_endpoint_config(EndpointConfigName="churn-prod-v2")
    assert [v["ModelName"] for v in new["ProductionVariants"]] == ["churn-v2", "churn-v2"]


def test_async_inference_config_is_carried_into_the_new_config(registry, invoke, update_endpoint):
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(
        ModelName="churn-v1",
        PrimaryContainer={"ModelPackageName": PACKAGE_V1},
        ExecutionRoleArn=ROLE_ARN,
    )
    async_config = {
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4},
        "OutputConfig": {
            "S3OutputPath": "s3://mlops-async-123456789012/churn/output",
            "NotificationConfig": {
                "SuccessTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:churn-async-success",
                "ErrorTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:churn-async-error",
            },
        },
    }
    sagemaker.create_endpoint_config(
        EndpointConfigName="churn-prod-v1",
        ProductionVariants=[
            {
                "VariantName": "Primary",
                "ModelName": "churn-v1",
                "InstanceType": "ml.g4dn.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
        AsyncInferenceConfig=async_config,
    )
    sagemaker.create_endpoint(EndpointName="churn-prod", EndpointConfigName="churn-prod-v1")
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    invoke(load_event("model_package_approved"))

    new = sagemaker.describe_endpoint_config(EndpointConfigName="churn-prod-v2")
    assert new["AsyncInferenceConfig"] == async_config
    assert new["ProductionVariants"][0]["ModelName"] == "churn-v2"


# --- Approved: new endpoint -------------------------------------------------------------


def test_missing_endpoint_is_created_from_the_initial_variant(invoke, update_endpoint):
    result = invoke(load_event("model_package_approved"))

    sagemaker = boto3.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="churn-prod")
    config = sagemaker.describe_endpoint_config(EndpointConfigName="churn-prod-v2")
    assert result["outcome"] == "endpoint-created"
    assert endpoint["EndpointConfigName"] == "churn-prod-v2"
    assert config["ProductionVariants"] == [
        {
            "VariantName": "Primary",
            "ModelName": "churn-v2",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1.0,
        }
    ]
    assert config["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 25,
        "DestinationS3Uri": "s3://mlops-data-capture-123456789012/churn-prod",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }


# --- Idempotency and repeated events ----------------------------------------------------


def test_redelivered_approval_deploys_once(live_endpoint, invoke, update_endpoint):
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)
    event = load_event("model_package_approved")

    first = invoke(event)
    second = invoke(copy.deepcopy(event))  # a second UpdateEndpoint would find no stubbed response

    update_endpoint.assert_no_pending_responses()
    assert second == first


def test_another_event_for_a_deployed_version_changes_nothing(invoke, update_endpoint):
    invoke(load_event("model_package_approved"))
    configs, models = endpoint_config_names(), model_names()

    result = invoke(load_event("model_package_approved", id="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"))

    assert result["outcome"] == "already-deployed"
    assert (endpoint_config_names(), model_names()) == (configs, models)


def test_endpoint_busy_updating_raises_so_that_lambda_retries(
    live_endpoint, invoke, update_endpoint, dead_letters
):
    sagemaker_backends[ACCOUNT_ID][REGION].endpoints["churn-prod"].endpoint_status = "Updating"

    with pytest.raises(model_deployment.EndpointNotReady):
        invoke(load_event("model_package_approved"))

    assert "churn-prod-v2" not in endpoint_config_names()
    assert dead_letters() == []


def test_approval_of_the_version_already_rolling_out_changes_nothing(
    live_endpoint, invoke, update_endpoint
):
    endpoint = sagemaker_backends[ACCOUNT_ID][REGION].endpoints["churn-prod"]
    endpoint.endpoint_status = "Updating"
    endpoint.pending_deployment_summary = {"EndpointConfigName": "churn-prod-v2"}

    result = invoke(load_event("model_package_approved"))

    assert result["outcome"] == "already-deployed"
    assert "churn-prod-v2" not in endpoint_config_names()


def test_approval_withdrawn_before_processing_deploys_nothing(invoke, update_endpoint):
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=PACKAGE_V2, ModelApprovalStatus="Rejected"
    )

    result = invoke(load_event("model_package_approved"))

    assert result["outcome"] == "skipped-not-approved"
    assert model_names() == [] and endpoint_config_names() == []


# --- Rejected and pending ---------------------------------------------------------------


def test_rejection_is_recorded_as_a_metric_and_writes_nothing_to_sagemaker(
    live_endpoint, invoke, update_endpoint, capsys
):
    models, configs = model_names(), endpoint_config_names()

    result = invoke(load_event("model_package_rejected"))

    emf = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    [metric] = [m for m in emf if "ModelPackageRejected" in m]
    assert metric["ModelPackageRejected"] == [1.0]
    assert metric["ModelPackageGroup"] == "churn"
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "MLPlatform/ModelDeployment"
    assert result["outcome"] == "rejection-recorded"
    assert (model_names(), endpoint_config_names()) == (models, configs)


def test_rejection_is_logged_with_group_version_and_event_id(invoke, structured_logs):
    read_logs = structured_logs(model_deployment.logger)

    invoke(load_event("model_package_rejected"))

    [line] = [line for line in read_logs() if line["message"].startswith("Model package rejected")]
    assert (line["model_package_group"], line["model_package_version"], line["event_id"]) == (
        "churn",
        2,
        "5f6c0a3e-2b1d-4e8f-9a7b-c6d5e4f3a2b1",
    )


def test_package_pending_manual_approval_is_ignored(invoke, dead_letters):
    event = load_event("model_package_approved")
    event["detail"]["ModelApprovalStatus"] = "PendingManualApproval"

    result = invoke(event)

    assert result["outcome"] == "ignored"
    assert model_names() == [] and dead_letters() == []


# --- Events that cannot be acted on go to the dead-letter queue ---------------------------


@pytest.mark.parametrize(
    "field",
    ["ModelPackageGroupName", "ModelPackageArn", "ModelApprovalStatus", "ModelPackageVersion"],
)
def test_event_missing_a_detail_field_is_dead_lettered_with_the_reason(field, invoke, dead_letters):
    event = load_event("model_package_approved")
    del event["detail"][field]

    result = invoke(event)

    [message] = dead_letters()
    assert result == {"outcome": "dead-lettered", "reason": "missing-field"}
    assert message["attributes"]["reason"] == "missing-field"
    assert field in message["attributes"]["reason_detail"]
    assert message["attributes"]["event_id"] == event["id"]
    assert message["body"] == event
    assert model_names() == []


def test_event_for_an_unknown_model_package_group_is_dead_lettered(invoke, dead_letters):
    event = load_event("model_package_approved")
    event["detail"]["ModelPackageGroupName"] = "not-configured"

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "unknown-model"
    assert "not-configured" in message["attributes"]["reason_detail"]
    assert model_names() == []


def test_event_from_another_account_is_dead_lettered(invoke, dead_letters):
    invoke(load_event("model_package_approved", account="999999999999"))

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "wrong-account"
    assert model_names() == []


def test_event_for_a_package_missing_from_the_registry_is_dead_lettered(invoke, dead_letters):
    event = load_event("model_package_approved")
    event["detail"]["ModelPackageArn"] = (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:model-package/churn/7"
    )
    event["detail"]["ModelPackageVersion"] = 7

    invoke(event)

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "model-package-not-found"
    assert model_names() == []


def test_configured_variant_missing_from_the_endpoint_is_dead_lettered(
    live_endpoint, monkeypatch, invoke, update_endpoint, dead_letters
):
    monkeypatch.setenv("DEPLOYMENT_MODELS", json.dumps(deployment_models(variant_names=["Blue"])))
    model_deployment.runtime.cache_clear()

    invoke(load_event("model_package_approved"))

    [message] = dead_letters()
    assert message["attributes"]["reason"] == "variant-not-found"
    assert "churn-prod-v2" not in endpoint_config_names()


def test_dead_lettering_is_logged_with_the_event_id_and_reason(invoke, structured_logs):
    read_logs = structured_logs(model_deployment.logger)

    invoke(load_event("model_package_approved", account="999999999999"))

    [line] = [line for line in read_logs() if line["level"] == "ERROR"]
    assert (line["event_id"], line["reason"]) == (
        "844e2571-85d4-695f-b930-0153b71dcb42",
        "wrong-account",
    )


# --- Names and settings -----------------------------------------------------------------


def test_versioned_names_stay_within_63_characters_and_keep_the_version():
    name = model_deployment.versioned_name("m" * 70, 123)

    assert len(name) == 63
    assert name.endswith("-v123")
    assert name == model_deployment.versioned_name("m" * 70, 123)


def _settings_env(**changes: Any) -> dict[str, str]:
    environ = {
        "EXPECTED_ACCOUNT_ID": ACCOUNT_ID,
        "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
        "IDEMPOTENCY_TABLE_NAME": "table",
        "MODEL_EXECUTION_ROLE_ARN": ROLE_ARN,
        "DEPLOYMENT_MODELS": json.dumps(deployment_models()),
    }
    environ.update(changes)
    return environ


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {
                "DEPLOYMENT_MODELS": json.dumps(
                    deployment_models(rollout={"strategy": "canary", "canary_percent": 10})
                )
            },
            r"rollout\.rollback_alarm_names: required for strategy 'canary'",
        ),
        (
            {"DEPLOYMENT_MODELS": json.dumps(deployment_models(rollout={"strategy": "big_bang"}))},
            r"rollout\.strategy: expected one of \['all_at_once', 'canary', 'linear', 'rolling'\]",
        ),
        (
            {
                "DEPLOYMENT_MODELS": json.dumps(
                    deployment_models(rollout={**CANARY, "canary_percent": 100})
                )
            },
            r"rollout\.canary_percent: expected an integer in 1\.\.99, got 100",
        ),
        (
            {
                "DEPLOYMENT_MODELS": json.dumps(
                    deployment_models(rollout={**CANARY, "step_percent": 5})
                )
            },
            r"rollout: unknown field\(s\) \['step_percent'\]",
        ),
        ({"MODEL_VPC_SUBNET_IDS": "subnet-0a1b2c3d"}, r"set both or neither"),
        (
            {"MODEL_ENABLE_NETWORK_ISOLATION": "yes"},
            r"MODEL_ENABLE_NETWORK_ISOLATION: expected 'true' or 'false'",
        ),
        (
            {"MODEL_EXECUTION_ROLE_ARN": "my-role"},
            r"MODEL_EXECUTION_ROLE_ARN: expected an IAM role ARN",
        ),
    ],
    ids=[
        "canary-without-alarms",
        "unknown-strategy",
        "canary-100",
        "foreign-field",
        "half-vpc",
        "bad-bool",
        "bad-role",
    ],
)
def test_invalid_settings_are_reported_in_one_line(changes, message):
    with pytest.raises(SettingsError, match=message) as error:
        load_settings(_settings_env(**changes))

    assert "\n" not in str(error.value)


def test_settings_defaults_leave_models_outside_a_vpc_without_isolation():
    settings = load_settings(_settings_env())

    assert settings.vpc_config is None
    assert settings.enable_network_isolation is False
    assert settings.metrics_namespace == "MLPlatform/ModelDeployment"


def test_a_model_can_have_its_own_role_and_run_outside_the_vpc_without_isolation(
    live_endpoint, environment, monkeypatch, invoke, update_endpoint, deployer
):
    own_role = f"arn:aws:iam::{ACCOUNT_ID}:role/churn-endpoint"
    monkeypatch.setenv(
        "DEPLOYMENT_MODELS",
        json.dumps(
            deployment_models(execution_role_arn=own_role, in_vpc=False, network_isolation=False)
        ),
    )
    model_deployment.runtime.cache_clear()
    fresh = model_deployment.runtime()
    requests: list[dict[str, Any]] = []
    fresh.sagemaker.meta.events.register(
        "provide-client-params.sagemaker.CreateModel", lambda params, **_: requests.append(params)
    )
    monkeypatch.setattr(fresh.sagemaker, "update_endpoint", deployer.sagemaker.update_endpoint)
    expect_update(update_endpoint, CANARY_DEPLOYMENT_CONFIG)

    invoke(load_event("model_package_approved"))

    assert len(requests) == 1
    assert requests[0]["ExecutionRoleArn"] == own_role
    assert requests[0]["EnableNetworkIsolation"] is False
    assert "VpcConfig" not in requests[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("execution_role_arn", "churn-role", "expected an IAM role ARN"),
        ("in_vpc", "no", "expected true or false"),
    ],
)
def test_per_model_overrides_are_validated(environment, monkeypatch, field, value, message):
    monkeypatch.setenv("DEPLOYMENT_MODELS", json.dumps(deployment_models(**{field: value})))
    with pytest.raises(SettingsError, match=f"DEPLOYMENT_MODELS\\['churn'\\].{field}: {message}"):
        load_settings()

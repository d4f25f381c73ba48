"""The AutoML pipeline definition: offline, deterministic, gated, registering the best."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.loaders import create_loader
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from moto import mock_aws

from pipeline_definitions.automl_pipeline import (
    INFERENCE_ENVIRONMENT,
    STEP_NAMES,
    AutoMlPipelineSettings,
    build_automl_pipeline,
)
from pipeline_definitions.model_registration import APPROVAL_STATUS
from pipeline_definitions.pipeline_arguments import ServingInstanceTypes
from platform_config.pipeline_spec import AutoMlPipelineSpec

REGION = "eu-west-1"
ACCOUNT = "111122223333"
MLFLOW = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/ml-platform-dev"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ml-platform-dev-pipeline"
SUBNETS = ("subnet-0123456789abcdef0", "subnet-0fedcba9876543210")
SECURITY_GROUPS = ("sg-0123456789abcdef0",)
SAGEMAKER = ServiceModel(create_loader().load_service_model("sagemaker", "service-2"), "sagemaker")


def build_arguments(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "pipeline_name": "ml-platform-dev-lead-scoring",
        "region": REGION,
        "role_arn": ROLE,
        "default_bucket": "ml-platform-dev-artifacts",
        "model_package_group_name": "ml-platform-dev-lead-scoring",
        "kms_key_arn": KMS_KEY,
        "spec": AutoMlPipelineSpec(
            target_column="converted", quality_threshold=0.8, max_run_seconds=14400
        ),
        "subnet_ids": SUBNETS,
        "security_group_ids": SECURITY_GROUPS,
        "input_data_uri": "s3://ml-platform-dev-datasets/lead-scoring/training/",
        "serving": ServingInstanceTypes(transform=("ml.m5.2xlarge", "ml.m5.xlarge")),
        "mlflow_tracking_server_arn": MLFLOW,
    }
    arguments.update(overrides)
    return arguments


@pytest.fixture(scope="module")
def connection_attempts() -> Iterator[list[str]]:
    attempts: list[str] = []

    def refuse(what: str) -> None:
        attempts.append(what)
        raise OSError(f"network access during a definition build: {what}")

    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", lambda self, address: refuse(f"connect {address}"))
    patch.setattr(socket, "getaddrinfo", lambda host, *a, **k: refuse(f"resolve {host}"))
    yield attempts
    patch.undo()


@pytest.fixture(scope="module")
def definition_text(connection_attempts: list[str]) -> str:
    return build_automl_pipeline(**build_arguments())


@pytest.fixture(scope="module")
def definition(definition_text: str) -> dict[str, Any]:
    return json.loads(definition_text)  # type: ignore[no-any-return]


def steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            found[item["Name"]] = item
            visit(item.get("Arguments", {}).get("IfSteps", []))
            visit(item.get("Arguments", {}).get("ElseSteps", []))

    visit(definition["Steps"])
    return found


def placeholders(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and set(value) & {"Get", "Std:Join"}:
            return "s3://placeholder/expression"
        return {key: placeholders(item) for key, item in value.items()}
    if isinstance(value, list):
        return [placeholders(item) for item in value]
    return value


def test_building_opens_no_connection_and_is_byte_identical(
    definition_text: str, connection_attempts: list[str]
) -> None:
    assert build_automl_pipeline(**build_arguments()) == definition_text
    assert connection_attempts == []


def test_steps_are_automl_gate_registration_and_failure(definition: dict[str, Any]) -> None:
    types = {name: step["Type"] for name, step in steps(definition).items()}
    assert types == {
        "AutoML": "AutoML",
        "CheckAucThreshold": "Condition",
        "RegisterModel": "RegisterModel",
        "AucBelowThreshold": "Fail",
    }
    assert set(types) == set(STEP_NAMES)


def test_autopilot_ensembles_a_binary_classifier_of_the_target_column(
    definition: dict[str, Any],
) -> None:
    arguments = steps(definition)["AutoML"]["Arguments"]
    assert arguments["AutoMLJobConfig"]["Mode"] == "ENSEMBLING"
    assert arguments["ProblemType"] == "BinaryClassification"
    assert arguments["AutoMLJobObjective"] == {"MetricName": "AUC"}
    (channel,) = arguments["InputDataConfig"]
    assert channel["TargetAttributeName"] == "converted"
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}


def test_autopilot_runs_encrypted_in_the_vpc(definition: dict[str, Any]) -> None:
    arguments = steps(definition)["AutoML"]["Arguments"]
    security = arguments["AutoMLJobConfig"]["SecurityConfig"]
    assert security == {
        "VolumeKmsKeyId": KMS_KEY,
        "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": {"SecurityGroupIds": list(SECURITY_GROUPS), "Subnets": list(SUBNETS)},
    }
    assert arguments["OutputDataConfig"]["KmsKeyId"] == KMS_KEY
    assert arguments["RoleArn"] == ROLE


def test_gate_reads_the_best_candidates_objective_metric(definition: dict[str, Any]) -> None:
    (condition,) = steps(definition)["CheckAucThreshold"]["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {
        "Get": "Steps.AutoML.BestCandidate.FinalAutoMLJobObjectiveMetric.Value"
    }
    assert condition["RightValue"] == {"Get": "Parameters.AucThreshold"}
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert parameters["AucThreshold"] == 0.8


def test_best_candidate_is_registered_pending_approval_in_the_group(
    definition: dict[str, Any],
) -> None:
    arguments = steps(definition)["RegisterModel"]["Arguments"]
    assert arguments["ModelPackageGroupName"] == "ml-platform-dev-lead-scoring"
    assert arguments["ModelApprovalStatus"] == APPROVAL_STATUS == "PendingManualApproval"
    (container,) = arguments["InferenceSpecification"]["Containers"]
    best = "Steps.AutoML.BestCandidate.InferenceContainers[0]"
    assert container["Image"] == {"Get": f"{best}.Image"}
    assert container["ModelDataUrl"] == {"Get": f"{best}.ModelDataUrl"}
    assert container["Environment"] == {
        name: {"Get": f"{best}.Environment['{name}']"} for name in INFERENCE_ENVIRONMENT
    }


def test_package_lists_where_the_model_is_served_and_links_its_mlflow_run(
    definition: dict[str, Any],
) -> None:
    """Batch-served in every environment: transform types only, not a fixed m5 list."""
    arguments = steps(definition)["RegisterModel"]["Arguments"]
    inference = arguments["InferenceSpecification"]
    assert inference["SupportedTransformInstanceTypes"] == ["ml.m5.2xlarge", "ml.m5.xlarge"]
    assert "SupportedRealtimeInferenceInstanceTypes" not in inference
    assert arguments["CustomerMetadataProperties"]["mlflow-tracking-server-arn"] == MLFLOW
    assert definition["MlflowConfig"] == {
        "MlflowResourceArn": MLFLOW,
        "MlflowExperimentName": "ml-platform-dev-lead-scoring",
    }


def test_automl_arguments_are_a_valid_create_auto_ml_job_request(
    definition: dict[str, Any],
) -> None:
    request = {**placeholders(steps(definition)["AutoML"]["Arguments"]), "AutoMLJobName": "x"}
    shape = SAGEMAKER.operation_model("CreateAutoMLJob").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_moto_create_pipeline_accepts_the_definition(definition_text: str) -> None:
    with mock_aws():
        client = boto3.client(
            "sagemaker", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )
        client.create_pipeline(
            PipelineName="ml-platform-dev-lead-scoring",
            PipelineDefinition=definition_text,
            RoleArn=ROLE,
        )
        described = client.describe_pipeline(PipelineName="ml-platform-dev-lead-scoring")
    assert described["PipelineDefinition"] == definition_text


def test_without_vpc_there_is_no_vpc_config(connection_attempts: list[str]) -> None:
    text = build_automl_pipeline(**build_arguments(subnet_ids=(), security_group_ids=()))
    security = steps(json.loads(text))["AutoML"]["Arguments"]["AutoMLJobConfig"]["SecurityConfig"]
    assert "VpcConfig" not in security


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_candidates": 0}, r"max_candidates=0 .*from 1 to 750"),
        ({"job_max_attempts": 0}, r"job_max_attempts=0 .*from 1 to 20"),
    ],
)
def test_settings_reject_values_naming_field_value_and_what_is_allowed(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"^AutoMlPipelineSettings\.{message}"):
        AutoMlPipelineSettings(**overrides)


def test_the_spec_reaches_the_job_and_the_gate(connection_attempts: list[str]) -> None:
    spec = AutoMlPipelineSpec(target_column="label", quality_threshold=0.6, max_run_seconds=600)
    definition = json.loads(build_automl_pipeline(**build_arguments(spec=spec)))
    job = steps(definition)["AutoML"]["Arguments"]
    assert job["InputDataConfig"][0]["TargetAttributeName"] == "label"
    assert job["AutoMLJobConfig"]["CompletionCriteria"]["MaxAutoMLJobRuntimeInSeconds"] == 600
    thresholds = [p for p in definition["Parameters"] if p["Name"] == "AucThreshold"]
    assert thresholds == [{"Name": "AucThreshold", "Type": "Float", "DefaultValue": 0.6}]


def test_builder_rejects_a_key_of_another_region() -> None:
    with pytest.raises(ValueError, match=r"^kms_key_arn=.*region 'eu-west-1', not 'us-east-1'"):
        build_automl_pipeline(**build_arguments(kms_key_arn=KMS_KEY.replace(REGION, "us-east-1")))

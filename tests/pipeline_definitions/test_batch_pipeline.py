"""The batch inference pipeline definition: offline, deterministic, encrypted output."""

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

from pipeline_definitions.batch_pipeline import (
    STEP_NAME,
    BatchPipelineSettings,
    build_batch_pipeline,
)

REGION = "eu-west-1"
KMS_KEY = f"arn:aws:kms:{REGION}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def build_arguments(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "pipeline_name": "churn-dev-batch",
        "region": REGION,
        "output_bucket": "ml-platform-dev-data",
        "input_data_uri": "s3://ml-platform-dev-data/churn/to-score/",
        "model_name": "churn-dev-approved",
        "kms_key_arn": KMS_KEY,
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
    return build_batch_pipeline(**build_arguments())


@pytest.fixture(scope="module")
def transform(definition_text: str) -> dict[str, Any]:
    (step,) = json.loads(definition_text)["Steps"]
    return step  # type: ignore[no-any-return]


def test_building_opens_no_connection(definition_text: str, connection_attempts: list[str]) -> None:
    assert definition_text
    assert connection_attempts == []


def test_two_builds_are_byte_identical(
    definition_text: str, connection_attempts: list[str]
) -> None:
    assert build_batch_pipeline(**build_arguments()) == definition_text


def test_single_transform_step_runs_the_named_model_over_the_input(
    transform: dict[str, Any],
) -> None:
    assert (transform["Name"], transform["Type"]) == (STEP_NAME, "Transform")
    arguments = transform["Arguments"]
    assert arguments["ModelName"] == {"Get": "Parameters.ModelName"}
    source = arguments["TransformInput"]["DataSource"]["S3DataSource"]
    assert source["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    assert arguments["TransformInput"]["SplitType"] == "Line"
    assert arguments["TransformResources"]["InstanceType"] == {
        "Get": "Parameters.TransformInstanceType"
    }


def test_parameters_default_to_the_given_data_and_model(definition_text: str) -> None:
    parameters = {p["Name"]: p["DefaultValue"] for p in json.loads(definition_text)["Parameters"]}
    assert parameters == {
        "InputDataUri": "s3://ml-platform-dev-data/churn/to-score/",
        "ModelName": "churn-dev-approved",
        "TransformInstanceType": "ml.m5.xlarge",
    }


def test_predictions_go_encrypted_to_the_data_bucket_per_run(transform: dict[str, Any]) -> None:
    output = transform["Arguments"]["TransformOutput"]
    assert output["KmsKeyId"] == KMS_KEY
    assert output["S3OutputPath"]["Std:Join"]["Values"] == [
        "s3://ml-platform-dev-data/churn-dev-batch",
        {"Get": "Execution.PipelineExecutionId"},
        "predictions",
    ]
    assert transform["Arguments"]["TransformResources"]["VolumeKmsKeyId"] == KMS_KEY


def test_no_volume_key_on_instance_storage(connection_attempts: list[str]) -> None:
    settings = BatchPipelineSettings(transform_instance_type="ml.g5.xlarge")
    (step,) = json.loads(build_batch_pipeline(**build_arguments(settings=settings)))["Steps"]
    assert "VolumeKmsKeyId" not in step["Arguments"]["TransformResources"]
    assert step["Arguments"]["TransformOutput"]["KmsKeyId"] == KMS_KEY


def test_joining_input_to_output_is_an_option(connection_attempts: list[str]) -> None:
    settings = BatchPipelineSettings(join_input_to_output=True)
    (step,) = json.loads(build_batch_pipeline(**build_arguments(settings=settings)))["Steps"]
    assert step["Arguments"]["DataProcessing"] == {"JoinSource": "Input"}


def test_transform_step_retries_throttling_and_capacity_errors(transform: dict[str, Any]) -> None:
    kinds = {kind for policy in transform["RetryPolicies"] for kind in policy["ExceptionType"]}
    assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"} <= kinds


def test_transform_step_is_not_cached_and_has_no_job_name(transform: dict[str, Any]) -> None:
    assert "CacheConfig" not in transform
    assert "TransformJobName" not in transform["Arguments"]


def test_arguments_are_a_valid_create_transform_job_request(transform: dict[str, Any]) -> None:
    def placeholders(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and set(value) & {"Get", "Std:Join"}:
                return "placeholder"
            return {key: placeholders(item) for key, item in value.items()}
        return value

    model = ServiceModel(create_loader().load_service_model("sagemaker", "service-2"), "sagemaker")
    request = {**placeholders(transform["Arguments"]), "TransformJobName": "placeholder"}
    report = ParamValidator().validate(
        request, model.operation_model("CreateTransformJob").input_shape
    )
    assert not report.has_errors(), report.generate_report()


def test_moto_create_pipeline_accepts_the_definition(definition_text: str) -> None:
    """moto stores the definition unparsed: this checks the request and the round trip."""
    with mock_aws():
        client = boto3.client(
            "sagemaker", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )
        client.create_pipeline(
            PipelineName="churn-dev-batch",
            PipelineDefinition=definition_text,
            RoleArn="arn:aws:iam::111122223333:role/ml-platform-dev-pipeline",
        )
        described = client.describe_pipeline(PipelineName="churn-dev-batch")
    assert described["PipelineDefinition"] == definition_text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"transform_instance_type": "ml.t3.medium"},
            (
                r"transform_instance_type='ml\.t3\.medium' is not an instance type SageMaker "
                r"accepts for batch transform jobs"
            ),
        ),
        ({"content_type": "text/plain"}, r"content_type='text/plain' .*allowed: one of text/csv"),
        ({"max_payload_mb": 0}, r"max_payload_mb=0 .*allowed: an integer from 1 to 100"),
    ],
)
def test_settings_reject_values_naming_field_value_and_what_is_allowed(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"^BatchPipelineSettings\.{message}"):
        BatchPipelineSettings(**overrides)


def test_inferentia_is_a_valid_transform_instance_type() -> None:
    settings = BatchPipelineSettings(transform_instance_type="ml.inf2.xlarge")
    assert settings.transform_instance_type == "ml.inf2.xlarge"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"output_bucket": "Data_Bucket"}, r"^output_bucket='Data_Bucket' .*S3 bucket name"),
        ({"input_data_uri": "data/to-score"}, r"^input_data_uri='data/to-score' .*s3://"),
        ({"model_name": "churn model"}, r"^model_name='churn model' .*letters, digits"),
        (
            {"kms_key_arn": KMS_KEY.replace(REGION, "us-east-1")},
            r"^kms_key_arn=.*region 'eu-west-1', not 'us-east-1'",
        ),
    ],
)
def test_builder_rejects_bad_arguments(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_batch_pipeline(**build_arguments(**overrides))

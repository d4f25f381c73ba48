"""The fine-tuning pipeline definition: pinned base model, GPU or Trainium, registered."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.loaders import create_loader
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from moto import mock_aws

from pipeline_definitions.fine_tuning_pipeline import (
    CODE_CHANNEL,
    STEP_NAMES,
    SUBMIT_DIRECTORY,
    FineTuningPipelineSettings,
    build_fine_tuning_pipeline,
)
from pipeline_definitions.model_registration import APPROVAL_STATUS
from pipeline_definitions.pipeline_arguments import ServingInstanceTypes
from platform_config.container_images import container_images, neuron_sdk_line
from platform_config.foundation_models import foundation_models
from platform_config.pipeline_spec import FineTuningPipelineSpec

REGION = "eu-west-1"
ACCOUNT = "111122223333"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ml-platform-dev-pipeline"
NEURON = "meta-textgenerationneuron-llama-3-2-1b"
GPU = "meta-textgeneration-llama-3-2-1b"
SAGEMAKER = ServiceModel(create_loader().load_service_model("sagemaker", "service-2"), "sagemaker")


def build_arguments(spec: FineTuningPipelineSpec, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "spec": spec,
        "pipeline_name": "ml-platform-dev-support-assistant",
        "region": REGION,
        "role_arn": ROLE,
        "default_bucket": "ml-platform-dev-artifacts",
        "model_package_group_name": "ml-platform-dev-support-assistant",
        "kms_key_arn": KMS_KEY,
        "subnet_ids": ("subnet-0123456789abcdef0",),
        "security_group_ids": ("sg-0123456789abcdef0",),
        # Served on Inferentia2 in dev, on Trainium in prod (config/prod.yaml).
        "serving": ServingInstanceTypes(real_time=("ml.inf2.xlarge", "ml.trn1.2xlarge")),
    }
    arguments.update(overrides)
    return arguments


TRAINIUM = FineTuningPipelineSpec(
    base_model=NEURON,
    accept_eula=True,
    training_instance_type="ml.trn1.32xlarge",
    training_instance_count=2,
    distribution="torchrun",
    epochs=2,
    batch_size=1,
    max_run_seconds=36000,
)
GPU_SPOT = FineTuningPipelineSpec(
    base_model=GPU,
    accept_eula=True,
    training_instance_type="ml.g5.2xlarge",
    use_spot=True,
    max_run_seconds=36000,
)


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
def trainium_text(connection_attempts: list[str]) -> str:
    return build_fine_tuning_pipeline(**build_arguments(TRAINIUM))


@pytest.fixture(scope="module")
def trainium(trainium_text: str) -> dict[str, dict[str, Any]]:
    return {step["Name"]: step for step in json.loads(trainium_text)["Steps"]}


@pytest.fixture(scope="module")
def gpu(connection_attempts: list[str]) -> dict[str, dict[str, Any]]:
    text = build_fine_tuning_pipeline(**build_arguments(GPU_SPOT))
    return {step["Name"]: step for step in json.loads(text)["Steps"]}


def placeholders(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and set(value) & {"Get", "Std:Join"}:
            return "s3://placeholder/expression"
        return {key: placeholders(item) for key, item in value.items()}
    if isinstance(value, list):
        return [placeholders(item) for item in value]
    return value


def test_building_opens_no_connection_and_is_byte_identical(
    trainium_text: str, connection_attempts: list[str]
) -> None:
    assert build_fine_tuning_pipeline(**build_arguments(TRAINIUM)) == trainium_text
    assert connection_attempts == []


def test_steps_fine_tune_then_register(trainium: dict[str, dict[str, Any]]) -> None:
    assert list(trainium) == list(STEP_NAMES)
    assert [trainium[name]["Type"] for name in STEP_NAMES] == ["Training", "RegisterModel"]


def test_trainium_runs_the_neuron_image_on_trn1_with_torchrun(
    trainium: dict[str, dict[str, Any]],
) -> None:
    arguments = trainium["FineTune"]["Arguments"]
    image = arguments["AlgorithmSpecification"]["TrainingImage"]
    assert re.fullmatch(
        rf"763104351884\.dkr\.ecr\.{REGION}\.amazonaws\.com/huggingface-pytorch-training-neuronx:"
        r"\S+-neuronx-\S+",
        image,
    )
    assert image.split("/", 1)[1] in container_images()
    assert arguments["ResourceConfig"] == {
        "InstanceType": "ml.trn1.32xlarge",
        "InstanceCount": 2,
        "VolumeSizeInGB": 200,
    }  # no VolumeKmsKeyId: trn1 has NVMe instance storage, encrypted by the hardware
    assert arguments["HyperParameters"]["sagemaker_torch_distributed_enabled"] == "true"
    assert arguments["EnableManagedSpotTraining"] is False


def test_epochs_batch_size_and_script_are_the_pinned_models(
    trainium: dict[str, dict[str, Any]],
) -> None:
    model = foundation_models()[NEURON]
    hyperparameters = trainium["FineTune"]["Arguments"]["HyperParameters"]
    assert hyperparameters[model.epochs_hyperparameter] == "2"
    assert hyperparameters[model.batch_size_hyperparameter] == "1"
    assert hyperparameters["sagemaker_program"] == model.entry_point
    assert hyperparameters["sagemaker_submit_directory"] == SUBMIT_DIRECTORY


def test_the_isolated_job_gets_its_script_through_the_code_channel(
    trainium: dict[str, dict[str, Any]],
) -> None:
    arguments = trainium["FineTune"]["Arguments"]
    assert arguments["EnableNetworkIsolation"] is True
    # Nothing the container would have to download itself.
    assert not [v for v in arguments["HyperParameters"].values() if v.startswith("s3://")]
    channels = {c["ChannelName"]: c for c in arguments["InputDataConfig"]}
    code = channels[CODE_CHANNEL]["DataSource"]["S3DataSource"]
    assert code["S3Uri"] == foundation_models()[NEURON].source_uri(REGION)
    # SageMaker copies the channel to /opt/ml/input/data/<channel>/<object name>.
    directory = arguments["HyperParameters"]["sagemaker_submit_directory"]
    assert directory == f"/opt/ml/input/data/{CODE_CHANNEL}/{code['S3Uri'].rsplit('/', 1)[1]}"


def test_base_weights_come_from_jumpstart_with_the_licence_accepted(
    trainium: dict[str, dict[str, Any]],
) -> None:
    channels = {c["ChannelName"]: c for c in trainium["FineTune"]["Arguments"]["InputDataConfig"]}
    assert set(channels) == {"training", "model", CODE_CHANNEL}
    weights = channels["model"]["DataSource"]["S3DataSource"]
    assert weights["S3Uri"] == foundation_models()[NEURON].artifacts_uri(REGION)
    assert weights["S3Uri"].startswith(f"s3://jumpstart-private-cache-prod-{REGION}/")
    assert weights["ModelAccessConfig"] == {"AcceptEula": True}
    data = channels["training"]["DataSource"]["S3DataSource"]
    assert data["S3Uri"] == {"Get": "Parameters.InputDataUri"}


def test_job_is_isolated_encrypted_and_in_the_vpc(trainium: dict[str, dict[str, Any]]) -> None:
    arguments = trainium["FineTune"]["Arguments"]
    assert arguments["EnableNetworkIsolation"] is True
    assert arguments["EnableInterContainerTrafficEncryption"] is True
    assert arguments["OutputDataConfig"]["KmsKeyId"] == KMS_KEY
    assert arguments["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"]


def test_registered_pending_approval_with_the_pinned_serving_image(
    trainium: dict[str, dict[str, Any]],
) -> None:
    arguments = trainium["RegisterModel"]["Arguments"]
    assert arguments["ModelApprovalStatus"] == APPROVAL_STATUS == "PendingManualApproval"
    assert arguments["ModelPackageGroupName"] == "ml-platform-dev-support-assistant"
    (container,) = arguments["InferenceSpecification"]["Containers"]
    model = foundation_models()[NEURON]
    assert container["Image"] == model.inference_image.uri(REGION)
    # Served with the Neuron SDK it was trained with.
    training = trainium["FineTune"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
    trained_with = container_images()[training.split("/", 1)[1]].neuron_sdk
    served_with = container_images()[container["Image"].split("/", 1)[1]].neuron_sdk
    assert trained_with and served_with
    assert neuron_sdk_line(trained_with) == neuron_sdk_line(served_with)
    assert container["ModelDataUrl"] == {"Get": "Steps.FineTune.ModelArtifacts.S3ModelArtifacts"}
    # Where the model is served in every environment, not the base model's own list.
    assert arguments["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"] == [
        "ml.inf2.xlarge",
        "ml.trn1.2xlarge",
    ]
    assert "SupportedTransformInstanceTypes" not in arguments["InferenceSpecification"]


def test_gpu_spot_fine_tuning_checkpoints_on_the_g5_instance_storage(
    gpu: dict[str, dict[str, Any]],
) -> None:
    arguments = gpu["FineTune"]["Arguments"]
    assert "huggingface-pytorch-training:" in arguments["AlgorithmSpecification"]["TrainingImage"]
    # g5 has NVMe instance storage, encrypted by the hardware: the API refuses a key.
    assert "VolumeKmsKeyId" not in arguments["ResourceConfig"]
    assert arguments["OutputDataConfig"]["KmsKeyId"] == KMS_KEY
    assert arguments["EnableManagedSpotTraining"] is True
    stopping = arguments["StoppingCondition"]
    assert stopping["MaxWaitTimeInSeconds"] > stopping["MaxRuntimeInSeconds"]
    assert arguments["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    assert "sagemaker_torch_distributed_enabled" not in arguments["HyperParameters"]


@pytest.mark.parametrize(
    ("request_type", "step"),
    [("CreateTrainingJob", "FineTune"), ("CreateModelPackage", "RegisterModel")],
)
def test_arguments_are_valid_requests(
    trainium: dict[str, dict[str, Any]], request_type: str, step: str
) -> None:
    request = placeholders(trainium[step]["Arguments"])
    if request_type == "CreateTrainingJob":
        request["TrainingJobName"] = "placeholder"
    request.pop("SkipModelValidation", None)  # the SDK's, stripped by Pipelines
    report = ParamValidator().validate(request, SAGEMAKER.operation_model(request_type).input_shape)
    assert not report.has_errors(), report.generate_report()


def test_moto_create_pipeline_accepts_the_definition(trainium_text: str) -> None:
    with mock_aws():
        client = boto3.client(
            "sagemaker", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )
        client.create_pipeline(
            PipelineName="ml-platform-dev-support-assistant",
            PipelineDefinition=trainium_text,
            RoleArn=ROLE,
        )
        described = client.describe_pipeline(PipelineName="ml-platform-dev-support-assistant")
    assert described["PipelineDefinition"] == trainium_text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"volume_size_gb": 0}, r"volume_size_gb=0 .*from 1 to 16384"),
        ({"job_max_attempts": 21}, r"job_max_attempts=21 .*from 1 to 20"),
    ],
)
def test_settings_reject_values_naming_field_value_and_what_is_allowed(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"^FineTuningPipelineSettings\.{message}"):
        FineTuningPipelineSettings(**overrides)


def test_the_builders_settings_reach_the_job(connection_attempts: list[str]) -> None:
    settings = FineTuningPipelineSettings(volume_size_gb=500, job_max_attempts=5)
    text = build_fine_tuning_pipeline(**build_arguments(GPU_SPOT, settings=settings))
    job = {step["Name"]: step for step in json.loads(text)["Steps"]}["FineTune"]
    assert job["Arguments"]["ResourceConfig"]["VolumeSizeInGB"] == 500
    assert {policy["MaxAttempts"] for policy in job["RetryPolicies"]} == {5}


def test_a_region_without_the_image_is_reported(connection_attempts: list[str]) -> None:
    with pytest.raises(ValueError, match=r"is not published in region 'af-south-1'"):
        build_fine_tuning_pipeline(
            **build_arguments(
                TRAINIUM, region="af-south-1", kms_key_arn=KMS_KEY.replace(REGION, "af-south-1")
            )
        )

"""The training pipeline definition: built offline, deterministic, and shaped as intended.

Each definition is built once per module (about a second each). What stands in for
SageMaker: botocore's service model checks every job step's arguments as the request
SageMaker will send (``CreateProcessingJob``, ``CreateTrainingJob``,
``CreateModelPackage``), and moto's ``create_pipeline`` takes the definition.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.loaders import create_loader
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from moto import mock_aws

from pipeline_definitions.clarify_checks import ClarifyChecks
from pipeline_definitions.model_registration import APPROVAL_STATUS
from pipeline_definitions.pipeline_arguments import ServingInstanceTypes
from pipeline_definitions.training_pipeline import (
    AUC_JSON_PATH,
    STEP_NAMES,
    StepCodeUris,
    TrainingPipelineSettings,
    build_training_pipeline,
)
from platform_config.pipeline_spec import TrainingPipelineSpec

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
OTHER_REGION = "us-east-1"
ACCOUNT = "111122223333"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ml-platform-dev-pipeline"
SUBNETS = ("subnet-0123456789abcdef0", "subnet-0fedcba9876543210")
SECURITY_GROUPS = ("sg-0123456789abcdef0",)
MLFLOW = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/ml-platform-dev"
CLARIFY = ClarifyChecks(
    bias_facet="contract_type", bias_facet_values=("Month-to-month",), shap_samples=100
)
SERVING = ServingInstanceTypes(
    real_time=("ml.c6i.large", "ml.m5.large"), transform=("ml.m5.xlarge",)
)


def build_arguments(region: str = REGION, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "pipeline_name": "churn-dev-training",
        "region": region,
        "role_arn": ROLE,
        "default_bucket": "ml-platform-dev-artifacts",
        "code_uris": StepCodeUris(
            preprocess="s3://ml-platform-dev-artifacts/code/preprocess.py",
            evaluate="s3://ml-platform-dev-artifacts/code/evaluate.py",
        ),
        "model_package_group_name": "churn-dev",
        "kms_key_arn": KMS_KEY.replace(REGION, region),
        "subnet_ids": SUBNETS,
        "security_group_ids": SECURITY_GROUPS,
        "spec": TrainingPipelineSpec(),
        "settings": TrainingPipelineSettings(clarify=CLARIFY),
        "serving": SERVING,
        "mlflow_tracking_server_arn": MLFLOW.replace(REGION, region),
    }
    arguments.update(overrides)
    return arguments


class ConnectionAttempts:
    """Refuses and records every DNS lookup and socket connection while active."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, what: str) -> None:
        self.attempts.append(what)
        raise OSError(f"network access during a definition build: {what}")


@pytest.fixture(scope="module")
def no_network() -> Iterator[ConnectionAttempts]:
    recorder = ConnectionAttempts()
    patch = pytest.MonkeyPatch()
    patch.setattr(
        socket.socket, "connect", lambda self, address: recorder.refuse(f"connect {address}")
    )
    patch.setattr(
        socket.socket, "connect_ex", lambda self, address: recorder.refuse(f"connect {address}")
    )
    patch.setattr(socket, "getaddrinfo", lambda host, *a, **k: recorder.refuse(f"resolve {host}"))
    patch.setattr(
        socket, "create_connection", lambda address, *a, **k: recorder.refuse(f"to {address}")
    )
    yield recorder
    patch.undo()


@pytest.fixture(scope="module")
def environ_before() -> dict[str, str]:
    return dict(os.environ)


@pytest.fixture(scope="module")
def definition_text(no_network: ConnectionAttempts, environ_before: dict[str, str]) -> str:
    return build_training_pipeline(**build_arguments())


@pytest.fixture(scope="module")
def second_definition_text(no_network: ConnectionAttempts, definition_text: str) -> str:
    return build_training_pipeline(**build_arguments())


@pytest.fixture(scope="module")
def other_region_definition(no_network: ConnectionAttempts) -> dict[str, Any]:
    return json.loads(build_training_pipeline(**build_arguments(OTHER_REGION)))


@pytest.fixture(scope="module")
def without_vpc_definition(no_network: ConnectionAttempts) -> dict[str, Any]:
    arguments = build_arguments(subnet_ids=(), security_group_ids=())
    return json.loads(build_training_pipeline(**arguments))


@pytest.fixture(scope="module")
def definition(definition_text: str) -> dict[str, Any]:
    return json.loads(definition_text)


def all_steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step by name, including those inside the condition's branches."""
    found: dict[str, dict[str, Any]] = {}

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            visit(step.get("Arguments", {}).get("IfSteps", []))
            visit(step.get("Arguments", {}).get("ElseSteps", []))

    visit(definition["Steps"])
    return found


def step(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return all_steps(definition)[name]


def job_steps(definition: dict[str, Any]) -> list[dict[str, Any]]:
    types = {"Processing", "Training", "QualityCheck", "ClarifyCheck"}
    return [s for s in all_steps(definition).values() if s["Type"] in types]


def image_uris(definition: dict[str, Any]) -> set[str]:
    return set(re.findall(r'"(?:ImageUri|TrainingImage|Image)": "([^"]+)"', json.dumps(definition)))


# --- offline and deterministic ---------------------------------------------------------


def test_building_opens_no_connection(
    definition_text: str, second_definition_text: str, no_network: ConnectionAttempts
) -> None:
    telemetry = [t for t in threading.enumerate() if t.name == "sagemaker-telemetry"]
    for thread in telemetry:
        thread.join(timeout=5)
    assert definition_text
    assert no_network.attempts == []
    assert telemetry == []


def test_two_builds_are_byte_identical(definition_text: str, second_definition_text: str) -> None:
    assert definition_text == second_definition_text


def test_building_leaves_the_environment_as_it_was(
    definition_text: str, environ_before: dict[str, str]
) -> None:
    current = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    assert current == {k: v for k, v in environ_before.items() if k != "PYTEST_CURRENT_TEST"}


def test_a_fresh_process_without_aws_settings_builds_the_same_bytes_offline(
    definition_text: str, tmp_path: Path
) -> None:
    """Import included (the SDK creates clients at import), in a bare environment whose
    stray AWS settings must neither be used nor leak into the definition."""
    arguments = build_arguments()
    arguments["code_uris"] = vars(arguments["code_uris"])
    arguments["serving"] = vars(arguments["serving"])
    arguments["clarify"] = vars(arguments.pop("settings").clarify)
    arguments["spec"] = arguments.pop("spec").model_dump(mode="json")
    script = f"""
import json, socket, sys
attempts = []
def refuse(what):
    attempts.append(what)
    raise OSError(what)
socket.socket.connect = lambda self, address: refuse(f"connect {{address}}")
socket.getaddrinfo = lambda host, *a, **k: refuse(f"resolve {{host}}")
sys.path.insert(0, {str(REPO)!r})
from pipeline_definitions.clarify_checks import ClarifyChecks
from pipeline_definitions.pipeline_arguments import ServingInstanceTypes
from pipeline_definitions.training_pipeline import (
    StepCodeUris, TrainingPipelineSettings, build_training_pipeline
)
from platform_config.pipeline_spec import TrainingPipelineSpec
arguments = {arguments!r}
arguments["spec"] = TrainingPipelineSpec.model_validate(arguments["spec"])
arguments["code_uris"] = StepCodeUris(**arguments["code_uris"])
arguments["serving"] = ServingInstanceTypes(**arguments["serving"])
arguments["settings"] = TrainingPipelineSettings(
    clarify=ClarifyChecks(**arguments.pop("clarify"))
)
text = build_training_pipeline(**arguments)
print(json.dumps({{"attempts": attempts, "definition": text}}))
"""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_PROFILE": "does-not-exist",
        "AWS_REGION": "ap-south-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": "s3://not-a-bucket/config.yaml",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output["attempts"] == []
    assert output["definition"] == definition_text


def test_no_job_name_timestamp_or_user_name_is_written(definition_text: str) -> None:
    assert not re.search(r'"(Training|Processing|Transform)JobName"', definition_text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}", definition_text)
    assert "offline-build" not in definition_text
    user = os.environ.get("USER") or os.environ.get("LOGNAME")
    if user and len(user) > 3:
        assert user not in definition_text


# --- structure --------------------------------------------------------------------------


def test_steps_have_the_expected_names_and_types(definition: dict[str, Any]) -> None:
    types = {name: s["Type"] for name, s in all_steps(definition).items()}
    assert types == {
        "Preprocess": "Processing",
        "Train": "Training",
        "Evaluate": "Processing",
        "CheckAucThreshold": "Condition",
        "DataQualityBaseline": "QualityCheck",
        "ModelQualityBaseline": "QualityCheck",
        "CreateModel": "Model",
        "ModelBiasCheck": "ClarifyCheck",
        "ModelExplainabilityCheck": "ClarifyCheck",
        "RegisterModel": "RegisterModel",
        "AucBelowThreshold": "Fail",
    }
    # FeatureStoreDataset only with a feature group source (test_training_pipeline_loop.py).
    assert set(types) == set(STEP_NAMES) - {"FeatureStoreDataset"}


def test_parameters_expose_input_instance_types_and_threshold(definition: dict[str, Any]) -> None:
    parameters = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]}
    assert parameters["InputDataUri"] == (
        "String",
        "s3://ml-platform-dev-artifacts/churn-dev-training/input/",
    )
    assert parameters["ProcessingInstanceType"] == ("String", "ml.m5.xlarge")
    assert parameters["TrainingInstanceType"] == ("String", "ml.m5.xlarge")
    assert parameters["AucThreshold"] == ("Float", 0.75)


def test_training_uses_managed_spot_with_checkpoints_and_a_longer_wait(
    definition: dict[str, Any],
) -> None:
    arguments = step(definition, "Train")["Arguments"]
    stopping = arguments["StoppingCondition"]
    assert arguments["EnableManagedSpotTraining"] is True
    assert stopping["MaxWaitTimeInSeconds"] > stopping["MaxRuntimeInSeconds"]
    checkpoint = arguments["CheckpointConfig"]
    assert checkpoint["LocalPath"] == "/opt/ml/checkpoints"
    assert {"Get": "Execution.PipelineExecutionId"} in checkpoint["S3Uri"]["Std:Join"]["Values"]


def test_training_runs_the_builtin_xgboost_binary_logistic(definition: dict[str, Any]) -> None:
    arguments = step(definition, "Train")["Arguments"]
    assert re.fullmatch(
        rf"\d+\.dkr\.ecr\.{REGION}\.amazonaws\.com/sagemaker-xgboost:1\.7-1",
        arguments["AlgorithmSpecification"]["TrainingImage"],
    )
    assert arguments["HyperParameters"]["objective"] == "binary:logistic"
    assert [c["ChannelName"] for c in arguments["InputDataConfig"]] == ["train", "validation"]


def test_training_without_spot_has_no_wait_time_nor_checkpoints(
    no_network: ConnectionAttempts,
) -> None:
    spec = TrainingPipelineSpec(use_spot=False)
    arguments = step(json.loads(build_training_pipeline(**build_arguments(spec=spec))), "Train")[
        "Arguments"
    ]
    assert arguments["EnableManagedSpotTraining"] is False
    assert "MaxWaitTimeInSeconds" not in arguments["StoppingCondition"]
    assert "CheckpointConfig" not in arguments


def test_gate_compares_the_auc_read_from_the_evaluation_report(definition: dict[str, Any]) -> None:
    evaluate = step(definition, "Evaluate")
    assert evaluate["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]
    outputs = evaluate["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert "evaluation" in [o["OutputName"] for o in outputs]
    (condition,) = step(definition, "CheckAucThreshold")["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
            "Path": AUC_JSON_PATH,
        }
    }
    assert condition["RightValue"] == {"Get": "Parameters.AucThreshold"}


def test_gate_registers_on_pass_and_fails_otherwise(definition: dict[str, Any]) -> None:
    arguments = step(definition, "CheckAucThreshold")["Arguments"]
    assert [s["Name"] for s in arguments["IfSteps"]] == [
        "DataQualityBaseline",
        "ModelQualityBaseline",
        "CreateModel",
        "ModelBiasCheck",
        "ModelExplainabilityCheck",
        "RegisterModel",
    ]
    assert [s["Name"] for s in arguments["ElseSteps"]] == ["AucBelowThreshold"]


def test_fail_step_message_states_the_metric_and_threshold(definition: dict[str, Any]) -> None:
    message = step(definition, "AucBelowThreshold")["Arguments"]["ErrorMessage"]["Std:Join"]
    texts = " ".join(v for v in message["Values"] if isinstance(v, str))
    assert "AUC" in texts
    assert AUC_JSON_PATH in texts
    assert {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
            "Path": AUC_JSON_PATH,
        }
    } in message["Values"]
    assert {"Get": "Parameters.AucThreshold"} in message["Values"]


def test_model_is_registered_pending_approval_with_metrics_and_baselines(
    definition: dict[str, Any],
) -> None:
    arguments = step(definition, "RegisterModel")["Arguments"]
    assert APPROVAL_STATUS == "PendingManualApproval"
    assert arguments["ModelApprovalStatus"] == "PendingManualApproval"
    assert arguments["ModelPackageGroupName"] == "churn-dev"
    metrics = arguments["ModelMetrics"]
    assert metrics["ModelQuality"]["Statistics"]["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                {
                    "Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"
                },
                "evaluation.json",
            ],
        }
    }
    assert metrics["ModelDataQuality"]["Statistics"]["S3Uri"] == {
        "Get": "Steps.DataQualityBaseline.CalculatedBaselineStatistics"
    }
    baselines = arguments["DriftCheckBaselines"]
    assert baselines["ModelDataQuality"]["Constraints"]["S3Uri"] == {
        "Get": "Steps.DataQualityBaseline.BaselineUsedForDriftCheckConstraints"
    }
    assert baselines["ModelQuality"]["Constraints"]["S3Uri"] == {
        "Get": "Steps.ModelQualityBaseline.BaselineUsedForDriftCheckConstraints"
    }
    (container,) = arguments["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


def test_registered_container_is_the_builtin_xgboost_without_script_mode(
    definition: dict[str, Any],
) -> None:
    inference = step(definition, "RegisterModel")["Arguments"]["InferenceSpecification"]
    (container,) = inference["Containers"]
    assert re.fullmatch(
        rf"\d+\.dkr\.ecr\.{REGION}\.amazonaws\.com/sagemaker-xgboost:1\.7-1", container["Image"]
    )
    assert container["Environment"] == {}
    assert inference["SupportedContentTypes"] == ["text/csv"]
    assert inference["SupportedRealtimeInferenceInstanceTypes"] == list(SERVING.real_time)
    assert inference["SupportedTransformInstanceTypes"] == list(SERVING.transform)


def test_quality_checks_baseline_the_preprocessed_data_and_the_predictions(
    definition: dict[str, Any],
) -> None:
    data = step(definition, "DataQualityBaseline")
    model = step(definition, "ModelQualityBaseline")
    assert data["CheckType"] == "DATA_QUALITY"
    assert model["CheckType"] == "MODEL_QUALITY"
    assert data["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"
    }
    assert model["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] == {
        "Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['predictions'].S3Output.S3Uri"
    }
    environment = model["Arguments"]["Environment"]
    assert environment["problem_type"] == "BinaryClassification"
    assert (environment["ground_truth_attribute"], environment["probability_attribute"]) == (
        "label",
        "probability",
    )
    for check in (data, model):
        assert check["ModelPackageGroupName"] == "churn-dev"
        assert check["SkipCheck"] == {"Get": "Parameters.SkipDriftCheck"}
        assert check["RegisterNewBaseline"] == {"Get": "Parameters.RegisterNewBaseline"}


def test_job_steps_retry_throttling_and_capacity_errors(definition: dict[str, Any]) -> None:
    for name in ("Preprocess", "Train", "Evaluate"):
        exception_types = {
            kind
            for policy in step(definition, name)["RetryPolicies"]
            for kind in policy["ExceptionType"]
        }
        assert {
            "Step.THROTTLING",
            "Step.SERVICE_FAULT",
            "SageMaker.CAPACITY_ERROR",
            "SageMaker.RESOURCE_LIMIT",
            "SageMaker.JOB_INTERNAL_ERROR",
        } <= exception_types, name
    register_types = {
        kind
        for policy in step(definition, "RegisterModel")["RetryPolicies"]
        for kind in policy["ExceptionType"]
    }
    assert register_types == {"Step.THROTTLING", "Step.SERVICE_FAULT"}


def test_only_preprocess_is_cached(definition: dict[str, Any]) -> None:
    cached = {
        name: s["CacheConfig"] for name, s in all_steps(definition).items() if "CacheConfig" in s
    }
    assert cached == {"Preprocess": {"Enabled": True, "ExpireAfter": "P30D"}}


def test_every_job_encrypts_volumes_and_outputs_with_the_key(definition: dict[str, Any]) -> None:
    jobs = job_steps(definition)
    assert len(jobs) == 7
    for job in jobs:
        arguments = job["Arguments"]
        if job["Type"] == "Training":
            assert arguments["ResourceConfig"]["VolumeKmsKeyId"] == KMS_KEY
            assert arguments["OutputDataConfig"]["KmsKeyId"] == KMS_KEY
        else:
            assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KMS_KEY
            assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == KMS_KEY


def test_no_volume_key_is_requested_on_instance_storage(no_network: ConnectionAttempts) -> None:
    spec = TrainingPipelineSpec(training_instance_type="ml.g5.xlarge")
    built = json.loads(build_training_pipeline(**build_arguments(spec=spec)))
    arguments = step(built, "Train")["Arguments"]
    assert "VolumeKmsKeyId" not in arguments["ResourceConfig"]
    assert arguments["OutputDataConfig"]["KmsKeyId"] == KMS_KEY


def test_every_job_runs_in_the_given_subnets_isolated_but_clarify(
    definition: dict[str, Any],
) -> None:
    """Clarify creates, calls and deletes its shadow endpoint itself (SageMaker API and
    runtime, through the VPC's interface endpoints): its jobs cannot be isolated."""
    for job in job_steps(definition):
        arguments = job["Arguments"]
        if job["Type"] == "Training":
            vpc = arguments["VpcConfig"]
            assert arguments["EnableNetworkIsolation"] is True
            assert arguments["EnableInterContainerTrafficEncryption"] is True
        else:
            network = arguments["NetworkConfig"]
            vpc = network["VpcConfig"]
            assert network["EnableNetworkIsolation"] is (job["Type"] != "ClarifyCheck"), job["Name"]
            assert network["EnableInterContainerTrafficEncryption"] is True
        assert (tuple(vpc["Subnets"]), tuple(vpc["SecurityGroupIds"])) == (SUBNETS, SECURITY_GROUPS)


def test_without_subnets_no_job_has_a_vpc(without_vpc_definition: dict[str, Any]) -> None:
    assert "VpcConfig" not in json.dumps(without_vpc_definition)


def test_outputs_go_under_the_pipeline_prefix_of_each_run(definition: dict[str, Any]) -> None:
    root = "s3://ml-platform-dev-artifacts/churn-dev-training"
    for name in ("Preprocess", "Evaluate"):
        for output in step(definition, name)["Arguments"]["ProcessingOutputConfig"]["Outputs"]:
            values = output["S3Output"]["S3Uri"]["Std:Join"]["Values"]
            assert values[:2] == [root, {"Get": "Execution.PipelineExecutionId"}], output
    training_output = step(definition, "Train")["Arguments"]["OutputDataConfig"]["S3OutputPath"]
    assert training_output["Std:Join"]["Values"][:2] == [
        root,
        {"Get": "Execution.PipelineExecutionId"},
    ]


def test_scripts_are_referenced_by_their_s3_uris_with_explicit_paths(
    definition: dict[str, Any],
) -> None:
    for name, script in (("Preprocess", "preprocess.py"), ("Evaluate", "evaluate.py")):
        arguments = step(definition, name)["Arguments"]
        code = [i for i in arguments["ProcessingInputs"] if i["InputName"] == "code"]
        assert code[0]["S3Input"]["S3Uri"] == f"s3://ml-platform-dev-artifacts/code/{script}"
        assert arguments["AppSpecification"]["ContainerEntrypoint"] == [
            "python3",
            f"/opt/ml/processing/input/code/{script}",
        ]
    preprocess = step(definition, "Preprocess")["Arguments"]["AppSpecification"][
        "ContainerArguments"
    ]
    assert preprocess[preprocess.index("--target-column") + 1] == "target"


# --- stand-ins for SageMaker ------------------------------------------------------------

_SAGEMAKER_MODEL = ServiceModel(
    create_loader().load_service_model("sagemaker", "service-2"), "sagemaker"
)
_REQUESTS = {
    "Processing": ("CreateProcessingJob", {"ProcessingJobName": "placeholder"}),
    "QualityCheck": ("CreateProcessingJob", {"ProcessingJobName": "placeholder"}),
    "ClarifyCheck": ("CreateProcessingJob", {"ProcessingJobName": "placeholder"}),
    "Model": ("CreateModel", {"ModelName": "placeholder"}),
    "Training": ("CreateTrainingJob", {"TrainingJobName": "placeholder"}),
    "RegisterModel": ("CreateModelPackage", {}),
}


def with_placeholders(value: Any) -> Any:
    """Replace each pipeline expression (Get, Std:Join, Std:JsonGet) by a string."""
    if isinstance(value, dict):
        if set(value) & {"Get", "Std:Join", "Std:JsonGet"} and len(value) == 1:
            return "s3://placeholder/expression"
        return {key: with_placeholders(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_placeholders(item) for item in value]
    return value


@pytest.mark.parametrize(
    "step_name",
    [
        "Preprocess",
        "Train",
        "Evaluate",
        "DataQualityBaseline",
        "ModelQualityBaseline",
        "CreateModel",
        "ModelBiasCheck",
        "ModelExplainabilityCheck",
        "RegisterModel",
    ],
)
def test_step_arguments_are_valid_sagemaker_requests(
    definition: dict[str, Any], step_name: str
) -> None:
    found = step(definition, step_name)
    operation, names = _REQUESTS[found["Type"]]
    request = {**with_placeholders(found["Arguments"]), **names}
    report = ParamValidator().validate(
        request, _SAGEMAKER_MODEL.operation_model(operation).input_shape
    )
    assert not report.has_errors(), report.generate_report()


def test_moto_create_pipeline_accepts_the_definition(definition_text: str) -> None:
    """moto stores the definition without parsing it (it would take any string): this
    checks the request (size, names, role) and the round trip; the step shapes are
    checked by ``test_step_arguments_are_valid_sagemaker_requests``."""
    with mock_aws():
        client = boto3.client(
            "sagemaker",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_pipeline(
            PipelineName="churn-dev-training",
            PipelineDefinition=definition_text,
            RoleArn=ROLE,
        )
        described = client.describe_pipeline(PipelineName="churn-dev-training")
        execution = client.start_pipeline_execution(
            PipelineName="churn-dev-training",
            PipelineParameters=[{"Name": "AucThreshold", "Value": "0.8"}],
        )
    assert described["PipelineDefinition"] == definition_text
    assert execution["PipelineExecutionArn"].startswith(f"arn:aws:sagemaker:{REGION}:")


def test_definition_stays_well_under_the_pipeline_definition_limit(definition_text: str) -> None:
    assert len(definition_text.encode()) < 1_048_576 // 10


def test_region_selects_the_image_registry(
    definition: dict[str, Any], other_region_definition: dict[str, Any]
) -> None:
    here, there = image_uris(definition), image_uris(other_region_definition)
    assert here and there
    assert all(f".dkr.ecr.{REGION}.amazonaws.com/" in uri for uri in here)
    assert all(f".dkr.ecr.{OTHER_REGION}.amazonaws.com/" in uri for uri in there)
    assert here.isdisjoint(there)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"quality_check_instance_type": "ml.inf2.xlarge"},
            (
                r"quality_check_instance_type='ml\.inf2\.xlarge' is not an instance type SageMaker"
                r" accepts for processing jobs"
            ),
        ),
        ({"volume_size_gb": 0}, r"volume_size_gb=0 .*allowed: an integer from 1 to 16384"),
        ({"cache_preprocessing_for": "30 days"}, r"cache_preprocessing_for='30 days' .*ISO 8601"),
        ({"eta": 0}, r"eta=0 .*allowed: a number in \(0, 1\]"),
        ({"min_child_weight": -1}, r"min_child_weight=-1 .*allowed: a number >= 0"),
        ({"job_max_attempts": 21}, r"job_max_attempts=21 .*allowed: an integer from 1 to 20"),
    ],
)
def test_settings_reject_values_naming_field_value_and_what_is_allowed(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"^TrainingPipelineSettings\.{message}"):
        TrainingPipelineSettings(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"role_arn": "ml-platform-dev-pipeline"},
            r"^role_arn='ml-platform-dev-pipeline' .*IAM role ARN",
        ),
        (
            {"kms_key_arn": KMS_KEY.replace(REGION, "us-west-2")},
            r"^kms_key_arn=.*allowed: a key in the pipeline's region 'eu-west-1', not 'us-west-2'",
        ),
        ({"region": "Ireland"}, r"^region='Ireland' .*an AWS region name"),
        ({"pipeline_name": "churn_dev"}, r"^pipeline_name='churn_dev' .*letters, digits"),
        ({"default_bucket": "Bad_Bucket"}, r"^default_bucket='Bad_Bucket' .*S3 bucket name"),
        (
            {"security_group_ids": ()},
            r"^subnet_ids=.* with security_group_ids=\[\] .*both non-empty",
        ),
        ({"subnet_ids": ("subnet-xyz",)}, r"^subnet_ids='subnet-xyz' .*subnet-<8 to 17 hex>"),
        ({"input_data_uri": "/data/raw"}, r"^input_data_uri='/data/raw' .*s3://<bucket>/<key>"),
        ({"model_package_group_name": "churn dev"}, r"^model_package_group_name='churn dev'"),
    ],
)
def test_builder_rejects_bad_arguments_before_building(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_training_pipeline(**build_arguments(**overrides))


def test_unknown_container_version_is_reported_and_leaves_the_environment(
    environ_before: dict[str, str],
) -> None:
    settings = TrainingPipelineSettings(xgboost_version="9.9-9")
    with pytest.raises(
        ValueError,
        match=r"^TrainingPipelineSettings\.xgboost_version='9\.9-9' is not allowed in region "
        r"'eu-west-1': Unsupported xgboost version: 9\.9-9\..*Supported xgboost version\(s\): .*1\.7-1",
    ):
        build_training_pipeline(**build_arguments(settings=settings))
    current = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    assert current == {k: v for k, v in environ_before.items() if k != "PYTEST_CURRENT_TEST"}


def test_step_code_must_be_an_s3_python_file() -> None:
    with pytest.raises(
        ValueError, match=r"^StepCodeUris\.preprocess='steps/preprocess\.py' .*ending in \.py"
    ):
        StepCodeUris(preprocess="steps/preprocess.py", evaluate="s3://b/evaluate.py")

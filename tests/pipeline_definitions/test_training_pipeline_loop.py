"""The training pipeline's part in the closed loop: retraining parameters, Clarify checks
with the monitors' baselines, MLflow tracking, Feature Store as the source, serving types.

Definitions are built offline, as the stacks build them; the shared helpers are those of
``test_training_pipeline.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline_definitions.clarify_checks import SHADOW_ENDPOINT_PREFIX
from pipeline_definitions.mlflow_tracking import METADATA_KEYS
from pipeline_definitions.pipeline_arguments import (
    FeatureGroupSource,
    ServingInstanceTypes,
    mlflow_tracking_server_arn,
)
from pipeline_definitions.training_pipeline import (
    StepCodeUris,
    TrainingPipelineSettings,
    build_training_pipeline,
)
from platform_config.pipeline_spec import TrainingPipelineSpec
from platform_contracts.retraining import (
    DEFAULT_RUN,
    INPUT_DATA_URI,
    REGISTER_NEW_BASELINE,
    SKIP_DRIFT_CHECK,
)
from tests.pipeline_definitions.test_training_pipeline import (
    CLARIFY,
    KMS_KEY,
    MLFLOW,
    SECURITY_GROUPS,
    SUBNETS,
    build_arguments,
    step,
)

GROUP = FeatureGroupSource(
    name="ml-platform-dev-customer-activity",
    record_identifier="customer_id",
    event_time="event_time",
    event_time_type="string",
    features=(("tenure_months", "integral"), ("contract_type", "string")),
)


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return json.loads(build_training_pipeline(**build_arguments()))


@pytest.fixture(scope="module")
def plain() -> dict[str, Any]:
    """No Clarify check, no MLflow, not served."""
    arguments = build_arguments(
        settings=TrainingPipelineSettings(),
        serving=ServingInstanceTypes(),
        mlflow_tracking_server_arn=None,
    )
    return json.loads(build_training_pipeline(**arguments))


@pytest.fixture(scope="module")
def from_feature_store() -> dict[str, Any]:
    arguments = build_arguments(
        code_uris=StepCodeUris.under("s3://ml-platform-dev-artifacts/code"),
        feature_group=GROUP,
        spec=TrainingPipelineSpec(target_column="churned"),
        settings=TrainingPipelineSettings(clarify=CLARIFY),
    )
    return json.loads(build_training_pipeline(**arguments))


# --- retraining parameters ----------------------------------------------------------------


def test_drift_parameters_are_named_and_defaulted_by_the_retraining_contract(
    definition: dict[str, Any],
) -> None:
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    assert parameters[SKIP_DRIFT_CHECK] == {
        "Name": SKIP_DRIFT_CHECK,
        "Type": "Boolean",
        "DefaultValue": DEFAULT_RUN.skip_drift_check,
    }
    assert parameters[REGISTER_NEW_BASELINE]["DefaultValue"] is DEFAULT_RUN.register_new_baseline
    assert parameters[INPUT_DATA_URI]["Type"] == "String"


def test_every_check_step_takes_both_drift_parameters(definition: dict[str, Any]) -> None:
    names = (
        "DataQualityBaseline",
        "ModelQualityBaseline",
        "ModelBiasCheck",
        "ModelExplainabilityCheck",
    )
    checks = [step(definition, name) for name in names]
    for check in checks:
        assert check["SkipCheck"] == {"Get": f"Parameters.{SKIP_DRIFT_CHECK}"}, check["Name"]
        assert check["RegisterNewBaseline"] == {"Get": f"Parameters.{REGISTER_NEW_BASELINE}"}
        assert check["FailOnViolation"] is True
        assert check["ModelPackageGroupName"] == "churn-dev"


def test_input_is_read_as_a_prefix_of_files(definition: dict[str, Any]) -> None:
    (raw,) = [
        i
        for i in step(definition, "Preprocess")["Arguments"]["ProcessingInputs"]
        if i["InputName"] == "raw"
    ]
    assert raw["S3Input"]["S3Uri"] == {"Get": f"Parameters.{INPUT_DATA_URI}"}
    assert raw["S3Input"]["S3DataType"] == "S3Prefix"


# --- Clarify checks and the monitors' baselines ---------------------------------------------


def test_clarify_checks_score_the_trained_model_on_the_test_split(
    definition: dict[str, Any],
) -> None:
    create = step(definition, "CreateModel")["Arguments"]
    assert create["PrimaryContainer"]["ModelDataUrl"] == {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    }
    assert create["EnableNetworkIsolation"] is True
    for name, check_type, config in (
        ("ModelBiasCheck", "MODEL_BIAS", "clarify-bias"),
        ("ModelExplainabilityCheck", "MODEL_EXPLAINABILITY", "clarify-explainability"),
    ):
        check = step(definition, name)
        assert check["CheckType"] == check_type
        assert check["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
        inputs = {i["InputName"]: i["S3Input"] for i in check["Arguments"]["ProcessingInputs"]}
        assert inputs["analysis_config"]["S3Uri"] == {
            "Get": f"Steps.Preprocess.ProcessingOutputConfig.Outputs['{config}'].S3Output.S3Uri"
        }
        assert inputs["dataset"]["S3Uri"] == {
            "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"
        }


def test_preprocess_is_asked_for_the_clarify_configurations(definition: dict[str, Any]) -> None:
    arguments = step(definition, "Preprocess")["Arguments"]
    command = arguments["AppSpecification"]["ContainerArguments"]
    assert command[command.index("--clarify-facet") + 1] == "contract_type"
    assert command[command.index("--clarify-facet-value") + 1] == "Month-to-month"
    assert command[command.index("--shap-samples") + 1] == "100"
    assert command[command.index("--clarify-endpoint-prefix") + 1] == SHADOW_ENDPOINT_PREFIX
    outputs = [o["OutputName"] for o in arguments["ProcessingOutputConfig"]["Outputs"]]
    assert {"schema", "clarify-bias", "clarify-explainability", "clarify-monitors"} <= set(outputs)


def test_package_registers_bias_and_explainability_results_and_baselines(
    definition: dict[str, Any],
) -> None:
    arguments = step(definition, "RegisterModel")["Arguments"]
    metrics, baselines = arguments["ModelMetrics"], arguments["DriftCheckBaselines"]
    assert metrics["Bias"]["PostTrainingReport"]["S3Uri"] == {
        "Get": "Steps.ModelBiasCheck.CalculatedBaselineConstraints"
    }
    assert metrics["Explainability"]["Report"]["S3Uri"] == {
        "Get": "Steps.ModelExplainabilityCheck.CalculatedBaselineConstraints"
    }
    assert baselines["Bias"]["PostTrainingConstraints"]["S3Uri"] == {
        "Get": "Steps.ModelBiasCheck.BaselineUsedForDriftCheckConstraints"
    }
    assert baselines["Explainability"]["Constraints"]["S3Uri"] == {
        "Get": "Steps.ModelExplainabilityCheck.BaselineUsedForDriftCheckConstraints"
    }
    monitors = {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['clarify-monitors'].S3Output.S3Uri"
    }
    for section, file_name in (
        ("Bias", "bias_analysis_config.json"),
        ("Explainability", "explainability_analysis_config.json"),
    ):
        assert baselines[section]["ConfigFile"]["S3Uri"] == {
            "Std:Join": {"On": "/", "Values": [monitors, file_name]}
        }


def test_without_clarify_checks_nothing_of_them_is_built_or_registered(
    plain: dict[str, Any],
) -> None:
    names = [s["Name"] for s in step(plain, "CheckAucThreshold")["Arguments"]["IfSteps"]]
    assert names == ["DataQualityBaseline", "ModelQualityBaseline", "RegisterModel"]
    arguments = step(plain, "RegisterModel")["Arguments"]
    assert set(arguments["ModelMetrics"]) == {"ModelQuality", "ModelDataQuality"}
    assert set(arguments["DriftCheckBaselines"]) == {"ModelQuality", "ModelDataQuality"}
    command = step(plain, "Preprocess")["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert not [a for a in command if a.startswith(("--clarify", "--shap"))]


# --- MLflow -------------------------------------------------------------------------------


def test_each_execution_is_tracked_in_the_pipelines_mlflow_experiment(
    definition: dict[str, Any],
) -> None:
    assert definition["MlflowConfig"] == {
        "MlflowResourceArn": MLFLOW,
        "MlflowExperimentName": "churn-dev-training",
    }


def test_package_names_its_mlflow_server_experiment_and_execution(
    definition: dict[str, Any],
) -> None:
    metadata = step(definition, "RegisterModel")["Arguments"]["CustomerMetadataProperties"]
    assert metadata == dict(
        zip(
            METADATA_KEYS,
            [
                MLFLOW,
                {"Get": "Execution.PipelineName"},
                {"Get": "Execution.PipelineExecutionArn"},
            ],
            strict=True,
        )
    )


def test_without_a_tracking_server_nothing_is_tracked(plain: dict[str, Any]) -> None:
    assert plain["MlflowConfig"] is None
    assert "CustomerMetadataProperties" not in step(plain, "RegisterModel")["Arguments"]


def test_tracking_server_arn_is_derived_from_its_name() -> None:
    assert (
        mlflow_tracking_server_arn(
            partition="aws", region="eu-west-1", account="111122223333", name="ml-platform-dev"
        )
        == MLFLOW
    )


def test_a_bad_tracking_server_arn_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^mlflow_tracking_server_arn='ml-platform-dev' "):
        build_training_pipeline(**build_arguments(mlflow_tracking_server_arn="ml-platform-dev"))


# --- serving instance types ---------------------------------------------------------------


def test_a_model_served_nowhere_registers_no_instance_type(plain: dict[str, Any]) -> None:
    inference = step(plain, "RegisterModel")["Arguments"]["InferenceSpecification"]
    assert "SupportedRealtimeInferenceInstanceTypes" not in inference
    assert "SupportedTransformInstanceTypes" not in inference


class _Serving:
    """The two members of a ``ServingSpec`` :meth:`ServingInstanceTypes.of` reads."""

    def __init__(self, kind: str, *types: str) -> None:
        self.kind = type("Kind", (), {"value": kind})()
        self.types = types

    def instance_types(self) -> list[tuple[str, str]]:
        return [(f"variants[{i}].instance_type", t) for i, t in enumerate(self.types)]


def test_serving_types_are_the_union_over_environments_by_kind() -> None:
    serving = ServingInstanceTypes.of(
        [
            _Serving("real_time", "ml.m5.large", "ml.c6i.large"),
            None,
            _Serving("real_time", "ml.m5.large", "ml.g5.xlarge"),
            _Serving("async", "ml.g5.xlarge"),
            _Serving("batch", "ml.m5.xlarge"),
            _Serving("serverless"),
        ]
    )
    assert serving == ServingInstanceTypes(
        real_time=("ml.c6i.large", "ml.g5.xlarge", "ml.m5.large"), transform=("ml.m5.xlarge",)
    )


# --- Feature Store as the source ------------------------------------------------------------


def test_feature_store_dataset_reads_labels_and_feeds_preprocess(
    from_feature_store: dict[str, Any],
) -> None:
    dataset = step(from_feature_store, "FeatureStoreDataset")
    assert from_feature_store["Steps"][0]["Name"] == "FeatureStoreDataset"
    inputs = {i["InputName"]: i["S3Input"] for i in dataset["Arguments"]["ProcessingInputs"]}
    assert inputs["labels"]["S3Uri"] == {"Get": f"Parameters.{INPUT_DATA_URI}"}
    assert inputs["code"]["S3Uri"] == "s3://ml-platform-dev-artifacts/code/feature_store_dataset.py"
    (raw,) = [
        i
        for i in step(from_feature_store, "Preprocess")["Arguments"]["ProcessingInputs"]
        if i["InputName"] == "raw"
    ]
    assert raw["S3Input"]["S3Uri"] == {
        "Get": "Steps.FeatureStoreDataset.ProcessingOutputConfig.Outputs['dataset'].S3Output.S3Uri"
    }


def test_feature_store_dataset_names_the_group_and_its_features(
    from_feature_store: dict[str, Any],
) -> None:
    command = step(from_feature_store, "FeatureStoreDataset")["Arguments"]["AppSpecification"][
        "ContainerArguments"
    ]

    def value(option: str) -> Any:
        return command[command.index(option) + 1]

    assert value("--feature-group") == GROUP.name
    assert value("--features") == "tenure_months,contract_type"
    assert (value("--record-identifier"), value("--event-time")) == ("customer_id", "event_time")
    assert value("--event-time-type") == "string"
    assert value("--target-column") == "churned"
    assert value("--kms-key-arn") == KMS_KEY


def test_feature_store_job_calls_athena_from_the_vpc(from_feature_store: dict[str, Any]) -> None:
    network = step(from_feature_store, "FeatureStoreDataset")["Arguments"]["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is False
    assert network["VpcConfig"] == {
        "SecurityGroupIds": list(SECURITY_GROUPS),
        "Subnets": list(SUBNETS),
    }


def test_a_feature_group_source_needs_its_script() -> None:
    with pytest.raises(ValueError, match=r"^code_uris\.feature_store_dataset=None "):
        build_training_pipeline(**build_arguments(feature_group=GROUP))


def test_feature_group_source_of_a_catalogue_group_skips_identifier_and_time() -> None:
    from platform_config.feature_group_spec import FeatureGroupSpec

    spec = FeatureGroupSpec.model_validate(
        {
            "name": "customer-activity",
            "record_identifier": "customer_id",
            "event_time": "event_time",
            "features": [
                {"name": "customer_id", "type": "string"},
                {"name": "event_time", "type": "fractional"},
                {"name": "tenure_months", "type": "integral"},
                {"name": "contract_type", "type": "string"},
            ],
        }
    )
    source = FeatureGroupSource.of(spec, name_prefix="ml-platform-dev")
    assert source.name == "ml-platform-dev-customer-activity"
    assert source.event_time_type == "fractional"
    assert source.features == (("tenure_months", "integral"), ("contract_type", "string"))
    assert source.only(["contract_type"]).features == (("contract_type", "string"),)

"""The built-in ``training`` kind: what a stack passes reaches the definition, the
baselines it declares, and the IAM its jobs need (Clarify shadow endpoints, offline stores)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack

from pipeline_definitions.pipeline_arguments import FeatureGroupSource, ServingInstanceTypes
from pipeline_definitions.pipeline_kinds import BUILT_IN_KINDS, clarify_checks
from pipeline_definitions.training_pipeline import StepCodeUris
from platform_config import load_environment
from platform_config.pipeline_spec import PipelineSpec, TrainingPipelineSpec
from tests.pipeline_definitions.test_training_pipeline import (
    KMS_KEY,
    MLFLOW,
    ROLE,
    SECURITY_GROUPS,
    SUBNETS,
    all_steps,
)

CONFIG = load_environment("dev")
CHURN = CONFIG.models[0]
GROUPS = {
    g.name: FeatureGroupSource.of(g, name_prefix=CONFIG.name_prefix) for g in CONFIG.feature_groups
}


def stack_arguments(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments a stack gives a kind's builder (``DefinitionBuilder``)."""
    arguments: dict[str, Any] = {
        "pipeline_name": "ml-platform-dev-churn-prediction",
        "region": "eu-west-1",
        "role_arn": ROLE,
        "default_bucket": "ml-platform-dev-artifacts",
        "input_data_uri": "s3://ml-platform-dev-datasets/churn-prediction/training/",
        "model_package_group_name": "ml-platform-dev-churn-prediction",
        "kms_key_arn": KMS_KEY,
        "subnet_ids": SUBNETS,
        "security_group_ids": SECURITY_GROUPS,
        "code_uris": StepCodeUris.under("s3://ml-platform-dev-code/pipelines/steps/abc"),
        "serving": ServingInstanceTypes.of([CHURN.serving]),
        "monitoring": CHURN.monitoring,
        "mlflow_tracking_server_arn": MLFLOW,
        "feature_groups": GROUPS,
    }
    arguments.update(overrides)
    return arguments


def test_the_training_kind_registers_every_monitors_baseline_the_others_none() -> None:
    assert BUILT_IN_KINDS["training"].baselines == {
        "data_quality",
        "model_quality",
        "bias",
        "explainability",
    }
    assert BUILT_IN_KINDS["automl"].baselines == frozenset()
    assert BUILT_IN_KINDS["fine_tuning"].baselines == frozenset()
    # What the configuration checks the monitors against: each model's own kind.
    for model in CONFIG.models:
        assert model.pipeline.baselines == BUILT_IN_KINDS[model.pipeline.kind].baselines


def test_the_churn_models_monitors_ask_for_both_clarify_checks() -> None:
    checks = clarify_checks(CHURN.monitoring)
    assert (checks.bias_facet, checks.bias_facet_values) == ("contract_type", ("month-to-month",))
    assert checks.shap_samples == CHURN.monitoring.shap_samples
    assert not clarify_checks(None).any


def test_a_stacks_arguments_reach_the_churn_definition() -> None:
    definition = json.loads(BUILT_IN_KINDS["training"].build(CHURN.pipeline, **stack_arguments()))
    steps = all_steps(definition)
    assert {"ModelBiasCheck", "ModelExplainabilityCheck"} <= set(steps)
    assert definition["MlflowConfig"]["MlflowResourceArn"] == MLFLOW
    inference = steps["RegisterModel"]["Arguments"]["InferenceSpecification"]
    # Every variant of the churn endpoint, shadow variants included (issue 11, defect 6).
    assert CHURN.serving is not None
    served = sorted({instance_type for _, instance_type in CHURN.serving.instance_types()})
    assert inference["SupportedRealtimeInferenceInstanceTypes"] == served


def test_a_feature_group_source_becomes_the_first_step() -> None:
    spec = TrainingPipelineSpec(
        target_column="churned",
        training_source={"feature_group": "customer-activity", "features": ["contract_type"]},
    )
    definition = json.loads(BUILT_IN_KINDS["training"].build(spec, **stack_arguments()))
    command = all_steps(definition)["FeatureStoreDataset"]["Arguments"]["AppSpecification"][
        "ContainerArguments"
    ]
    assert command[command.index("--feature-group") + 1] == "ml-platform-dev-customer-activity"
    assert command[command.index("--features") + 1] == "contract_type"


def test_a_source_group_the_stack_did_not_pass_is_a_one_line_error() -> None:
    spec = TrainingPipelineSpec(training_source={"feature_group": "customer-activity"})
    with pytest.raises(ValueError, match=r"^training_source\.feature_group='customer-activity'"):
        BUILT_IN_KINDS["training"].build(spec, **stack_arguments(feature_groups={}))


def statements(specs: list[PipelineSpec]) -> dict[str, dict[str, Any]]:
    stack = Stack(App(), "Pipelines", env={"account": "111122223333", "region": "eu-west-1"})
    policy_statements = BUILT_IN_KINDS["training"].policy_statements
    assert policy_statements is not None
    return {s.sid: stack.resolve(s.to_json()) for s in policy_statements(stack, specs)}


def test_clarify_may_only_manage_its_own_shadow_endpoints() -> None:
    found = statements([CHURN.pipeline])
    assert set(found) == {"ClarifyShadowEndpoints"}
    resources = json.dumps(found["ClarifyShadowEndpoints"]["Resource"])
    assert len(found["ClarifyShadowEndpoints"]["Resource"]) == 2
    assert ":endpoint/clarify-shadow*" in resources
    assert ":endpoint-config/clarify-shadow*" in resources
    assert "sagemaker:InvokeEndpoint" in found["ClarifyShadowEndpoints"]["Action"]


def test_a_feature_group_source_may_query_that_groups_table_only() -> None:
    spec = TrainingPipelineSpec(training_source={"feature_group": "customer-activity"})
    found = statements([CHURN.pipeline, spec])
    assert set(found) >= {
        "DescribeSourceFeatureGroups",
        "QueryOfflineStores",
        "ReadOfflineStoreTables",
        "LakeFormationDataAccess",
    }
    text = json.dumps(found)
    assert "feature-group/*-customer-activity" in text
    assert "table/sagemaker_featurestore/*customer_activity_*" in text
    assert "workgroup/primary" in text
    assert "transaction" not in text

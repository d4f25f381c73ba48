"""Each model's pipelines (stacks/model_pipelines.py): its SageMaker pipeline, built for the
environment's region, its role, its schedule; the step code they share (automation stack)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from ml_constructs import SageMakerPipeline
from platform_config import ConfigError
from platform_config.pipeline_spec import PipelineKind
from stacks import build_platform
from tests.conftest import (
    ENVIRONMENTS,
    SynthesizedPlatform,
    automation_template,
    cdk_context,
    logical_id_of,
    model_template,
)

#: Logical ids of the pipelines in each model's stack: a refactor must not replace a
#: pipeline (its executions and their history would go with it).
TRAINING_PIPELINE = "PipelinesTrainingBCBE1A8F"
BATCH_PIPELINE = "ServingBatchPipeline42FD4D87"

#: Step names and types each kind of pipeline must have.
STEP_TYPES = {
    PipelineKind.TRAINING: {
        "Preprocess": "Processing",
        "Train": "Training",
        "Evaluate": "Processing",
        "CheckAucThreshold": "Condition",
        "DataQualityBaseline": "QualityCheck",
        "ModelQualityBaseline": "QualityCheck",
        "RegisterModel": "RegisterModel",
        "AucBelowThreshold": "Fail",
    },
    PipelineKind.AUTOML: {
        "AutoML": "AutoML",
        "CheckAucThreshold": "Condition",
        "RegisterModel": "RegisterModel",
        "AucBelowThreshold": "Fail",
    },
    PipelineKind.FINE_TUNING: {"FineTune": "Training", "RegisterModel": "RegisterModel"},
}
#: The steps a training pipeline adds for the Clarify monitors of its model.
CLARIFY_STEPS = {
    "CreateModel": "Model",
    "ModelBiasCheck": "ClarifyCheck",
    "ModelExplainabilityCheck": "ClarifyCheck",
}


def _pipelines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pipelines of a template, by logical id."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SageMaker::Pipeline"
    }


def _marker(intrinsic: dict[str, Any]) -> str:
    """A deploy-time value of the definition, as readable text."""
    if "Fn::GetStackOutput" in intrinsic:
        output = intrinsic["Fn::GetStackOutput"]
        return f"<{output['StackName']}:{output['OutputName']}>"
    if "Fn::ImportValue" in intrinsic:
        return f"<import:{intrinsic['Fn::ImportValue']}>"
    return f"<{re.sub(r'[^A-Za-z0-9:]', '', json.dumps(intrinsic))}>"


def definition_of(
    platform: SynthesizedPlatform, model: str, logical_id: str = TRAINING_PIPELINE
) -> dict[str, Any]:
    """The pipeline's definition, deploy-time values shown as ``<stack:output>``."""
    resource = model_template(platform, model)["Resources"][logical_id]
    body = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    if isinstance(body, dict):
        parts = body["Fn::Join"][1]
        body = "".join(part if isinstance(part, str) else _marker(part) for part in parts)
    return json.loads(body)  # type: ignore[no-any-return]


def all_steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            found[item["Name"]] = item
            visit(item.get("Arguments", {}).get("IfSteps", []))
            visit(item.get("Arguments", {}).get("ElseSteps", []))

    visit(definition["Steps"])
    return found


def models_of_kind(kind: PipelineKind) -> list[str]:
    from platform_config import load_environment

    return [m.name for m in load_environment("sandbox").models if m.pipeline.kind == kind.value]


# --- the pipelines ----------------------------------------------------------------------


def test_logical_ids_of_pipelines_are_pinned(sandbox: SynthesizedPlatform) -> None:
    pipelines = {
        (model.name, logical_id): resource["Properties"]["PipelineName"]
        for model in sandbox.config.models
        for logical_id, resource in _pipelines(model_template(sandbox, model.name)).items()
    }
    assert pipelines == {
        **{
            (model.name, TRAINING_PIPELINE): f"ml-platform-sandbox-{model.name}"
            for model in sandbox.config.models
        },
        ("lead-scoring", BATCH_PIPELINE): "ml-platform-sandbox-lead-scoring-batch",
    }


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_one_pipeline_per_model_named_after_environment_and_model(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    for model in platform.config.models:
        batch = model.serving is not None and model.serving.kind.value == "batch"
        template = platform.template(platform.model(model.name).model)
        template.resource_count_is("AWS::SageMaker::Pipeline", 2 if batch else 1)
        # Each model's pipelines run as the model's own role, in the model's stack.
        role = platform.model(model.name).model.pipelines.role
        template.has_resource_properties(
            "AWS::SageMaker::Pipeline",
            {
                "PipelineName": f"ml-platform-{env_name}-{model.name}",
                "RoleArn": {"Fn::GetAtt": [logical_id_of(role), "Arn"]},
            },
        )
        template.has_resource_properties(
            "AWS::IAM::Role",
            {
                "AssumeRolePolicyDocument": Match.object_like(
                    {
                        "Statement": [
                            Match.object_like({"Principal": {"Service": "sagemaker.amazonaws.com"}})
                        ]
                    }
                ),
                "Description": f"ml-platform-{env_name}-{model.name}: its pipelines' jobs",
            },
        )


@pytest.mark.parametrize(
    ("kind", "model"),
    [(kind, model) for kind in PipelineKind for model in models_of_kind(kind)],
)
def test_definition_has_the_steps_of_its_kind(
    sandbox: SynthesizedPlatform, kind: PipelineKind, model: str
) -> None:
    steps = all_steps(definition_of(sandbox, model))
    expected = dict(STEP_TYPES[kind])
    monitoring = next(m for m in sandbox.config.models if m.name == model).monitoring
    if kind is PipelineKind.TRAINING and (monitoring.bias or monitoring.explainability):
        expected.update(CLARIFY_STEPS)  # churn-prediction's monitors need both checks
    assert {name: step["Type"] for name, step in steps.items()} == expected


@pytest.mark.parametrize("model", [m for k in PipelineKind for m in models_of_kind(k)])
def test_definition_registers_pending_approval_in_the_models_group(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    arguments = all_steps(definition_of(sandbox, model))["RegisterModel"]["Arguments"]
    assert arguments["ModelPackageGroupName"] == f"ml-platform-sandbox-{model}"
    assert arguments["ModelApprovalStatus"] == "PendingManualApproval"


@pytest.mark.parametrize("model", [m for k in PipelineKind for m in models_of_kind(k)])
def test_jobs_run_as_the_execution_role_in_the_vpc_with_the_workload_key(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    text = json.dumps(definition_of(sandbox, model))
    role = f"<Fn::GetAtt:{logical_id_of(sandbox.model(model).model.pipelines.role)}Arn>"
    key = "<ml-platform-sandbox-data:PublishOutputFnGetAttKeysWorkloadKey"
    group = "<ml-platform-sandbox-network:PublishOutputFnGetAttNetworkWorkloadSecurityGroup"
    subnet = "<ml-platform-sandbox-network:PublishOutputRefNetworkVpcIsolatedSubnet"
    for value in (role, key, group, subnet):
        assert value in text, value
    # No placeholder of the build survives, and nothing names another account or key.
    assert "cdk-placeholder" not in text
    assert "0cdc0ffee" not in text
    assert not re.search(r"arn:aws:kms:[^\"<]*:key/", text)


def test_training_pipeline_trains_xgboost_on_spot_with_the_shipped_scripts(
    sandbox: SynthesizedPlatform,
) -> None:
    steps = all_steps(definition_of(sandbox, "churn-prediction"))
    train = steps["Train"]["Arguments"]
    assert "sagemaker-xgboost:1.7-1" in train["AlgorithmSpecification"]["TrainingImage"]
    assert train["EnableManagedSpotTraining"] is True
    prefix = sandbox.platform.automation.step_code_prefix
    assert re.fullmatch(
        r"s3://mlp-sandbox-111111111111-eu-west-1-code/pipelines/steps/[0-9a-f]{16}", prefix
    )
    for step, script in (("Preprocess", "preprocess.py"), ("Evaluate", "evaluate.py")):
        code = [i for i in steps[step]["Arguments"]["ProcessingInputs"] if i["InputName"] == "code"]
        assert code[0]["S3Input"]["S3Uri"] == f"{prefix}/{script}"
    arguments = steps["Preprocess"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--target-column") + 1] == "churned"
    definition = definition_of(sandbox, "churn-prediction")
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert parameters["AucThreshold"] == 0.8
    assert parameters["InputDataUri"] == (
        "s3://mlp-sandbox-111111111111-eu-west-1-datasets/churn-prediction/training/"
    )


def test_distributed_training_shards_the_data_over_its_instances(
    sandbox: SynthesizedPlatform,
) -> None:
    train = all_steps(definition_of(sandbox, "fraud-detection"))["Train"]["Arguments"]
    assert train["ResourceConfig"]["InstanceCount"] == 2
    (channel,) = [c for c in train["InputDataConfig"] if c["ChannelName"] == "train"]
    assert channel["DataSource"]["S3DataSource"]["S3DataDistributionType"] == "ShardedByS3Key"


def test_automl_pipeline_ensembles_the_configured_target(sandbox: SynthesizedPlatform) -> None:
    automl = all_steps(definition_of(sandbox, "lead-scoring"))["AutoML"]["Arguments"]
    assert automl["AutoMLJobConfig"]["Mode"] == "ENSEMBLING"
    assert automl["InputDataConfig"][0]["TargetAttributeName"] == "converted"
    assert automl["AutoMLJobConfig"]["CompletionCriteria"]["MaxAutoMLJobRuntimeInSeconds"] == 14400


def test_fine_tuning_pipeline_trains_on_trainium_with_torchrun(
    sandbox: SynthesizedPlatform,
) -> None:
    tune = all_steps(definition_of(sandbox, "support-assistant"))["FineTune"]["Arguments"]
    assert tune["ResourceConfig"]["InstanceType"] == "ml.trn1.32xlarge"
    assert "training-neuronx" in tune["AlgorithmSpecification"]["TrainingImage"]
    assert tune["HyperParameters"]["sagemaker_torch_distributed_enabled"] == "true"
    assert tune["HyperParameters"]["max_epochs"] == "2"


def test_definitions_are_built_for_the_environments_region(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    prod = json.dumps(definition_of(platforms["prod"], "churn-prediction"))
    assert ".dkr.ecr.us-east-1.amazonaws.com/" in prod
    assert ".dkr.ecr.eu-west-1." not in prod


# --- step code --------------------------------------------------------------------------


def _all_dependencies(stack: cdk.Stack) -> set[cdk.Stack]:
    found: set[cdk.Stack] = set()
    for dependency in stack.dependencies:
        found |= {dependency, *_all_dependencies(dependency)}
    return found


def test_step_scripts_are_deployed_to_the_code_bucket_under_their_hash(
    sandbox: SynthesizedPlatform,
) -> None:
    automation = sandbox.platform.automation
    template = sandbox.template(automation)
    prefix = automation.step_code_prefix.split("/", 3)[3]
    template.has_resource_properties(
        "Custom::CDKBucketDeployment",
        {
            "DestinationBucketName": "mlp-sandbox-111111111111-eu-west-1-code",
            "DestinationBucketKeyPrefix": prefix,
            "Prune": False,
            "RetainOnDelete": True,
        },
    )
    # Every model's pipelines are created after the scripts they name are in the bucket.
    for model in sandbox.config.models:
        assert automation in _all_dependencies(sandbox.model(model.name).model), model.name


def test_deployment_handler_logs_to_an_encrypted_log_group_with_the_retention(
    sandbox: SynthesizedPlatform,
) -> None:
    template = automation_template(sandbox)
    logs = sandbox.platform.automation.step_code_logs
    log_group = template["Resources"][logical_id_of(logs)]["Properties"]
    handlers = [
        r["Properties"].get("LoggingConfig")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert {"LogGroup": {"Ref": logical_id_of(logs)}} in handlers
    assert log_group["RetentionInDays"] == 30 and "KmsKeyId" in log_group


# --- schedules and permissions ----------------------------------------------------------


def test_scheduled_models_get_a_rule_that_starts_their_pipeline(
    sandbox: SynthesizedPlatform,
) -> None:
    scheduled = [m for m in sandbox.config.models if m.pipeline.schedule]
    assert scheduled
    for model in sandbox.config.models:
        template = sandbox.template(sandbox.model(model.name).model)
        template.resource_count_is("AWS::Events::Rule", 1 if model.pipeline.schedule else 0)
    for model in scheduled:
        template = sandbox.template(sandbox.model(model.name).model)
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "ScheduleExpression": model.pipeline.schedule,
                "State": "ENABLED",
                "Targets": [
                    {
                        "Arn": "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/"
                        f"ml-platform-sandbox-{model.name}",
                        "Id": "Target0",
                        "RoleArn": Match.object_like({"Fn::GetAtt": Match.any_value()}),
                        "RetryPolicy": {
                            "MaximumRetryAttempts": 3,
                            "MaximumEventAgeInSeconds": 3600,
                        },
                    }
                ],
            },
        )
        template.has_resource_properties(
            "AWS::IAM::Policy",
            {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": "sagemaker:StartPipelineExecution",
                            "Effect": "Allow",
                            "Resource": "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/"
                            f"ml-platform-sandbox-{model.name}",
                        }
                    ]
                }
            },
        )


def _jobs_statements(platform: SynthesizedPlatform, model: str) -> dict[str, dict[str, Any]]:
    """The statements, by Sid, of the policy only ``model``'s kind of pipeline gets."""
    policies = platform.template(platform.model(model).model).find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp("JobsPolicy")}}
    )
    return {
        statement["Sid"]: statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    }


def test_execution_role_may_run_autopilot_and_read_only_the_pinned_base_models(
    sandbox: SynthesizedPlatform,
) -> None:
    # Each model's role gets only what its own kind needs: AutoML runs Autopilot jobs, fine
    # tuning reads its pinned base model; a training pipeline needs neither.
    assert set(_jobs_statements(sandbox, "lead-scoring")) == {
        "RunAutoMLJobs",
        "ListAutoMLCandidates",
    }
    assert set(_jobs_statements(sandbox, "support-assistant")) == {
        "ReadFoundationModels",
        "ListFoundationModels",
    }
    # Training runs Clarify's checks, which make shadow endpoints of their own (issue 13).
    assert set(_jobs_statements(sandbox, "churn-prediction")) == {"ClarifyShadowEndpoints"}
    automl = _jobs_statements(sandbox, "lead-scoring")["RunAutoMLJobs"]
    assert "sagemaker:CreateAutoMLJob" in automl["Action"]
    reads = _jobs_statements(sandbox, "support-assistant")["ReadFoundationModels"]
    assert reads["Action"] == "s3:GetObject"
    assert all(
        r.startswith("arn:aws:s3:::jumpstart-") and ("llama-3-2-1b" in r or "sourcedir" in r)
        for r in reads["Resource"]
    )


# --- the construct on its own -----------------------------------------------------------


def _bare_stack() -> cdk.Stack:
    return cdk.Stack(
        cdk.App(), "Bare", env=cdk.Environment(account="111111111111", region="eu-west-1")
    )


def test_a_definition_over_the_inline_limit_is_deployed_to_s3() -> None:
    stack = _bare_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    bucket = s3.Bucket.from_bucket_name(stack, "Code", "code-bucket")
    pipeline = SageMakerPipeline(
        stack,
        "Big",
        pipeline_name="ml-platform-test-big",
        role=role,
        definition='{"Version": "2020-12-01", "Steps": [], "Note": "ROLE"}',
        definition_substitutions={"ROLE": role.role_arn},
        definition_bucket=bucket,
        inline_limit=10,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::Pipeline",
        {
            "PipelineName": "ml-platform-test-big",
            "PipelineDefinition": {
                "PipelineDefinitionS3Location": {
                    "Bucket": "code-bucket",
                    "Key": Match.string_like_regexp(
                        r"^pipeline-definitions/ml-platform-test-big/[0-9a-f]{16}\.json$"
                    ),
                }
            },
        },
    )
    template.resource_count_is("Custom::CDKBucketDeployment", 1)
    assert pipeline.definition_deployment is not None


def test_a_small_definition_is_inline_and_needs_no_bucket() -> None:
    stack = _bare_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    SageMakerPipeline(
        stack,
        "Small",
        pipeline_name="p",
        role=role,
        definition='{"Steps": []}',
        max_parallel_steps=4,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::Pipeline",
        {
            "PipelineDefinition": {"PipelineDefinitionBody": '{"Steps": []}'},
            "ParallelismConfiguration": {"MaxParallelExecutionSteps": 4},
        },
    )
    template.resource_count_is("Custom::CDKBucketDeployment", 0)


def test_a_large_definition_without_a_bucket_is_refused() -> None:
    stack = _bare_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(ValueError, match="over inline_limit=5: give definition_bucket"):
        SageMakerPipeline(
            stack, "P", pipeline_name="p", role=role, definition='{"Steps": []}', inline_limit=5
        )


def test_a_pipeline_takes_one_schedule() -> None:
    stack = _bare_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    pipeline = SageMakerPipeline(stack, "P", pipeline_name="p", role=role, definition="{}")
    pipeline.add_schedule(events.Schedule.expression("rate(1 day)"))
    with pytest.raises(ValueError, match="p already has a schedule"):
        pipeline.add_schedule(events.Schedule.expression("rate(2 days)"))


def test_a_base_model_not_published_in_the_region_is_a_one_line_config_error(
    sandbox: SynthesizedPlatform, tmp_path: Path
) -> None:
    tuned = next(
        m for m in sandbox.config.models if m.pipeline.kind == PipelineKind.FINE_TUNING.value
    )
    config = sandbox.config.model_copy(
        update={"region": "af-south-1", "models": (tuned.model_copy(update={"serving": None}),)}
    )
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    with pytest.raises(ConfigError) as raised:
        build_platform(app, config)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        "models.yaml: models[0].pipeline: cannot be built for environment sandbox"
        " (region af-south-1): image huggingface-pytorch-training-neuronx:"
    ), message
    assert "is not published in region 'af-south-1'" in message


# --- batch inference --------------------------------------------------------------------


def _batch_definition(platform: SynthesizedPlatform) -> dict[str, Any]:
    return definition_of(platform, "lead-scoring", BATCH_PIPELINE)


def test_batch_served_model_gets_a_batch_inference_pipeline_with_its_served_model(
    sandbox: SynthesizedPlatform,
) -> None:
    definition = _batch_definition(sandbox)
    parameters = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert parameters["InputDataUri"] == (
        "s3://mlp-sandbox-111111111111-eu-west-1-datasets/lead-scoring/batch-input/"
    )
    # The transform model of the model's serving: the released package (the release record).
    serving = sandbox.model("lead-scoring").model.serving
    assert serving is not None and serving.batch_model is not None
    model_id = logical_id_of(serving.batch_model.model.model)
    assert parameters["ModelName"] == f"<Fn::GetAtt:{model_id}ModelName>"
    (step,) = definition["Steps"]
    assert step["Type"] == "Transform"
    output = step["Arguments"]["TransformOutput"]
    assert output["KmsKeyId"].startswith("<ml-platform-sandbox-data:")
    assert (
        json.dumps(output["S3OutputPath"]).count(
            "mlp-sandbox-111111111111-eu-west-1-datasets/ml-platform-sandbox-lead-scoring-batch"
        )
        == 1
    )
    assert "cdk-placeholder" not in json.dumps(definition)


def test_batch_models_role_may_write_the_batch_pipelines_predictions(
    sandbox: SynthesizedPlatform,
) -> None:
    serving = sandbox.model("lead-scoring").model.serving
    assert serving is not None
    role_id = logical_id_of(serving.role.role)
    policies = [
        policy
        for policy in model_template(sandbox, "lead-scoring")["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy"
        and {"Ref": role_id} in policy["Properties"]["Roles"]
    ]
    assert (
        "mlp-sandbox-111111111111-eu-west-1-datasets/ml-platform-sandbox-lead-scoring-batch/*"
        in json.dumps(policies)
    )

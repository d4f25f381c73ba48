"""The models' SageMaker pipelines, their step code and their schedules."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from aws_cdk import CfnResource, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from ml_constructs import SageMakerPipeline, acknowledge, acknowledge_wildcards
from pipeline_definitions.batch_pipeline import build_batch_pipeline
from pipeline_definitions.pipeline_arguments import (
    FeatureGroupSource,
    ServingInstanceTypes,
    mlflow_tracking_server_arn,
)
from pipeline_definitions.pipeline_kinds import PipelineKindPlugin, pipeline_kind
from pipeline_definitions.training_pipeline import StepCodeUris
from platform_config import ConfigError, EnvironmentConfig
from platform_config.loader import CATALOGUE_FILE
from platform_config.pipeline_spec import PipelineSpec
from stacks.data_stack import BUCKET_KINDS, DataStack
from stacks.network_stack import NetworkStack
from stacks.registry_stack import RegistryStack
from stacks.removal import log_retention, removal_policy
from stacks.serving_stack import ServingStack, batch_pipeline_name
from stacks.workspace_stack import WorkspaceStack

#: The scripts that run inside the SageMaker containers, shipped to the code bucket.
STEPS_DIR = Path(__file__).resolve().parent.parent / "pipeline_definitions" / "steps"

#: Where the step scripts land in the code bucket: one prefix per version of the scripts,
#: so that a running execution keeps the code its definition names.
STEP_CODE_PREFIX = "pipelines/steps"


class PipelinesStack(Stack):
    """One SageMaker pipeline per catalogue model, built at synth for this region.

    The step scripts (``pipeline_definitions/steps``) are copied at deploy time to the
    pipeline code bucket under ``pipelines/steps/<hash of the scripts>/``; the definitions
    name them there by ``s3://`` URI. Each pipeline, ``ml-platform-<env>-<model>``, runs
    as the workspace's execution role, on the isolated subnets in the workload security
    group, with the workload key on volumes and outputs, writes under the artifacts bucket
    and registers in the model's package group. A model with ``pipeline.schedule`` gets an
    EventBridge rule that starts its pipeline.

    Attributes
    ----------
    pipelines:
        :class:`SageMakerPipeline` by model name.
    step_code:
        The ``BucketDeployment`` of the step scripts.
    step_code_logs:
        Log group of that deployment's handler (logs key, configured retention).
    step_code_prefix:
        ``s3://`` prefix of this version of the scripts.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        registry: RegistryStack,
        workspace: WorkspaceStack,
        serving: ServingStack | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        code_bucket = data.import_bucket(self, "PipelineCode")
        scripts = sorted(path for path in STEPS_DIR.glob("*.py"))
        digest = hashlib.sha256()
        for path in scripts:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        prefix = f"{STEP_CODE_PREFIX}/{digest.hexdigest()[:16]}"
        self.step_code_prefix = f"s3://{config.bucket_name(BUCKET_KINDS['PipelineCode'])}/{prefix}"
        self.step_code_logs = logs.LogGroup(
            self,
            "StepCodeDeploymentLogs",
            encryption_key=data.keys.logs,
            retention=log_retention(config),
            removal_policy=removal_policy(config),
        )
        self.step_code = s3_deployment.BucketDeployment(
            self,
            "StepCode",
            log_group=self.step_code_logs,
            sources=[s3_deployment.Source.asset(str(STEPS_DIR), exclude=["*", "!*.py"])],
            destination_bucket=code_bucket,
            destination_key_prefix=prefix,
            # Earlier versions stay for executions that still run them.
            prune=False,
            retain_on_delete=True,
        )
        code_uris = StepCodeUris.under(self.step_code_prefix)
        # Issue 13: what the builders need beyond the environment (docs/retraining.md).
        feature_groups = {
            group.name: FeatureGroupSource.of(group, name_prefix=config.name_prefix)
            for group in config.feature_groups
        }
        mlflow_arn = (
            mlflow_tracking_server_arn(
                partition="aws",
                region=config.region,
                account=config.account,
                name=config.name_prefix,
            )
            if config.mlflow.enabled
            else None
        )

        role = workspace.execution_role.role
        net = network.network
        subnets = [subnet.subnet_id for subnet in net.subnets.subnets]
        # The definitions are built with placeholders that pass the builders' checks,
        # replaced by the deploy-time values (role, key, subnets, security group).
        placeholders = _Placeholders(config, subnet_count=len(subnets))
        substitutions = {
            placeholders.role_arn: role.role_arn,
            placeholders.kms_key_arn: data.keys.workload.key_arn,
            placeholders.security_group_id: net.workload_security_group.security_group_id,
            **dict(zip(placeholders.subnet_ids, subnets, strict=True)),
        }

        self.pipelines: dict[str, SageMakerPipeline] = {}
        for index, model in enumerate(config.models):
            pipeline_name = f"{config.name_prefix}-{model.name}"
            definition = _definition_or_config_error(
                config,
                index,
                model.pipeline,
                pipeline_name=pipeline_name,
                region=config.region,
                role_arn=placeholders.role_arn,
                default_bucket=config.bucket_name(BUCKET_KINDS["ModelArtifacts"]),
                input_data_uri=(
                    f"s3://{config.bucket_name(BUCKET_KINDS['Datasets'])}/{model.name}/training/"
                ),
                model_package_group_name=registry.model_registry.groups[model.name].group_name,
                kms_key_arn=placeholders.kms_key_arn,
                subnet_ids=placeholders.subnet_ids,
                security_group_ids=(placeholders.security_group_id,),
                code_uris=code_uris,
                serving=ServingInstanceTypes.of([model.serving]),
                monitoring=model.monitoring,
                mlflow_tracking_server_arn=mlflow_arn,
                feature_groups=feature_groups,
            )
            pipeline = SageMakerPipeline(
                self,
                model.name,
                pipeline_name=pipeline_name,
                role=role,
                definition=definition,
                definition_substitutions=substitutions,
                description=f"{model.pipeline.kind} pipeline of {model.name}: {model.description}"[
                    :3072
                ],
                definition_bucket=code_bucket,
                deployment_log_group=self.step_code_logs,
            )
            # The scripts must be in place before the first execution can start.
            pipeline.pipeline.node.add_dependency(self.step_code)
            if model.pipeline.schedule is not None:
                pipeline.add_schedule(
                    events.Schedule.expression(model.pipeline.schedule),
                    description=f"Retrains {model.name}: starts {pipeline_name}"
                    f" {model.pipeline.schedule}",
                )
                _acknowledge_schedule_role(pipeline)
            self.pipelines[model.name] = pipeline

        self.batch_pipelines: dict[str, SageMakerPipeline] = {}
        if serving is not None:
            self._batch_pipelines(config, serving, role, substitutions, placeholders)

        self._grant_job_extras(config, role)
        _acknowledge_deployment_handler(self)

    def _batch_pipelines(
        self,
        config: EnvironmentConfig,
        serving: ServingStack,
        role: iam.IRole,
        substitutions: dict[str, str],
        placeholders: _Placeholders,
    ) -> None:
        """One batch inference pipeline per model served by batch transform.

        It runs a transform step over ``s3://<datasets>/<model>/batch-input/`` (the
        ``InputDataUri`` parameter) with the serving stack's model, which serves the latest
        approved package (resolved at deploy time), and writes encrypted predictions under
        ``<pipeline name>/`` in the datasets bucket.
        """
        datasets = config.bucket_name(BUCKET_KINDS["Datasets"])
        for model_name, batch in sorted(serving.batch_models.items()):
            pipeline_name = batch_pipeline_name(config, model_name)
            definition = build_batch_pipeline(
                pipeline_name=pipeline_name,
                region=config.region,
                output_bucket=datasets,
                input_data_uri=f"s3://{datasets}/{model_name}/batch-input/",
                model_name=BATCH_MODEL_PLACEHOLDER,
                kms_key_arn=placeholders.kms_key_arn,
            )
            self.batch_pipelines[model_name] = SageMakerPipeline(
                self,
                f"{model_name}-batch",
                pipeline_name=pipeline_name,
                role=role,
                definition=definition,
                definition_substitutions={
                    **substitutions,
                    BATCH_MODEL_PLACEHOLDER: batch.model.model_name,
                },
                description=f"Batch inference of {model_name} with its latest approved model",
            )

    def _grant_job_extras(self, config: EnvironmentConfig, role: iam.IRole) -> None:
        """What the catalogue's kinds of pipeline need beyond the execution role.

        Each kind's plugin gives its statements (``policy_statements``) for the specs of
        that kind; the built-in ones: Autopilot (V1) job actions for ``automl``, read access
        to the pinned JumpStart objects for ``fine_tuning``.
        """
        specs: dict[str, list[PipelineSpec]] = {}
        for model in config.models:
            specs.setdefault(model.pipeline.kind, []).append(model.pipeline)
        granted: list[tuple[PipelineKindPlugin, list[iam.PolicyStatement]]] = []
        for kind in sorted(specs):
            plugin = pipeline_kind(kind)
            if plugin.policy_statements is not None:
                statements = plugin.policy_statements(self, specs[kind])
                if statements:
                    granted.append((plugin, statements))
        if not granted:
            return
        policy = iam.Policy(
            self,
            "PipelineJobsPolicy",
            statements=[statement for _, statements in granted for statement in statements],
            roles=[role],
        )
        acknowledge(
            policy,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "HIPAA.Security-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
            reason="What only this environment's kinds of pipeline need (AutoML, fine-tuning,"
            " a registered kind's own), next to them and attached to the execution role"
            " alone; no other role would share it.",
        )
        for plugin, statements in granted:
            # Without a reason, a wildcard stays an open finding for the quality gates.
            if plugin.wildcard_reason:
                acknowledge_wildcards(policy, statements, reason=plugin.wildcard_reason)


#: Stands for the serving stack's batch model in a batch definition until deploy time.
BATCH_MODEL_PLACEHOLDER = "cdk-placeholder-batch-model"


class _Placeholders:
    """Deploy-time values of the definitions, as synth-time text the builders accept."""

    def __init__(self, config: EnvironmentConfig, *, subnet_count: int) -> None:
        self.role_arn = f"arn:aws:iam::{config.account}:role/cdk-placeholder-execution-role"
        self.kms_key_arn = (
            f"arn:aws:kms:{config.region}:{config.account}:key/cdk-placeholder-workload-key"
        )
        self.security_group_id = "sg-0cdc0ffee0000000f"
        self.subnet_ids = tuple(f"subnet-0cdc0ffee{index:08x}" for index in range(subnet_count))


def _definition_or_config_error(
    config: EnvironmentConfig, index: int, spec: PipelineSpec, **arguments: Any
) -> str:
    """:func:`_definition`; what only the region can refuse becomes a configuration error.

    The configuration is checked without a region; an image or a JumpStart bucket that is
    not published in the environment's region is found here, and reported in one line.
    """
    try:
        return _definition(spec, **arguments)
    except ValueError as error:
        reason = " ".join(str(error).split())
        raise ConfigError(
            f"{CATALOGUE_FILE}: models[{index}].pipeline: cannot be built for environment"
            f" {config.name} (region {config.region}): {reason}"
        ) from None


def _definition(spec: PipelineSpec, **arguments: Any) -> str:
    """Build the definition of ``spec``'s kind of pipeline with its registered builder."""
    return pipeline_kind(spec.kind).build(spec, **arguments)


def _acknowledge_schedule_role(pipeline: SageMakerPipeline) -> None:
    role = pipeline.node.find_child("ScheduleRole")
    acknowledge(
        role,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "HIPAA.Security-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
        reason="The schedule's role may only start this one pipeline; its policy is specific"
        " to it, so no managed policy would be shared.",
    )


def _acknowledge_deployment_handler(stack: Stack) -> None:
    """Acknowledge the findings on the Lambda function ``BucketDeployment`` provides.

    CDK creates one handler per stack (a singleton) that copies the step scripts from the
    CDK assets bucket to the code bucket when the stack deploys.
    """
    for child in stack.node.children:
        if not child.node.id.startswith("Custom::CDKBucketDeployment"):
            continue
        acknowledge(
            child,
            "AwsSolutions-L1",
            reason="CDK's BucketDeployment handler: aws-cdk-lib pins its runtime and it"
            " moves forward when aws-cdk-lib is bumped; the function is not ours to change.",
        )
        acknowledge(
            child,
            "NIST.800.53.R5-LambdaInsideVPC",
            "HIPAA.Security-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
            reason="CDK's deployment handler copies the platform's own step scripts (code, not"
            " data) between two S3 buckets through AWS APIs during a deployment; it reaches no"
            " resource in the VPC, and outside it does not depend on the VPC's endpoints.",
        )
        acknowledge(
            child,
            "NIST.800.53.R5-LambdaConcurrency",
            "PCI.DSS.321-LambdaConcurrency",
            "HIPAA.Security-LambdaConcurrency",
            reason="Invoked only by CloudFormation, once per deployment of this stack; a"
            " concurrency reservation would only take capacity from the account.",
        )
        acknowledge(
            child,
            "NIST.800.53.R5-LambdaDLQ",
            "PCI.DSS.321-LambdaDLQ",
            "HIPAA.Security-LambdaDLQ",
            reason="Invoked synchronously by CloudFormation, which reports a failure as a"
            " failed deployment and rolls back; there is no asynchronous event to keep.",
        )
        acknowledge(
            child,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            reason="CDK's deployment handler uses AWSLambdaBasicExecutionRole, which only lets"
            " it write its own logs.",
        )
        acknowledge(
            child,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "HIPAA.Security-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
            reason="CDK writes the handler's grants (read the asset, write the code bucket) as"
            " the role's own policy; no other role would share it.",
        )
        # cfn-lint W3005: the DependsOn on the role beside a GetAtt of it is CDK's.
        function = child.node.default_child
        assert isinstance(function, CfnResource)
        function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        policy = child.node.find_child("ServiceRole").node.find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        document = stack.resolve(policy.document.to_json())
        acknowledge_wildcards(
            policy,
            [_statement(statement) for statement in document["Statement"]],
            reason="CDK's BucketDeployment grants: read the step-code asset in the CDK assets"
            " bucket, write and list the objects of the pipeline code bucket (and use its key).",
        )


def _statement(resolved: dict[str, Any]) -> iam.PolicyStatement:
    """A statement of a synthesized policy (intrinsics kept as tokens), for its findings."""

    def strings(value: Any) -> list[str]:
        values = value if isinstance(value, list) else [value]
        return [item if isinstance(item, str) else Token.as_string(item) for item in values]

    return iam.PolicyStatement(
        effect=iam.Effect(resolved["Effect"].upper()),
        actions=strings(resolved.get("Action", [])),
        resources=strings(resolved.get("Resource", [])),
    )

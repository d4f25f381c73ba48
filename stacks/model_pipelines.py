"""The SageMaker pipelines of one model, built at synth for the environment's region."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs import (
    SageMakerExecutionRole,
    SageMakerPipeline,
    acknowledge_inline_policy,
    acknowledge_wildcards,
)
from pipeline_definitions.definition_cache import cached_definition
from pipeline_definitions.pipeline_arguments import FeatureGroupSource, ServingInstanceTypes
from pipeline_definitions.pipeline_kinds import plugin_of
from platform_config import ConfigError, EnvironmentConfig, ModelSpec
from platform_config.loader import CATALOGUE_FILE
from platform_config.names import BucketKind
from platform_contracts.retraining import training_data_uri
from stacks.data_stack import DataStack
from stacks.mlflow_resource import mlflow_resource_arn
from stacks.shared_stacks import SharedStacks

#: Stands for the served model in a batch definition until deploy time.
BATCH_MODEL_PLACEHOLDER = "cdk-placeholder-batch-model"


class Placeholders:
    """Deploy-time values of the definitions, as synth-time text the builders accept."""

    def __init__(self, config: EnvironmentConfig, *, subnet_count: int) -> None:
        self.role_arn = f"arn:aws:iam::{config.account}:role/cdk-placeholder-execution-role"
        self.kms_key_arn = (
            f"arn:aws:kms:{config.region}:{config.account}:key/cdk-placeholder-workload-key"
        )
        self.security_group_id = "sg-0cdc0ffee0000000f"
        self.subnet_ids = tuple(f"subnet-0cdc0ffee{index:08x}" for index in range(subnet_count))


class ModelPipelines(Construct):
    """The training pipeline of one model, its schedule and the role its jobs act as.

    The pipeline, ``<prefix>-<model>``, runs as its own role (:attr:`role`: it may run
    jobs, register packages in the model's group only, never approve them), on the isolated
    subnets in the workload security group, with the workload key on volumes and outputs.
    Its step scripts are the version the automation stack copied to the code bucket. A
    model with ``pipeline.schedule`` gets an EventBridge rule that starts it.

    Attributes
    ----------
    role:
        The pipeline's execution role.
    pipeline:
        :class:`SageMakerPipeline`.
    substitutions:
        Placeholder -> deploy-time value, for further definitions of this model.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: ModelSpec,
        shared: SharedStacks,
    ) -> None:
        super().__init__(scope, construct_id)
        config, data, automation = shared.config, shared.data, shared.automation
        self._config = config
        names = config.names
        name = names.pipeline(model.name)
        self._code_bucket = data.import_bucket(self, BucketKind.CODE)
        self.role = self._role(config, model, data)
        net = shared.network.network
        subnets = [subnet.subnet_id for subnet in net.subnets.subnets]
        self.placeholders = Placeholders(config, subnet_count=len(subnets))
        placeholders = self.placeholders
        self.substitutions = {
            placeholders.role_arn: self.role.role_arn,
            placeholders.kms_key_arn: data.keys.workload.key_arn,
            placeholders.security_group_id: net.workload_security_group.security_group_id,
            **dict(zip(placeholders.subnet_ids, subnets, strict=True)),
        }
        definition = self._definition(model, **self._builder_arguments(model, shared))
        self.pipeline = SageMakerPipeline(
            self,
            "Training",
            pipeline_name=name,
            role=self.role,
            definition=definition,
            definition_substitutions=self.substitutions,
            description=f"{model.pipeline.kind} pipeline of {model.name}: {model.description}"[
                :3072
            ],
            definition_bucket=self._code_bucket,
            deployment_log_group=automation.step_code_logs,
        )
        if model.pipeline.schedule is not None:
            self.pipeline.add_schedule(
                events.Schedule.expression(model.pipeline.schedule),
                description=f"Retrains {model.name}: starts {name} {model.pipeline.schedule}",
            )
            _acknowledge_schedule_role(self.pipeline)
        self._grant_job_extras(model)

    def _builder_arguments(self, model: ModelSpec, shared: SharedStacks) -> dict[str, Any]:
        """What the kind's builder is given: names, placeholders, code, serving, MLflow."""
        config, placeholders = shared.config, self.placeholders
        names = config.names
        return {
            "pipeline_name": names.pipeline(model.name),
            "region": config.region,
            "role_arn": placeholders.role_arn,
            "default_bucket": names.bucket(BucketKind.ARTIFACTS),
            "input_data_uri": training_data_uri(names.bucket(BucketKind.DATASETS), model.name),
            "model_package_group_name": names.model_package_group(model.name),
            "kms_key_arn": placeholders.kms_key_arn,
            "subnet_ids": placeholders.subnet_ids,
            "security_group_ids": (placeholders.security_group_id,),
            "code_prefix": shared.automation.step_code_prefix,
            "serving": ServingInstanceTypes.of([model.serving]),
            "monitoring": model.monitoring,
            # The tracking server's ARN, or the app's as a deploy-time reference.
            "mlflow_tracking_server_arn": mlflow_resource_arn(config, partition="aws"),
            "feature_groups": {
                group.name: FeatureGroupSource.of(group, name_prefix=names.prefix)
                for group in config.feature_groups
            },
        }

    def _role(self, config: EnvironmentConfig, model: ModelSpec, data: DataStack) -> iam.IRole:
        names = config.names
        role = SageMakerExecutionRole(
            self,
            "Role",
            description=f"{names.pipeline(model.name)}: its pipelines' jobs",
            pipelines=[names.pipeline(model.name), names.batch_pipeline(model.name)],
            package_groups=[names.model_package_group(model.name)],
            volume_key=data.keys.workload,
        ).role
        grants = [
            data.import_bucket(self, BucketKind.DATASETS).grant_read_write(role),
            data.import_bucket(self, BucketKind.ARTIFACTS).grant_read_write(role),
            self._code_bucket.grant_read(role),
            # Released baselines (baselines/) are the release automation's to write: a
            # pipeline writes its own baselines next to its artifacts, and only reads reports.
            data.import_bucket(self, BucketKind.REPORTS).grant_read(role),
        ]
        acknowledge_wildcards(
            role,
            [statement for grant in grants for statement in grant.principal_statements],
            reason="CDK's bucket grants: object-level actions on the platform's own buckets,"
            " where the pipeline reads its data, code and reports and writes artifacts.",
        )
        return role

    def _definition(self, model: ModelSpec, **arguments: Any) -> str:
        """Build the definition with the kind's builder; a region refusal is a config error.

        The configuration is checked without a region; an image or a JumpStart bucket that
        is not published in the environment's region is found here, and reported in one
        line.
        """
        plugin = plugin_of(model.pipeline)

        def build(spec: Any, *, code_prefix: str, **rest: Any) -> str:
            # Imported here: the SDK is loaded only when a definition is not in the cache.
            from pipeline_definitions.training_pipeline import StepCodeUris

            return plugin.build(spec, code_uris=StepCodeUris.under(code_prefix), **rest)

        try:
            return cached_definition(
                build, model.pipeline, kind=plugin.name, source=plugin.build, **arguments
            )
        except ValueError as error:
            index = next(i for i, m in enumerate(self._config.models) if m.name == model.name)
            reason = " ".join(str(error).split())
            raise ConfigError(
                f"{CATALOGUE_FILE}: models[{index}].pipeline: cannot be built for environment"
                f" {self._config.name} (region {self._config.region}): {reason}"
            ) from None

    def _grant_job_extras(self, model: ModelSpec) -> None:
        """What this model's kind of pipeline needs beyond the execution role (its plugin's
        ``policy_statements``: Autopilot jobs, JumpStart objects, a registered kind's own)."""
        plugin = plugin_of(model.pipeline)
        if plugin.policy_statements is None:
            return
        statements = plugin.policy_statements(Stack.of(self), [model.pipeline])
        if not statements:
            return
        policy = iam.Policy(self, "JobsPolicy", statements=statements, roles=[self.role])
        acknowledge_inline_policy(
            policy,
            reason="What only this model's kind of pipeline needs (AutoML, fine-tuning, a"
            " registered kind's own), attached to this model's pipeline role alone.",
        )
        if plugin.wildcard_reason:
            acknowledge_wildcards(policy, statements, reason=plugin.wildcard_reason)

    def add_batch_pipeline(
        self, scope: Construct, *, model: ModelSpec, served_model_name: str
    ) -> SageMakerPipeline:
        """The batch inference pipeline of a batch-served model, in ``scope``.

        It runs a transform step over ``s3://<datasets>/<model>/batch-input/`` (the
        ``InputDataUri`` parameter) with the released model and writes encrypted predictions
        under ``<pipeline name>/`` in the datasets bucket.
        """
        config = self._config
        name = config.names.batch_pipeline(model.name)
        datasets = config.names.bucket(BucketKind.DATASETS)
        definition = cached_definition(
            _build_batch_pipeline,
            None,
            kind="batch",
            pipeline_name=name,
            region=config.region,
            output_bucket=datasets,
            input_data_uri=f"s3://{datasets}/{model.name}/batch-input/",
            model_name=BATCH_MODEL_PLACEHOLDER,
            kms_key_arn=self.placeholders.kms_key_arn,
        )
        return SageMakerPipeline(
            scope,
            "BatchPipeline",
            pipeline_name=name,
            role=self.role,
            definition=definition,
            definition_substitutions={
                **self.substitutions,
                BATCH_MODEL_PLACEHOLDER: served_model_name,
            },
            description=f"Batch inference of {model.name} with its released model",
        )


def _build_batch_pipeline(_: None, **arguments: Any) -> str:
    from pipeline_definitions.batch_pipeline import build_batch_pipeline

    return build_batch_pipeline(**arguments)


def _acknowledge_schedule_role(pipeline: SageMakerPipeline) -> None:
    role = pipeline.node.find_child("ScheduleRole")
    acknowledge_inline_policy(
        role,
        reason="The schedule's role may only start this one pipeline; its policy is specific"
        " to it, so no managed policy would be shared.",
    )

"""A SageMaker pipeline whose definition was built at synth (``AWS::SageMaker::Pipeline``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from ml_constructs.sagemaker_arns import sagemaker_arn

#: Definitions up to this many characters are written into the template; larger ones go to
#: S3. SageMaker accepts up to 1 MB either way; this keeps a stack of many models well
#: under CloudFormation's template limit.
DEFAULT_INLINE_LIMIT = 100_000


class SageMakerPipeline(Construct):
    """An ``AWS::SageMaker::Pipeline`` with a stable name, its definition and its role.

    The definition is a JSON text built at synth (for example by
    ``pipeline_definitions``). Values known only at deploy time (a role ARN, a key ARN,
    subnet ids) are written into it as placeholders and replaced through
    ``definition_substitutions``, like a Step Functions state machine's. A definition of
    up to ``inline_limit`` characters is written into the template
    (``PipelineDefinitionBody``); a larger one is uploaded at deploy time to
    ``definition_bucket`` (``PipelineDefinitionS3Location``) under
    ``pipeline-definitions/<pipeline name>/<hash of the definition>.json``.

    Parameters
    ----------
    pipeline_name:
        The pipeline's physical name (1-256 letters, digits, '-'), e.g.
        ``ml-platform-<env>-<model>``: executions, schedules and IAM policies name it.
    role:
        The role SageMaker Pipelines assumes to run the steps.
    definition:
        The definition JSON.
    definition_substitutions:
        Placeholder text → value (a token is fine), replaced everywhere in the definition.
        Default none.
    description:
        Shown in SageMaker Studio. Default none.
    max_parallel_steps:
        Steps of one execution that may run at the same time. Default SageMaker's (50).
    definition_bucket:
        Bucket for definitions over ``inline_limit``; required only for those. Its
        uploads run a CDK-provided Lambda function (``BucketDeployment``). Default none.
    inline_limit:
        Largest definition written into the template, in characters. Default
        :data:`DEFAULT_INLINE_LIMIT`.
    deployment_log_group:
        Log group of the upload's handler (give the one of the stack's other
        ``BucketDeployment`` so that they share one handler). Default: CDK's own.

    Attributes
    ----------
    pipeline:
        The ``CfnPipeline`` (id ``Default``).
    pipeline_name, pipeline_arn:
        Its name and ARN.
    definition_deployment:
        The ``BucketDeployment`` of a definition held in S3, else ``None``.
    schedule_rule:
        The rule added by :meth:`add_schedule`, else ``None``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        role: iam.IRole,
        definition: str,
        definition_substitutions: Mapping[str, str] | None = None,
        description: str | None = None,
        max_parallel_steps: int | None = None,
        definition_bucket: s3.IBucket | None = None,
        inline_limit: int = DEFAULT_INLINE_LIMIT,
        deployment_log_group: logs.ILogGroup | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not definition.strip().startswith("{"):
            raise ValueError("definition must be a pipeline definition JSON object")
        if max_parallel_steps is not None and not 1 <= max_parallel_steps <= 1000:
            raise ValueError(f"max_parallel_steps={max_parallel_steps} is not in 1..1000")
        if inline_limit < 1:
            raise ValueError(f"inline_limit={inline_limit} must be positive")
        body = definition
        for placeholder, value in (definition_substitutions or {}).items():
            body = body.replace(placeholder, value)

        self.pipeline_name = pipeline_name
        self.definition_deployment: s3_deployment.BucketDeployment | None = None
        self.schedule_rule: events.Rule | None = None
        if len(definition) <= inline_limit:
            pipeline_definition: dict[str, object] = {"PipelineDefinitionBody": body}
        else:
            if definition_bucket is None:
                raise ValueError(
                    f"the definition of {pipeline_name} has {len(definition)} characters, over"
                    f" inline_limit={inline_limit}: give definition_bucket to hold it in S3"
                )
            self.definition_deployment, pipeline_definition = self._definition_in_s3(
                definition, body, definition_bucket, deployment_log_group
            )

        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Default",
            pipeline_name=pipeline_name,
            pipeline_description=description or None,
            role_arn=role.role_arn,
            pipeline_definition=pipeline_definition,
            parallelism_configuration=(
                {"MaxParallelExecutionSteps": max_parallel_steps} if max_parallel_steps else None
            ),
        )
        if self.definition_deployment is not None:
            self.pipeline.node.add_dependency(self.definition_deployment)
        self.pipeline_arn = sagemaker_arn(self, "pipeline", pipeline_name)

    def _definition_in_s3(
        self,
        definition: str,
        body: str,
        bucket: s3.IBucket,
        log_group: logs.ILogGroup | None,
    ) -> tuple[s3_deployment.BucketDeployment, dict[str, object]]:
        """Deploy ``body`` to ``bucket`` under a key per version of ``definition``: the
        deployment, and the ``PipelineDefinitionS3Location`` naming it."""
        digest = hashlib.sha256(definition.encode("utf-8")).hexdigest()[:16]
        prefix = f"pipeline-definitions/{self.pipeline_name}"
        deployment = s3_deployment.BucketDeployment(
            self,
            "Definition",
            sources=[s3_deployment.Source.data(f"{digest}.json", body)],
            destination_bucket=bucket,
            destination_key_prefix=prefix,
            # Older definitions stay: running executions and rollbacks refer to them.
            prune=False,
            retain_on_delete=True,
            log_group=log_group,
        )
        return deployment, {
            "PipelineDefinitionS3Location": {
                "Bucket": bucket.bucket_name,
                "Key": f"{prefix}/{digest}.json",
            }
        }

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start (and follow) executions of this pipeline."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:StartPipelineExecution", "sagemaker:DescribePipeline"],
            resource_arns=[self.pipeline_arn],
        )

    def add_schedule(
        self,
        schedule: events.Schedule,
        *,
        description: str | None = None,
        retry_attempts: int = 3,
        max_event_age: Duration | None = None,
    ) -> events.Rule:
        """Start the pipeline on ``schedule`` (an EventBridge rule), with its defaults.

        Parameters
        ----------
        schedule:
            ``events.Schedule.expression("cron(0 3 ? * MON *)")`` or a rate.
        description:
            The rule's description. Default: names the pipeline.
        retry_attempts:
            Retries when the start fails (0-185). Default 3.
        max_event_age:
            How long EventBridge keeps retrying. Default 1 hour.

        Returns the rule (also :attr:`schedule_rule`); the target's role may start this
        pipeline only. One schedule per pipeline.
        """
        if self.schedule_rule is not None:
            raise ValueError(f"{self.pipeline_name} already has a schedule")
        role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"EventBridge starts {self.pipeline_name} on its schedule",
        )
        iam.Grant.add_to_principal(
            grantee=role,
            actions=["sagemaker:StartPipelineExecution"],
            resource_arns=[self.pipeline_arn],
        )
        target = _StartPipelineExecution(
            pipeline_arn=self.pipeline_arn,
            role=role,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age or Duration.hours(1),
        )
        self.schedule_rule = events.Rule(
            self,
            "Schedule",
            schedule=schedule,
            description=description or f"Starts {self.pipeline_name} on schedule",
            targets=[target],
        )
        return self.schedule_rule


@jsii.implements(events.IRuleTarget)
class _StartPipelineExecution:
    """Rule target that starts a pipeline with its default parameters."""

    def __init__(
        self, *, pipeline_arn: str, role: iam.IRole, retry_attempts: int, max_event_age: Duration
    ) -> None:
        if not 0 <= retry_attempts <= 185:
            raise ValueError(f"retry_attempts={retry_attempts} is not in 0..185")
        self._pipeline_arn = pipeline_arn
        self._role = role
        self._retry_attempts = retry_attempts
        self._max_event_age = max_event_age

    # IRuleTarget.bind's signature: the target needs neither the rule nor an id.
    def bind(
        self,
        rule: events_refs.IRuleRef,  # noqa: ARG002
        id: str | None = None,  # noqa: ARG002
    ) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(
            arn=self._pipeline_arn,
            role=self._role,
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self._retry_attempts,
                maximum_event_age_in_seconds=int(self._max_event_age.to_seconds()),
            ),
        )

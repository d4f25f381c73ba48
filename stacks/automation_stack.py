"""The closed MLOps loop: events start retraining; approvals roll models out."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs import IdempotencyTable, PlatformFunction, acknowledge_wildcards
from platform_config import EnvironmentConfig
from platform_config.serving_spec import EndpointKind
from stacks.data_stack import DataStack
from stacks.lambda_packages import function_package
from stacks.monitoring_stack import (
    BASELINES_PREFIX,
    baselines_uri,
    drift_alarm_name,
    has_drift_alarm,
)
from stacks.network_stack import NetworkStack
from stacks.removal import log_retention, removal_policy
from stacks.serving_stack import ServingStack, endpoint_name

#: How EventBridge retries delivering an event to a function before dead-lettering it.
TARGET_RETRY_ATTEMPTS = 4
TARGET_MAX_EVENT_AGE = Duration.hours(2)


class AutomationStack(Stack):
    """The retraining trigger, its event rules, and the table both functions share.

    Attributes
    ----------
    idempotency_table:
        :class:`IdempotencyTable`.
    retraining_trigger:
        :class:`PlatformFunction` running ``lambda/retraining_trigger``.
    retraining_rules:
        The EventBridge rules that invoke it, by cause.
    model_deployment:
        :class:`PlatformFunction` running ``lambda/model_deployment``, or ``None`` when no
        model of ``serving`` follows approvals (none served, or all pinned).
    approval_rule:
        The "Model Package State Change" rule that invokes it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        serving: ServingStack | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = removal_policy(config)
        net = network.network
        self.idempotency_table = IdempotencyTable(
            self, "IdempotencyTable", key=data.keys.workload, removal_policy=removal
        )
        datasets_bucket = config.bucket_name("datasets")
        retraining_models = {
            model.name: {
                "pipeline_name": f"{config.name_prefix}-{model.name}",
                "cooldown_seconds": model.retraining.cooldown_minutes * 60,
                **(
                    {"dataset_prefix": f"{model.name}/incoming/"}
                    if model.retraining.on_new_data
                    else {}
                ),
                "drift_alarm_names": [drift_alarm_name(config, model.name)]
                if model.retraining.on_drift and has_drift_alarm(model)
                else [],
            }
            for model in config.models
        }
        self._function_placement: dict[str, Any] = {
            "vpc": net.vpc,
            "subnets": net.subnets.subnets,
            "security_group": net.workload_security_group,
            "key": data.keys.workload,
            "logs_key": data.keys.logs,
            "log_retention": log_retention(config),
            "removal_policy": removal,
        }
        self.retraining_trigger = self._function(
            "RetrainingTrigger",
            "retraining_trigger",
            description="Starts a model's SageMaker pipeline on drift, new data or schedule",
            environment={
                "EXPECTED_ACCOUNT_ID": config.account,
                "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table.table_name,
                "DATASET_BUCKET_NAME": datasets_bucket,
                "RETRAINING_MODELS": Stack.of(self).to_json_string(retraining_models),
            },
        )
        function = self.retraining_trigger.function
        self.idempotency_table.grant_records(function)
        start_pipelines = iam.PolicyStatement(
            actions=["sagemaker:StartPipelineExecution"],
            resources=[
                self.format_arn(service="sagemaker", resource="pipeline", resource_name=f"{name}")
                for name in sorted({m["pipeline_name"] for m in retraining_models.values()})
            ]
            or [
                self.format_arn(
                    service="sagemaker",
                    resource="pipeline",
                    resource_name=f"{config.name_prefix}-none",
                )
            ],
        )
        function.add_to_role_policy(start_pipelines)

        self.retraining_rules: dict[str, events.Rule] = {}
        target = targets.LambdaFunction(
            function,
            retry_attempts=TARGET_RETRY_ATTEMPTS,
            max_event_age=TARGET_MAX_EVENT_AGE,
            dead_letter_queue=self.retraining_trigger.dead_letter_queue,
        )
        if any(model.retraining.on_drift for model in config.models):
            self.retraining_rules["monitoring_violation"] = events.Rule(
                self,
                "MonitoringViolationRule",
                description="A Model Monitor execution completed with violations",
                event_pattern=events.EventPattern(
                    source=["aws.sagemaker"],
                    detail_type=["SageMaker Processing Job State Change"],
                    detail={
                        "ProcessingJobStatus": ["Completed"],
                        "ExitMessage": [{"prefix": "CompletedWithViolations"}],
                    },
                ),
                targets=[target],
            )
        alarm_names = sorted(
            name for model in retraining_models.values() for name in model["drift_alarm_names"]
        )
        if alarm_names:
            self.retraining_rules["drift_alarm"] = events.Rule(
                self,
                "DriftAlarmRule",
                description="A model's drift alarm went into ALARM",
                event_pattern=events.EventPattern(
                    source=["aws.cloudwatch"],
                    detail_type=["CloudWatch Alarm State Change"],
                    detail={"alarmName": alarm_names, "state": {"value": ["ALARM"]}},
                ),
                targets=[target],
            )
        prefixes = sorted(
            m["dataset_prefix"] for m in retraining_models.values() if "dataset_prefix" in m
        )
        if prefixes:
            self.retraining_rules["new_data"] = events.Rule(
                self,
                "NewTrainingDataRule",
                description="A new training data object arrived under a model's prefix",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={
                        "bucket": {"name": [datasets_bucket]},
                        "object": {"key": [{"prefix": prefix} for prefix in prefixes]},
                    },
                ),
                targets=[target],
            )

        self.model_deployment: PlatformFunction | None = None
        self.approval_rule: events.Rule | None = None
        deployments = deployment_models(config, serving) if serving is not None else {}
        if serving is not None and deployments:
            self._deployment_function(config, data, network, serving, deployments)

    def _function(
        self, construct_id: str, package: str, *, description: str, **settings: Any
    ) -> PlatformFunction:
        """A :class:`PlatformFunction` running ``lambda/<package>``, in the workload's place."""
        return PlatformFunction(
            self,
            construct_id,
            code_path=str(function_package(package)),
            handler=f"{package}.lambda_handler",
            description=description,
            **self._function_placement,
            **settings,
        )

    def _deployment_function(
        self,
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        serving: ServingStack,
        deployments: dict[str, dict[str, Any]],
    ) -> None:
        """The function rolling approved packages out, and the rule feeding it approvals."""
        net = network.network
        prefix = config.name_prefix
        deployment = self._function(
            "ModelDeployment",
            "model_deployment",
            description="Rolls an approved model package out to its endpoint; records rejections",
            reserved_concurrency=1,  # one rollout at a time per environment
            timeout=Duration.minutes(2),
            environment={
                "EXPECTED_ACCOUNT_ID": config.account,
                "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table.table_name,
                "MODEL_VPC_SUBNET_IDS": ",".join(s.subnet_id for s in net.subnets.subnets),
                "MODEL_VPC_SECURITY_GROUP_IDS": net.workload_security_group.security_group_id,
                "MODEL_ENABLE_NETWORK_ISOLATION": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "MLPlatform/ModelDeployment",
                "BASELINES_URI": baselines_uri(config),
                "DEPLOYMENT_MODELS": self.to_json_string(deployments),
            },
        )
        self.model_deployment = deployment
        function = deployment.function
        self.idempotency_table.grant_records(function)

        def arn(resource: str, name: str) -> str:
            return self.format_arn(service="sagemaker", resource=resource, resource_name=name)

        sagemaker_writes = iam.PolicyStatement(
            actions=[
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModel",
                "sagemaker:CreateModel",
                "sagemaker:DescribeEndpoint",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:CreateEndpointConfig",
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
            ],
            resources=[
                arn("model-package", f"{prefix}-*/*"),
                arn("model", f"{prefix}-*"),
                arn("endpoint", f"{prefix}-*"),
                arn("endpoint-config", "*"),
            ],
        )
        pass_roles = iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[role.role.role_arn for role in serving.roles.values()],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        )
        reports = config.bucket_name("reports")
        baselines = iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[f"arn:{self.partition}:s3:::{config.bucket_name('artifacts')}/*"],
        )
        publish = iam.PolicyStatement(
            actions=["s3:PutObject"],
            resources=[f"arn:{self.partition}:s3:::{reports}/{BASELINES_PREFIX}/*"],
        )
        # CreateEndpoint/UpdateEndpoint with a config that names a KMS key: SageMaker creates
        # a grant on the key for the endpoint's volumes with the caller's permissions
        # (CreateEndpointConfig API reference, KmsKeyId), for AWS resources only.
        key_grants = iam.PolicyStatement(
            actions=["kms:CreateGrant", "kms:DescribeKey"],
            resources=[data.keys.workload.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
        for statement in (sagemaker_writes, pass_roles, baselines, publish, key_grants):
            function.add_to_role_policy(statement)
        data.keys.data.grant_encrypt_decrypt(function)
        role = function.role
        assert role is not None
        acknowledge_wildcards(
            role,
            [sagemaker_writes],
            reason=(
                "Versions of this environment's packages, the models and endpoint configs it"
                " creates per version, and the live endpoint configs CloudFormation named."
            ),
        )
        acknowledge_wildcards(
            role,
            [baselines, publish],
            reason=(
                "Reads the baselines a pipeline run wrote (per-execution keys) and publishes them"
                " under the monitors' baselines prefix."
            ),
        )
        acknowledge_wildcards(
            role,
            [
                iam.PolicyStatement(
                    actions=["kms:ReEncrypt*", "kms:GenerateDataKey*"],
                    resources=[data.keys.data.key_arn],
                )
            ],
            reason="CDK's grant on the data key, which encrypts the baselines it copies.",
        )
        self.approval_rule = events.Rule(
            self,
            "ModelApprovalRule",
            description="A model package of a served model was approved or rejected",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={
                    "ModelPackageGroupName": sorted(deployments),
                    "ModelApprovalStatus": ["Approved", "Rejected"],
                },
            ),
            targets=[
                targets.LambdaFunction(
                    function,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=TARGET_MAX_EVENT_AGE,
                    dead_letter_queue=deployment.dead_letter_queue,
                )
            ],
        )


def deployment_models(
    config: EnvironmentConfig, serving: ServingStack
) -> dict[str, dict[str, Any]]:
    """``DEPLOYMENT_MODELS`` of the deployment function: one entry per endpoint that follows
    approvals (its model version is ``latest``), keyed by model package group."""
    models: dict[str, dict[str, Any]] = {}
    for model in config.models:
        spec = model.serving
        endpoint = serving.endpoints.get(model.name)
        if spec is None or endpoint is None or spec.model_version != "latest":
            continue
        variants = [v.name for v in spec.production_variants if v.model_version is None]
        if not variants:
            continue
        rollout = spec.deployment
        strategy_fields = {
            "canary": {"canary_percent": rollout.canary_size_percent},
            "linear": {"step_percent": rollout.linear_step_percent},
            "rolling": {"batch_percent": rollout.rolling_batch_percent},
        }.get(rollout.strategy, {})
        serverless = spec.kind is EndpointKind.SERVERLESS
        group = f"{config.name_prefix}-{model.name}"
        models[group] = {
            "endpoint_name": endpoint_name(config, model.name),
            "variant_names": variants,
            "execution_role_arn": serving.roles[model.name].role.role_arn,
            "in_vpc": not serverless,
            "network_isolation": spec.network_isolation and not serverless,
            "rollout": {
                "strategy": rollout.strategy,
                "wait_seconds": rollout.wait_seconds,
                "maximum_execution_timeout_seconds": rollout.maximum_execution_timeout_seconds,
                **(
                    {}
                    if rollout.strategy == "rolling"
                    else {"termination_wait_seconds": rollout.termination_wait_seconds}
                ),
                **strategy_fields,
                "rollback_alarm_names": [
                    alarm.alarm_name for alarm in serving.endpoint_alarms[model.name].alarms
                ],
            },
        }
    return models

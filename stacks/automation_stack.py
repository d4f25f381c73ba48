"""The closed MLOps loop: events start retraining; approvals roll models out."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs import IdempotencyTable, PlatformFunction, acknowledge
from platform_config import EnvironmentConfig
from stacks.data_stack import DataStack
from stacks.lambda_packages import function_package
from stacks.monitoring_stack import drift_alarm_name, has_drift_alarm
from stacks.network_stack import NetworkStack
from stacks.removal import log_retention, removal_policy

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
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
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
                **({"dataset_prefix": f"{model.name}/incoming/"}
                   if model.retraining.on_new_data else {}),
                "drift_alarm_names": [drift_alarm_name(config, model.name)]
                if model.retraining.on_drift and has_drift_alarm(model) else [],
            }
            for model in config.models
        }  # fmt: skip
        self.retraining_trigger = PlatformFunction(
            self,
            "RetrainingTrigger",
            code_path=str(function_package("retraining_trigger")),
            handler="retraining_trigger.lambda_handler",
            description="Starts a model's SageMaker pipeline on drift, new data or schedule",
            vpc=net.vpc,
            subnets=net.subnets.subnets,
            security_group=net.workload_security_group,
            key=data.keys.workload,
            logs_key=data.keys.logs,
            log_retention=log_retention(config),
            removal_policy=removal,
            environment={
                "EXPECTED_ACCOUNT_ID": config.account,
                "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table.table_name,
                "DATASET_BUCKET_NAME": datasets_bucket,
                "RETRAINING_MODELS": Stack.of(self).to_json_string(retraining_models),
            },
        )
        function = self.retraining_trigger.function
        self.idempotency_table.table.grant_read_write_data(function)
        start_pipelines = iam.PolicyStatement(
            actions=["sagemaker:StartPipelineExecution"],
            resources=[
                self.format_arn(
                    service="sagemaker", resource="pipeline", resource_name=f"{name}"
                )
                for name in sorted({m["pipeline_name"] for m in retraining_models.values()})
            ]
            or [self.format_arn(service="sagemaker", resource="pipeline",
                                resource_name=f"{config.name_prefix}-none")],  # fmt: skip
        )
        function.add_to_role_policy(start_pipelines)
        self._acknowledge_function_role(self.retraining_trigger)

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

    @staticmethod
    def _acknowledge_function_role(platform_function: PlatformFunction) -> None:
        role = platform_function.function.role
        assert role is not None
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaVPCAccessExecutionRole]",
            reason="AWS's managed policies for a VPC function's logs and network interfaces,"
            " maintained by AWS as Lambda's requirements change.",
        )
        acknowledge(
            role,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "HIPAA.Security-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
            reason="CDK grants specific to this function's role (its table, queue, keys).",
        )


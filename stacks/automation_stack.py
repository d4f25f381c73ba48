"""What every model's stacks share: alerts, step code, the deploy-time provider, automation.

Nothing here grows with the catalogue: the rules match the environment's names by prefix,
the functions read each model's settings document at run time (``platform_contracts``), and
the policies grant by name prefix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs import (
    IdempotencyTable,
    PlatformFunction,
    acknowledge_inline_policy,
    acknowledge_wildcards,
)
from ml_constructs.alert_topic import AlertTopic
from ml_constructs.bucket_deployment_handler import acknowledge_deployment_handler
from ml_constructs.event_rules import event_rule
from ml_constructs.model_package_resolver import ModelPackageResolver
from ml_constructs.platform_function import FunctionPlacement
from ml_constructs.release_automation import BOOTSTRAP_QUALIFIER, ReleaseAutomation
from ml_constructs.retraining_trigger import RetrainingTrigger
from platform_config import EnvironmentConfig
from platform_config.names import EVERY_MODEL, BucketKind, ResourceNames
from stacks.data_stack import DataStack
from stacks.lambda_packages import function_package
from stacks.network_stack import NetworkStack
from stacks.removal import key_pending_window, log_retention, removal_policy

#: The scripts that run inside the SageMaker containers, shipped to the code bucket.
STEPS_DIR = Path(__file__).resolve().parent.parent / "pipeline_definitions" / "steps"

#: Where the step scripts land in the code bucket: one prefix per version of the scripts,
#: so that a running execution keeps the code its definition names.
STEP_CODE_PREFIX = "pipelines/steps"


def step_code_uri(config: EnvironmentConfig) -> str:
    """``s3://`` prefix of this version of the step scripts (a digest of their content)."""
    digest = hashlib.sha256()
    for path in sorted(STEPS_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    bucket = config.names.bucket(BucketKind.CODE)
    return f"s3://{bucket}/{STEP_CODE_PREFIX}/{digest.hexdigest()[:16]}"


def publish_for_models(stack: Stack, values: Sequence[str]) -> None:
    """Publish ``values`` for the model stacks, whether or not a model of the catalogue uses
    them.

    A model stack reads this stack's values as weak references (``Fn::GetStackOutput``); CDK
    writes the output a reference reads (``Publish/Output<reference>``) the first time a
    consumer uses it. A value only some kinds of model use (the alerts key, for the topics of
    asynchronous endpoints) would otherwise add an output to this stack when the first such
    model is added, and remove it with the last: adding or removing a model would change a
    shared stack. Created here first, under the id CDK looks for, the outputs are the same
    whatever the catalogue holds (tests/test_catalogue_isolation.py).
    """
    existing = stack.node.try_find_child("Publish")
    scope = existing if isinstance(existing, Construct) else Construct(stack, "Publish")
    for value in values:
        if not Token.is_unresolved(value):
            continue  # a literal (an existing topic's ARN) needs no output
        output_id = "Output" + json.dumps(stack.resolve(value), separators=(",", ":"))
        if scope.node.try_find_child(output_id) is None:
            CfnOutput(scope, output_id, value=value)


def promotion_source_names(config: EnvironmentConfig) -> ResourceNames | None:
    """The names of the environment whose approved versions this one imports, if any."""
    source = config.model_registry.promote_from
    if source is None:
        return None
    return ResourceNames(source.environment, source.account, source.region)


class AutomationStack(Stack):
    """The environment's shared services for its models.

    Attributes
    ----------
    alerts:
        :class:`AlertTopic`: the alert topic and messaging key.
    alert_topic:
        ``alerts.topic``.
    provider:
        :class:`ModelPackageResolver`: the deploy-time provider of ``Custom::ReleaseRecord``
        and ``Custom::ModelPackage``.
    step_code:
        The ``BucketDeployment`` of the step scripts (``pipeline_definitions/steps``).
    step_code_prefix:
        ``s3://`` prefix of this version of the scripts.
    idempotency_table:
        :class:`IdempotencyTable` the functions share.
    retraining:
        :class:`RetrainingTrigger`: the function and its rules.
    releases:
        :class:`ReleaseAutomation`: the function, its rules and retry queue.
    monitoring_failure_rule:
        Alerts the topic when a Model Monitor execution of the environment fails.
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
        names = config.names
        self.alerts = self._alerts(config)
        self.alert_topic: sns.ITopic = self.alerts.topic
        placement = FunctionPlacement(
            vpc=net.vpc,
            subnets=net.subnets.subnets,
            security_group=net.workload_security_group,
            key=data.keys.workload,
            logs_key=data.keys.logs,
            log_retention=log_retention(config),
            removal_policy=removal,
        )
        self.provider = ModelPackageResolver(
            self,
            "PackageResolver",
            code_path=str(function_package("model_package_resolver")),
            package_groups=names.model_package_group(EVERY_MODEL),
            records_path=names.release_records_path(),
            placement=placement,
        )
        self._step_code(config, data)
        self.idempotency_table = IdempotencyTable(
            self, "IdempotencyTable", key=data.keys.workload, removal_policy=removal
        )
        self._automation(config, data, placement)
        self._deploy_role_reads_records(config)
        for function in (
            self.provider.platform_function,
            self.retraining.function,
            self.releases.function,
        ):
            function.alarm_on_dead_letters(self.alert_topic)
        self.monitoring_failure_rule = self._monitoring_failure_rule(names)
        publish_for_models(
            self,
            [
                self.alert_topic.topic_arn,
                self.alerts.key.key_arn,
                self.provider.function.function_arn,
            ],
        )

    def _alerts(self, config: EnvironmentConfig) -> AlertTopic:
        """The alert topic (or the configured one) and the messaging key."""
        return AlertTopic(
            self,
            "Alerts",
            topic_name=config.names.alert_topic(),
            key_alias=config.names.alert_key_alias(),
            existing_topic_arn=config.alerts.topic_arn,
            email_addresses=config.alerts.email_addresses,
            removal_policy=removal_policy(config),
            pending_window=key_pending_window(config),
        )

    def _automation(
        self, config: EnvironmentConfig, data: DataStack, placement: FunctionPlacement
    ) -> None:
        """The retraining trigger and the release automation, each with its function."""
        names = config.names
        self.retraining = RetrainingTrigger(
            self,
            "Retraining",
            function=self._function("RetrainingTrigger", "retraining_trigger", placement),
            name_prefix=names.prefix,
            account=config.account,
            datasets_bucket_name=names.bucket(BucketKind.DATASETS),
            idempotency_table=self.idempotency_table,
            key=data.keys.workload,
        )
        self.releases = ReleaseAutomation(
            self,
            "Releases",
            function=self._function(
                "ReleaseAutomation",
                "release_automation",
                placement,
                function_name=names.release_function(),
                reserved_concurrency=1,  # one release at a time: records never race
            ),
            names=names,
            idempotency_table=self.idempotency_table,
            data_key=data.keys.data,
            workload_key=data.keys.workload,
            promote_from=promotion_source_names(config),
        )

    def _monitoring_failure_rule(self, names: ResourceNames) -> events.Rule:
        """Alerts when a Model Monitor job of one of the environment's schedules fails."""
        return event_rule(
            self,
            "MonitoringFailureRule",
            description="A Model Monitor execution of this environment failed",
            source="aws.sagemaker",
            detail_type="SageMaker Processing Job State Change",
            detail={
                "ProcessingJobStatus": ["Failed"],
                "Environment": {
                    "sagemaker_monitoring_schedule_name": [{"prefix": names.model_names_prefix()}]
                },
            },
            target=self.alerts.rule_target(),
        )

    def _function(
        self, construct_id: str, package: str, placement: FunctionPlacement, **options: Any
    ) -> PlatformFunction:
        """A :class:`PlatformFunction` running ``lambda/<package>``, in the workload's place."""
        descriptions = {
            "retraining_trigger": "Starts a model's SageMaker pipeline on drift or new data",
            "release_automation": "Releases approved model packages through the model stacks",
        }
        return PlatformFunction(
            self,
            construct_id,
            code_path=str(function_package(package)),
            handler=f"{package}.lambda_handler",
            description=descriptions[package],
            timeout=Duration.minutes(2),
            placement=placement,
            **options,
        )

    def _deploy_role_reads_records(self, config: EnvironmentConfig) -> None:
        """Let the CDK bootstrap's deploy role read the release records.

        CloudFormation resolves a stack's ``AWS::SSM::Parameter::Value`` parameters with the
        credentials of whoever creates the change set: ``cdk deploy`` and the delivery
        pipeline both act as the bootstrap's deploy role, whose own policy reads only the
        bootstrap version. The records are read, never written, through this policy.
        """
        role_name = f"cdk-{BOOTSTRAP_QUALIFIER}-deploy-role-{config.account}-{config.region}"
        records = config.names.release_records_path().strip("/")
        read = iam.PolicyStatement(
            actions=["ssm:GetParameters", "ssm:GetParameter"],
            resources=[
                self.format_arn(service="ssm", resource="parameter", resource_name=f"{records}/*")
            ],
        )
        policy = iam.Policy(
            self,
            "DeployRoleReadsReleaseRecords",
            statements=[read],
            roles=[iam.Role.from_role_name(self, "CdkDeployRole", role_name)],
        )
        acknowledge_wildcards(
            policy,
            [read],
            reason="Every release record of this environment (one per model and slot), read"
            " when CloudFormation resolves the model stacks' parameters.",
        )
        acknowledge_inline_policy(
            policy,
            reason="Added to the CDK bootstrap's own deploy role, which this app does not"
            " manage; an inline policy next to the bootstrap's keeps it removable with the"
            " stack.",
        )

    def _step_code(self, config: EnvironmentConfig, data: DataStack) -> None:
        """Copy the step scripts to the code bucket under a prefix per version of them."""
        self.step_code_prefix = step_code_uri(config)
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
            destination_bucket=data.import_bucket(self, BucketKind.CODE),
            destination_key_prefix=self.step_code_prefix.split("/", 3)[3],
            # Earlier versions stay for executions that still run them.
            prune=False,
            retain_on_delete=True,
        )
        acknowledge_deployment_handler(self)

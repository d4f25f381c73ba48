"""The retraining trigger: the rules that start a model's pipeline, and their function."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ml_constructs.event_rules import event_rule, function_target
from ml_constructs.idempotency_table import IdempotencyTable
from ml_constructs.platform_function import PlatformFunction
from platform_contracts.model_settings import settings_path


def settings_read_statement(stack: Stack, name_prefix: str) -> iam.PolicyStatement:
    """Read every model's settings document (``GetParametersByPath`` on the settings path)."""
    path = settings_path(name_prefix).strip("/")
    return iam.PolicyStatement(
        actions=["ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"],
        resources=[
            stack.format_arn(service="ssm", resource="parameter", resource_name=path),
            stack.format_arn(service="ssm", resource="parameter", resource_name=f"{path}/*"),
        ],
    )


class RetrainingTrigger(Construct):
    """Starts a model's SageMaker pipeline on a monitor violation, drift alarm or new data.

    The rules match the environment's names by prefix, so they do not change when a model
    is added: the function maps an event to its model with the models' settings documents
    (``platform_contracts.model_settings``). New data is batched: each arrival is noted and a
    message is delayed on the arrivals queue; retraining starts once the model's quiet
    period passed with no newer arrival (see docs/retraining.md). Each start passes the
    retraining table's parameters, which depend on whether the model's package group has
    an approved version (``sagemaker:ListModelPackages``).

    The function's environment: ``NAME_PREFIX``, ``EXPECTED_ACCOUNT_ID``,
    ``IDEMPOTENCY_TABLE_NAME``, ``DATASET_BUCKET_NAME``, ``ARRIVALS_QUEUE_URL`` and (from
    :class:`PlatformFunction`) ``DEAD_LETTER_QUEUE_URL``; nothing grows with the catalogue.

    Attributes
    ----------
    function:
        The :class:`PlatformFunction`.
    rules:
        The rules, by cause (``monitoring_violation``, ``drift_alarm``, ``new_data``).
    arrivals_queue:
        The delay queue that batches new data.

    Parameters
    ----------
    function:
        The function running ``lambda/retraining_trigger``.
    name_prefix:
        The environment's name prefix (``ml-platform-<env>``).
    account:
        The environment's account (events from elsewhere are refused).
    datasets_bucket_name:
        The bucket where new training data arrives (``<model>/training/...``,
        ``platform_contracts.retraining.training_data_prefix``).
    idempotency_table:
        Table recording handled events, arrivals and cool-downs.
    key:
        Encrypts the arrivals queue (the function's key).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: PlatformFunction,
        name_prefix: str,
        account: str,
        datasets_bucket_name: str,
        idempotency_table: IdempotencyTable,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = function
        # One failed message is retried alone (the handler reports batch item failures).
        self.arrivals_queue = function.add_queue(
            self,
            "ArrivalsQueue",
            key=key,
            batch_size=10,
            max_receive_count=5,
            report_batch_item_failures=True,
        )
        function.add_environment(
            {
                "NAME_PREFIX": name_prefix,
                "EXPECTED_ACCOUNT_ID": account,
                "IDEMPOTENCY_TABLE_NAME": idempotency_table.table.table_name,
                "DATASET_BUCKET_NAME": datasets_bucket_name,
                "ARRIVALS_QUEUE_URL": self.arrivals_queue.queue_url,
            }
        )
        idempotency_table.grant_records(function.function)
        self._grant_calls(name_prefix)
        self.rules = self._rules(name_prefix, datasets_bucket_name)

    def _grant_calls(self, name_prefix: str) -> None:
        """Let the function start the pipelines, read the settings and list packages."""
        stack = Stack.of(self)
        start = iam.PolicyStatement(
            actions=["sagemaker:StartPipelineExecution"],
            resources=[
                stack.format_arn(
                    service="sagemaker", resource="pipeline", resource_name=f"{name_prefix}-*"
                )
            ],
        )
        # Whether a model has an approved version decides the run's checks
        # (platform_contracts.retraining.rule_for).
        list_packages = iam.PolicyStatement(
            actions=["sagemaker:ListModelPackages"], resources=["*"]
        )
        self.function.add_statements(
            [
                (
                    start,
                    (
                        "Starts the pipelines of this environment's models, named after it;"
                        " which one is decided per event from the models' settings."
                    ),
                ),
                (
                    settings_read_statement(stack, name_prefix),
                    (
                        "Reads the settings document of each of this environment's models"
                        " (one parameter per model under the settings path)."
                    ),
                ),
                (
                    list_packages,
                    (
                        "ListModelPackages has no resource-level permissions (the service"
                        " authorization reference lists no resource type for it); the"
                        " function lists the approved packages of the model it retrains."
                    ),
                ),
            ]
        )

    def _rules(self, name_prefix: str, datasets_bucket_name: str) -> dict[str, events.Rule]:
        target = function_target(self.function)
        return {
            "monitoring_violation": event_rule(
                self,
                "MonitoringViolationRule",
                description="A Model Monitor execution of this environment completed with"
                " violations",
                source="aws.sagemaker",
                detail_type="SageMaker Processing Job State Change",
                detail={
                    "ProcessingJobStatus": ["Completed"],
                    "ExitMessage": [{"prefix": "CompletedWithViolations"}],
                    "Environment": {
                        "sagemaker_monitoring_schedule_name": [{"prefix": f"{name_prefix}-"}]
                    },
                },
                target=target,
            ),
            "drift_alarm": event_rule(
                self,
                "DriftAlarmRule",
                description="A model's drift alarm went into ALARM",
                source="aws.cloudwatch",
                detail_type="CloudWatch Alarm State Change",
                detail={
                    "alarmName": [{"wildcard": f"{name_prefix}-*-drift"}],
                    "state": {"value": ["ALARM"]},
                },
                target=target,
            ),
            "new_data": event_rule(
                self,
                "NewTrainingDataRule",
                description="A new training data object arrived under a model's training/ prefix",
                source="aws.s3",
                detail_type="Object Created",
                detail={
                    "bucket": {"name": [datasets_bucket_name]},
                    "object": {"key": [{"wildcard": "*/training/*"}]},
                },
                target=target,
            ),
        }

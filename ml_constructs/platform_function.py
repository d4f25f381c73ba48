"""A Python Lambda function as the platform runs them: in the VPC, traced, with a DLQ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ml_constructs.compliance import acknowledge, acknowledge_inline_policy, acknowledge_wildcards


def encrypted_queue(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    visibility_timeout: Duration | None = None,
    retention_period: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
    removal_policy: RemovalPolicy | None = None,
) -> sqs.Queue:
    """A queue as the platform has them: encrypted with ``key`` (SSE-KMS), TLS only; its
    other settings SQS's unless given."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=dead_letter_queue,
        removal_policy=removal_policy,
    )


def dead_letter_store(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    reason: str,
    removal_policy: RemovalPolicy | None = None,
) -> sqs.Queue:
    """A queue that is itself where failed messages end: encrypted with ``key``, TLS only,
    keeping a message 14 days (SQS's most). Its AwsSolutions-SQS3 finding (no dead-letter
    queue of its own) is acknowledged with ``reason``. ``removal_policy`` defaults to SQS's
    (``DESTROY``)."""
    queue = encrypted_queue(
        scope,
        construct_id,
        key=key,
        retention_period=Duration.days(14),
        removal_policy=removal_policy,
    )
    acknowledge(queue, "AwsSolutions-SQS3", reason=reason)
    return queue


@dataclass(frozen=True, kw_only=True)
class FunctionPlacement:
    """Where the platform's functions run and how their data and logs are kept.

    Attributes
    ----------
    vpc, subnets, security_group:
        Where they run.
    key:
        Encrypts their environment variables and dead-letter queues.
    logs_key:
        Encrypts their log groups.
    log_retention, removal_policy:
        Of the log groups.
    """

    vpc: ec2.IVpc
    subnets: Sequence[ec2.ISubnet]
    security_group: ec2.ISecurityGroup
    key: kms.IKey
    logs_key: kms.IKey
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy


class PlatformFunction(Construct):
    """A Python 3.14 ARM64 Lambda function with its dead-letter queue and log group.

    The dead-letter queue receives what the function could not process: events its async
    invocation failed on after Lambda's retries, and events the handler itself rejects as
    malformed (it may send to the queue: ``DEAD_LETTER_QUEUE_URL`` is set).

    Attributes
    ----------
    function:
        The ``lambda.Function``.
    dead_letter_queue:
        SQS queue, encrypted, kept 14 days.
    log_group:
        Its log group, encrypted with ``logs_key``.
    role:
        The function's execution role.

    Parameters
    ----------
    code_path:
        Folder of the deployment package (see ``stacks/lambda_packages.py``).
    handler:
        ``module.function`` of the handler.
    description:
        What the function does.
    environment:
        Environment variables (default none); ``DEAD_LETTER_QUEUE_URL`` is added.
    placement:
        :class:`FunctionPlacement`: where it runs, the keys of its data and logs.
    reserved_concurrency:
        At most this many run at once (default 2).
    timeout:
        Default 60 seconds.
    memory_size:
        MB (default 256).
    function_name:
        A physical name, for a function people invoke by name (default: generated).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_path: str,
        handler: str,
        description: str,
        placement: FunctionPlacement,
        environment: Mapping[str, str] | None = None,
        reserved_concurrency: int = 2,
        timeout: Duration = Duration.seconds(60),
        memory_size: int = 256,
        function_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        key = placement.key
        self.dead_letter_queue = dead_letter_store(
            self,
            "DeadLetterQueue",
            key=key,
            reason="This queue is itself the function's dead-letter queue.",
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=placement.logs_key,
            retention=placement.log_retention,
            removal_policy=placement.removal_policy,
        )
        self.function = lambda_.Function(
            self,
            "Default",
            description=description,
            function_name=function_name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(code_path),
            handler=handler,
            environment={
                **dict(environment or {}),
                "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
                "POWERTOOLS_SERVICE_NAME": construct_id,
            },
            environment_encryption=key,
            vpc=placement.vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=list(placement.subnets)),
            security_groups=[placement.security_group],
            reserved_concurrent_executions=reserved_concurrency,
            timeout=timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=2,
        )
        self.dead_letter_queue.grant_send_messages(self.function)
        self._acknowledge_findings(key)

    @property
    def role(self) -> iam.IRole:
        """The function's execution role."""
        role = self.function.role
        assert role is not None
        return role

    def _acknowledge_findings(self, key: kms.IKey) -> None:
        """The findings every platform function and its role have, each with its reason."""
        # CDK makes a VPC function depend on its role and the role's policy; cfn-lint flags
        # the role part as redundant with the function's Role reference.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        role = self.role
        acknowledge_wildcards(
            role,
            [
                iam.PolicyStatement(
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
                )
            ],
            reason="X-Ray's trace submission calls have no resource-level permissions.",
        )
        acknowledge_wildcards(
            role,
            [
                iam.PolicyStatement(
                    actions=["kms:ReEncrypt*", "kms:GenerateDataKey*"], resources=[key.key_arn]
                )
            ],
            reason="CDK's grants on the one key that encrypts this function's queue (and table).",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaVPCAccessExecutionRole]",
            reason="AWS's managed policies for a VPC function's logs and network interfaces,"
            " which Lambda attaches to every function in a VPC and AWS maintains.",
        )
        acknowledge_inline_policy(
            role,
            reason="CDK grants specific to this one function's role (its queue, keys and what"
            " its caller grants it); no other role would share a managed policy.",
        )

    def add_environment(self, variables: Mapping[str, str]) -> None:
        """Add ``variables`` to the function's environment, in their order."""
        for name, value in variables.items():
            self.function.add_environment(name, value)

    def add_statements(self, statements: Sequence[tuple[iam.PolicyStatement, str]]) -> None:
        """Add each statement to the role's policy, acknowledging its wildcards with its
        reason."""
        for statement, reason in statements:
            self.function.add_to_role_policy(statement)
            acknowledge_wildcards(self.role, [statement], reason=reason)

    def add_queue(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        batch_size: int,
        max_receive_count: int,
        visibility_timeout: Duration = Duration.minutes(3),
        retention_period: Duration | None = None,
        report_batch_item_failures: bool = False,
    ) -> sqs.Queue:
        """A queue, in ``scope``, that the function reads (``batch_size`` messages at a time)
        and may write to (delayed work for itself); a message received
        ``max_receive_count`` times goes to the function's dead-letter queue.

        ``retention_period`` defaults to SQS's (4 days).
        """
        queue = encrypted_queue(
            scope,
            construct_id,
            key=key,
            visibility_timeout=visibility_timeout,
            retention_period=retention_period,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=max_receive_count
            ),
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=batch_size,
                report_batch_item_failures=report_batch_item_failures or None,
            )
        )
        queue.grant_send_messages(self.function)
        return queue

    def alarm_on_dead_letters(self, topic: sns.ITopic) -> cloudwatch.Alarm:
        """An alarm, to ``topic``, as soon as one message waits in the dead-letter queue.

        Nothing parked there is lost silently: the queue keeps a message 14 days (SQS's
        most), and the alarm tells the team the first time one arrives.
        """
        alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description=f"{self.node.path}: an event or message was parked in the"
            " dead-letter queue (read it, fix the cause, redrive it)",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        return alarm

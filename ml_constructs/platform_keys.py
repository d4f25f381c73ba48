"""Customer-managed KMS keys of an environment."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from platform_config.names import KeyKind, ResourceNames


class PlatformKeys(Construct):
    """Three customer-managed keys with yearly rotation, one per kind of data.

    Attributes
    ----------
    data:
        Encrypts the S3 buckets (datasets, artifacts, capture, reports, code).
    logs:
        Encrypts CloudWatch Logs log groups; its policy lets the regional CloudWatch Logs
        service use it for this account's log groups only.
    workload:
        Encrypts SageMaker volumes, the domain's storage, endpoints, queues and topics; its
        policy lets EventBridge use it for this account's rules only, so that the rules can
        park undeliverable events in the dead-letter queues it encrypts.

    Parameters
    ----------
    names:
        The environment's names: aliases are ``names.key_alias(<kind>)``
        (``alias/<prefix>/<kind>``), descriptions start with ``names.prefix``.
    removal_policy:
        Applied to each key. A destroyed key waits ``pending_window`` before deletion.
    pending_window:
        Waiting period before a removed key is deleted (default 30 days, 7 to 30).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        removal_policy: RemovalPolicy,
        pending_window: Duration = Duration.days(30),
    ) -> None:
        super().__init__(scope, construct_id)

        def key(key_id: str, kind: KeyKind, what: str) -> kms.Key:
            return kms.Key(
                self,
                key_id,
                alias=names.key_alias(kind),
                description=f"{names.prefix}: {what}",
                enable_key_rotation=True,
                pending_window=pending_window,
                removal_policy=removal_policy,
            )

        self.data = key("DataKey", KeyKind.DATA, "S3 data of the ML platform")
        self.logs = key("LogsKey", KeyKind.LOGS, "CloudWatch Logs of the ML platform")
        self.workload = key("WorkloadKey", KeyKind.WORKLOAD, "SageMaker volumes, endpoints, queues")

        self.logs.add_to_resource_policy(self._cloudwatch_logs_statement())
        # EventBridge writes into a KMS-encrypted dead-letter queue as itself, not as a role:
        # the key policy has to allow the service (EventBridge User Guide, on dead-letter
        # queues encrypted with a customer managed key).
        self.workload.add_to_resource_policy(self._eventbridge_statement())

    def _cloudwatch_logs_statement(self) -> iam.PolicyStatement:
        """The regional CloudWatch Logs service may use the key for this account's groups."""
        stack = Stack.of(self)
        return iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )

    def _eventbridge_statement(self) -> iam.PolicyStatement:
        """EventBridge may use the key for this account's rules (their dead-letter queues)."""
        stack = Stack.of(self)
        return iam.PolicyStatement(
            sid="AllowEventBridgeRulesOfThisAccount",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": stack.format_arn(
                        service="events", resource="rule", resource_name="*"
                    )
                },
            },
        )

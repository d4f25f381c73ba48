"""Every place where an AWS service writes into a resource of the assembly, and whether the
resource's policy and its KMS key's policy let it.

A delivery is made either by a service principal (EventBridge into a dead-letter queue or a
topic, CloudWatch alarms into a topic, SNS into a queue, S3 server access logs into a bucket,
CloudWatch Logs into its key) or by a service with a role's credentials (SageMaker's
asynchronous inference notifications with the model's execution role, Lambda's dead-letter
queue with the function's role). For each:

- service principal: the resource policy must allow the principal the action, with the
  context the service sends (``aws:SourceArn`` of the rule, alarm, topic or bucket, and
  ``aws:SourceAccount``); the key policy must allow it ``kms:GenerateDataKey`` and
  ``kms:Decrypt`` (S3 access logs: the target bucket may not use SSE-KMS at all);
- role: the role's identity policies must allow the action and the resource policy must not
  deny it; the key policy must allow the role, directly or by delegating to the account's
  IAM policies (``arn:aws:iam::<account>:root``), which must then allow it.

Sources: "Amazon EventBridge targets: dead-letter queues" and "Amazon SQS: key policy for
services", "Amazon SNS: encrypted topics and CloudWatch alarms", "Amazon S3 server access
logging: permissions", "CloudWatch Logs: encrypt log data with AWS KMS" (AWS documentation).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_rules.findings import CheckResult, Finding
from aws_rules.policies import (
    Request,
    allowed,
    as_list,
    grants_account,
    not_denied,
)
from aws_rules.resolve import Resolver, ResourceAt

#: KMS permissions a service needs to write into an encrypted queue or topic.
KMS_FOR_WRITE = ("kms:GenerateDataKey", "kms:Decrypt")
#: What CloudWatch Logs needs of the key of an encrypted log group.
KMS_FOR_LOGS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class Delivery:
    """One service writing into one resource."""

    source: str
    target: ResourceAt
    action: str
    resource_arn: str
    service: str
    role: ResourceAt | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    key_actions: tuple[str, ...] = KMS_FOR_WRITE
    key_context: Mapping[str, str] | None = None


class Deliveries:
    """Finds and checks the deliveries of one assembly."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    # --- what a resource is ----------------------------------------------------------

    def resolved(self, at: ResourceAt) -> dict[str, Any]:
        return dict(self.resolver.resolve(at.stack, at.properties))

    def target(self, value: Any, *types: str) -> ResourceAt | None:
        """The resource of the assembly that ``value`` (a resolved ARN, URL or name) is."""
        at = self.resolver.origin(value)
        return at if at is not None and (not types or at.type in types) else None

    def arn(self, at: ResourceAt) -> str:
        return str(self.resolver.reference(at.stack, at.logical_id, "Arn"))

    def source_context(self, at: ResourceAt, arn: str | None = None) -> dict[str, str]:
        return {"aws:SourceArn": arn or self.arn(at), "aws:SourceAccount": at.stack.account}

    # --- where services write ------------------------------------------------------

    def all(self) -> Iterator[Delivery]:
        yield from self.event_rules()
        yield from self.alarm_actions()
        yield from self.topic_subscriptions()
        yield from self.async_notifications()
        yield from self.function_dead_letters()
        yield from self.access_logs()
        yield from self.log_groups()

    def event_rules(self) -> Iterator[Delivery]:
        """EventBridge: each target's dead-letter queue, and SNS or SQS targets."""
        for rule in self.resolver.resources("AWS::Events::Rule"):
            context = self.source_context(rule)
            for target in as_list(self.resolved(rule).get("Targets")):
                dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
                queue = self.target(dead_letter, "AWS::SQS::Queue")
                if dead_letter is not None:
                    yield self._queue_delivery(
                        rule, queue, dead_letter, "events.amazonaws.com", context
                    )
                written = self.target(target.get("Arn"), "AWS::SNS::Topic", "AWS::SQS::Queue")
                if written is not None and not target.get("RoleArn"):
                    yield self._write(rule, written, "events.amazonaws.com", context)

    def alarm_actions(self) -> Iterator[Delivery]:
        """CloudWatch alarms: their SNS actions."""
        for alarm in self.resolver.resources(
            "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"
        ):
            properties = self.resolved(alarm)
            actions = {
                str(action)
                for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
                for action in as_list(properties.get(key))
            }
            for action in sorted(actions):
                topic = self.target(action, "AWS::SNS::Topic")
                if topic is not None:
                    yield self._write(
                        alarm, topic, "cloudwatch.amazonaws.com", self.source_context(alarm)
                    )

    def topic_subscriptions(self) -> Iterator[Delivery]:
        """SNS: subscriptions of SQS queues."""
        for subscription in self.resolver.resources("AWS::SNS::Subscription"):
            properties = self.resolved(subscription)
            topic = self.target(properties.get("TopicArn"), "AWS::SNS::Topic")
            queue = self.target(properties.get("Endpoint"), "AWS::SQS::Queue")
            if properties.get("Protocol") == "sqs" and queue is not None:
                context = {
                    "aws:SourceArn": str(properties.get("TopicArn")),
                    "aws:SourceAccount": subscription.stack.account,
                }
                yield self._write(topic or subscription, queue, "sns.amazonaws.com", context)

    def async_notifications(self) -> Iterator[Delivery]:
        """SageMaker asynchronous inference: its SNS topics, with each variant's model's
        execution role."""
        for config in self.resolver.resources("AWS::SageMaker::EndpointConfig"):
            properties = self.resolved(config)
            notification = (
                (properties.get("AsyncInferenceConfig") or {}).get("OutputConfig") or {}
            ).get("NotificationConfig") or {}
            topics = [
                notification.get(k) for k in ("SuccessTopic", "ErrorTopic") if notification.get(k)
            ]
            for variant in as_list(properties.get("ProductionVariants")):
                model = self.target(variant.get("ModelName"), "AWS::SageMaker::Model")
                role_arn = self.resolved(model).get("ExecutionRoleArn") if model else None
                role = self.target(role_arn, "AWS::IAM::Role")
                for topic_arn in topics:
                    topic = self.target(topic_arn, "AWS::SNS::Topic")
                    if topic is not None and role is not None:
                        yield self._write(config, topic, "sagemaker.amazonaws.com", {}, role=role)

    def function_dead_letters(self) -> Iterator[Delivery]:
        """Lambda: each function's dead-letter queue or topic, with the function's role."""
        for function in self.resolver.resources("AWS::Lambda::Function"):
            properties = self.resolved(function)
            written = self.target(
                (properties.get("DeadLetterConfig") or {}).get("TargetArn"),
                "AWS::SQS::Queue",
                "AWS::SNS::Topic",
            )
            role = self.target(properties.get("Role"), "AWS::IAM::Role")
            if written is not None and role is not None:
                yield self._write(function, written, "lambda.amazonaws.com", {}, role=role)

    def access_logs(self) -> Iterator[Delivery]:
        """S3 server access logs: into the target bucket, under the bucket's prefix."""
        for bucket in self.resolver.resources("AWS::S3::Bucket"):
            logging = self.resolved(bucket).get("LoggingConfiguration") or {}
            destination = self.target(logging.get("DestinationBucketName"), "AWS::S3::Bucket")
            if destination is None:
                continue
            key = (
                f"{self.arn(destination)}/{logging.get('LogFilePrefix', '')}2025-01-01-00-00-00-LOG"
            )
            yield Delivery(
                source=bucket.label,
                target=destination,
                action="s3:PutObject",
                resource_arn=key,
                service="logging.s3.amazonaws.com",
                context=self.source_context(bucket),
                key_actions=(),
            )

    def log_groups(self) -> Iterator[Delivery]:
        """CloudWatch Logs: the key of each encrypted log group."""
        for group in self.resolver.resources("AWS::Logs::LogGroup"):
            if self.resolved(group).get("KmsKeyId") is None:
                continue
            arn = self.arn(group).removesuffix(":*")
            region = group.stack.region
            yield Delivery(
                source=group.label,
                target=group,
                action="",
                resource_arn=arn,
                service=f"logs.{region}.amazonaws.com",
                key_actions=KMS_FOR_LOGS,
                key_context={
                    "kms:EncryptionContext:aws:logs:arn": arn,
                    **self.source_context(group, arn),
                },
            )

    def _queue_delivery(
        self,
        source: ResourceAt,
        queue: ResourceAt | None,
        arn: Any,
        service: str,
        context: dict[str, str],
    ) -> Delivery:
        if queue is None:  # outside the assembly: the check reports it
            queue = source
        return self._write(source, queue, service, context, resource_arn=str(arn))

    def _write(
        self,
        source: ResourceAt,
        target: ResourceAt,
        service: str,
        context: dict[str, str],
        *,
        role: ResourceAt | None = None,
        resource_arn: str | None = None,
    ) -> Delivery:
        action = "sqs:SendMessage" if target.type == "AWS::SQS::Queue" else "sns:Publish"
        return Delivery(
            source=source.label,
            target=target,
            action=action,
            resource_arn=resource_arn or self.arn(target),
            service=service,
            role=role,
            context=context,
        )


class DeliveryCheck:
    """Whether each delivery is allowed (see module docstring)."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.deliveries = Deliveries(resolver)

    def resource_policies(self, target: ResourceAt) -> list[Any]:
        """Policies attached to the target (queue, topic or bucket policies)."""
        reference = self.resolver.reference(target.stack, target.logical_id)
        arn = self.deliveries.arn(target)
        kinds = {
            "AWS::SQS::Queue": ("AWS::SQS::QueuePolicy", "Queues"),
            "AWS::SNS::Topic": ("AWS::SNS::TopicPolicy", "Topics"),
            "AWS::S3::Bucket": ("AWS::S3::BucketPolicy", "Bucket"),
        }
        if target.type not in kinds:
            return []
        policy_type, field_name = kinds[target.type]
        documents = []
        for policy in self.resolver.resources(policy_type):
            properties = self.deliveries.resolved(policy)
            if {reference, arn} & set(map(str, as_list(properties.get(field_name)))):
                documents.append(properties.get("PolicyDocument"))
        return documents

    def identity_policies(self, role: ResourceAt) -> list[Any]:
        """The role's inline policies, its ``AWS::IAM::Policy`` attachments and the
        customer-managed policies of the assembly it attaches."""
        name = self.resolver.reference(role.stack, role.logical_id)
        properties = self.deliveries.resolved(role)
        documents = [p.get("PolicyDocument") for p in as_list(properties.get("Policies"))]
        for policy in self.resolver.resources("AWS::IAM::Policy"):
            attached = self.deliveries.resolved(policy)
            if name in as_list(attached.get("Roles")):
                documents.append(attached.get("PolicyDocument"))
        for arn in as_list(properties.get("ManagedPolicyArns")):
            managed = self.deliveries.target(arn, "AWS::IAM::ManagedPolicy")
            if managed is not None:
                documents.append(self.deliveries.resolved(managed).get("PolicyDocument"))
        return documents

    def key(self, target: ResourceAt) -> tuple[ResourceAt | None, str | None]:
        """The KMS key that encrypts the target (and the key id as written, if any)."""
        properties = self.deliveries.resolved(target)
        value = properties.get("KmsMasterKeyId") or properties.get("KmsKeyId")
        if value is None:
            return None, None
        value = str(value)
        at = self.deliveries.target(value, "AWS::KMS::Key", "AWS::KMS::Alias")
        if at is None and value.startswith("alias/"):
            at = next(
                (
                    alias
                    for alias in self.resolver.resources("AWS::KMS::Alias")
                    if self.deliveries.resolved(alias).get("AliasName") == value
                ),
                None,
            )
        if at is not None and at.type == "AWS::KMS::Alias":
            at = self.deliveries.target(
                self.deliveries.resolved(at).get("TargetKeyId"), "AWS::KMS::Key"
            )
        return at, value

    def problems(self, delivery: Delivery) -> list[str]:
        """What denies the delivery (empty when it is allowed)."""
        if delivery.target.label == delivery.source and delivery.action:
            return [
                f"{delivery.action} into {delivery.resource_arn}, which is not a resource of the assembly"
            ]
        problems = self._resource_problems(delivery) if delivery.action else []
        if delivery.target.type == "AWS::S3::Bucket":
            return problems + self._log_bucket_problems(delivery)
        return problems + self._key_problems(delivery)

    def _requester(
        self, delivery: Delivery, action: str, resource: str, context: Mapping[str, str]
    ) -> Request:
        if delivery.role is not None:
            role_arn = self.deliveries.arn(delivery.role)
            return Request(
                action=action, resource=resource, principal_arn=role_arn, context=context
            )
        return Request(action=action, resource=resource, service=delivery.service, context=context)

    def _resource_problems(self, delivery: Delivery) -> list[str]:
        request = self._requester(
            delivery, delivery.action, delivery.resource_arn, delivery.context
        )
        policies = self.resource_policies(delivery.target)
        target = delivery.target.label
        if delivery.role is None:
            if not allowed(policies, request):
                return [
                    f"the policy of {target} does not allow {delivery.service} {delivery.action}"
                ]
            return []
        problems = []
        if not allowed(self.identity_policies(delivery.role), request):
            problems.append(
                f"role {delivery.role.label} is not allowed {delivery.action} on {target}"
            )
        if not not_denied(policies, request):
            problems.append(
                f"the policy of {target} denies {delivery.action} to {delivery.role.label}"
            )
        return problems

    def _key_problems(self, delivery: Delivery) -> list[str]:
        key, written = self.key(delivery.target)
        if written is None:
            return []
        writer = delivery.role.label if delivery.role else delivery.service
        if key is None:
            return [
                f"{delivery.target.label} is encrypted with {written}, whose key policy {writer} cannot be shown to allow"
            ]
        policy = self.deliveries.resolved(key).get("KeyPolicy")
        key_arn = self.deliveries.arn(key)
        context = dict(
            delivery.key_context if delivery.key_context is not None else delivery.context
        )
        if delivery.role is not None:
            service = delivery.target.type.split("::")[1].lower()
            context = {"kms:ViaService": f"{service}.{key.stack.region}.amazonaws.com", **context}
        missing = [
            action
            for action in delivery.key_actions
            if not self._key_allows(
                delivery, policy, self._requester(delivery, action, key_arn, context)
            )
        ]
        if missing:
            return [
                f"the key policy of {key.label} does not allow {writer} {', '.join(missing)} (for {delivery.target.label})"
            ]
        return []

    def _key_allows(self, delivery: Delivery, policy: Any, request: Request) -> bool:
        if allowed([policy], request):
            return True
        if delivery.role is None or not grants_account([policy], request):
            return False
        return allowed(self.identity_policies(delivery.role), request)

    def _log_bucket_problems(self, delivery: Delivery) -> list[str]:
        encryption = self.deliveries.resolved(delivery.target).get("BucketEncryption") or {}
        algorithms = {
            str((rule.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm"))
            for rule in as_list(encryption.get("ServerSideEncryptionConfiguration"))
        }
        if algorithms & {"aws:kms", "aws:kms:dsse"}:
            return [
                f"{delivery.target.label} receives server access logs but is encrypted with SSE-KMS, which S3 cannot deliver them into (SSE-S3 only)"
            ]
        return []


def check(resolver: Resolver) -> CheckResult:
    """Every delivery of the assembly; a denied one is a finding (rule ``DLV``)."""
    checker = DeliveryCheck(resolver)
    deliveries: Sequence[Delivery] = list(checker.deliveries.all())
    findings = [
        Finding("DLV", delivery.source, f"{delivery.service} -> {delivery.target.label}: {problem}")
        for delivery in deliveries
        for problem in checker.problems(delivery)
    ]
    return CheckResult(len(deliveries), tuple(findings))

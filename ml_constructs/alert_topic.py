"""The SNS topic an environment's alarms notify, encrypted with its own key."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct


class AlertTopic(Construct):
    """An encrypted alert topic with e-mail subscribers, or an existing topic imported by ARN.

    The key (``key_alias``) also serves the serving layer's other messaging (the
    asynchronous endpoints' notification topics and dead-letter queues): CloudWatch, SNS
    and SageMaker may use it, which the platform's data keys do not allow.

    Attributes
    ----------
    topic:
        The ``sns.ITopic`` alarms send to.
    key:
        The messaging key (``kms.Key``), created even when the topic is imported.

    Parameters
    ----------
    topic_name:
        Name of the created topic (and the start of the key's description).
    key_alias:
        Alias of the messaging key (``alias/...``).
    existing_topic_arn:
        Import this topic instead of creating one (default: create).
    email_addresses:
        Subscribed to the created topic (default none).
    removal_policy:
        Of the key (default ``RETAIN``).
    pending_window:
        Key deletion window (default 30 days).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic_name: str,
        key_alias: str,
        existing_topic_arn: str | None = None,
        email_addresses: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        pending_window: Duration = Duration.days(30),
    ) -> None:
        super().__init__(scope, construct_id)
        if existing_topic_arn and email_addresses:
            raise ValueError(
                "email_addresses subscribe to a created topic: give no existing_topic_arn"
            )
        self.key = kms.Key(
            self,
            "Key",
            description=f"{topic_name}: alarm and asynchronous inference messages",
            alias=key_alias,
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            removal_policy=removal_policy,
            pending_window=pending_window,
        )
        account = Stack.of(self).account
        for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com"):
            # CloudWatch and EventBridge encrypt the messages they publish; SNS re-encrypts
            # for SQS subscribers. Only on behalf of this account's alarms and rules.
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    principals=[iam.ServicePrincipal(service)],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": account}},
                )
            )
        self.topic: sns.ITopic = (
            sns.Topic.from_topic_arn(self, "Default", existing_topic_arn)
            if existing_topic_arn
            else self._topic(topic_name, email_addresses)
        )

    def _topic(self, topic_name: str, email_addresses: Sequence[str]) -> sns.Topic:
        """The encrypted topic this account's alarms and rules publish to, and its
        subscribers."""
        topic = sns.Topic(
            self,
            "Default",
            topic_name=topic_name,
            display_name=topic_name,
            master_key=self.key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsAndRulesOfThisAccount",
                actions=["sns:Publish"],
                principals=[
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                    iam.ServicePrincipal("events.amazonaws.com"),
                ],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        for address in email_addresses:
            topic.add_subscription(subscriptions.EmailSubscription(address))
        return topic

    def rule_target(self) -> events.IRuleTarget:
        """A rule target publishing to the topic, relying on the topic's own policy.

        CDK's ``targets.SnsTopic`` would add a statement letting EventBridge of any account
        publish; the topic's policy already allows this account's rules, and no other.
        """
        return _TopicTarget(self.topic)


@jsii.implements(events.IRuleTarget)
class _TopicTarget:
    def __init__(self, topic: sns.ITopic) -> None:
        self.topic = topic

    # IRuleTarget.bind's signature: the target needs neither the rule nor an id.
    def bind(
        self,
        rule: events_refs.IRuleRef,  # noqa: ARG002
        id: str | None = None,  # noqa: ARG002
    ) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self.topic.topic_arn)

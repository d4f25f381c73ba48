"""Success and error topics of an asynchronous endpoint, errors kept in a dead-letter queue."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs.platform_function import dead_letter_store


class AsyncInferenceNotifications(Construct):
    """Two encrypted topics; every error notification is also kept in an SQS queue.

    Clients subscribe to the topics; the queue keeps failed requests' notifications for
    14 days so that none is lost while no one listens.

    Attributes
    ----------
    success_topic, error_topic:
        ``sns.Topic``.
    dead_letter_queue:
        ``sqs.Queue`` subscribed (raw delivery) to ``error_topic``.
    error_subscription:
        The ``sns.Subscription`` of the queue.

    Parameters
    ----------
    key:
        Encrypts the topics and the queue; SNS must be allowed to use it.
    removal_policy:
        Of the queue (default ``DESTROY``: it holds notifications, not data).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        self.success_topic = sns.Topic(self, "Success", master_key=key, enforce_ssl=True)
        self.error_topic = sns.Topic(self, "Error", master_key=key, enforce_ssl=True)
        self.dead_letter_queue = dead_letter_store(
            self,
            "Errors",
            key=key,
            reason="This queue is itself the dead-letter store of the endpoint's error"
            " notifications.",
            removal_policy=removal_policy,
        )
        # Subscribed by hand: CDK's SqsSubscription would add the topic's ARN to the key's
        # policy, a cycle when the key also encrypts the topic. The key already lets SNS
        # encrypt for this account; the queue's policy admits this topic only.
        self.dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                resources=[self.dead_letter_queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self.error_topic.topic_arn}},
            )
        )
        self.error_subscription = sns.Subscription(
            self,
            "ErrorsToQueue",
            topic=self.error_topic,
            protocol=sns.SubscriptionProtocol.SQS,
            endpoint=self.dead_letter_queue.queue_arn,
            raw_message_delivery=True,
        )

"""The DynamoDB table the closed-loop functions remember processed events in."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ml_constructs.compliance import acknowledge

#: What Powertools' idempotency layer and the cool-down records do with the table's items.
RECORD_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
)
#: What DynamoDB needs of the caller on the table's customer-managed key (as CDK's grants).
KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
)


class IdempotencyTable(Construct):
    """A table keyed on ``id`` with records expiring on ``expiration`` (Powertools' layout).

    It holds the Powertools idempotency records (one per processed event) and the
    per-model cool-down records of the retraining trigger.

    Attributes
    ----------
    table:
        The ``dynamodb.TableV2`` (on-demand, point-in-time recovery, customer-managed key).

    Parameters
    ----------
    key:
        Encryption key.
    removal_policy:
        What happens to the table when it leaves its stack.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Default",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.table,
            "NIST.800.53.R5-DynamoDBInBackupPlan",
            "HIPAA.Security-DynamoDBInBackupPlan",
            "PCI.DSS.321-DynamoDBInBackupPlan",
            reason="Idempotency and cool-down records live a day at most; point-in-time"
            " recovery covers them and a backup plan would keep nothing of value.",
        )

    def grant_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read and write the table's records (and use its key).

        Narrower than ``grant_read_write_data``, whose stream actions (``GetRecords``,
        ``GetShardIterator``) act on stream ARNs only and granted nothing on the table's.
        """
        key = self.table.encryption_key
        if key is not None:
            key.grant(grantee, *KEY_ACTIONS)
        return self.table.grant(grantee, *RECORD_ACTIONS)

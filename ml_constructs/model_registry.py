"""The SageMaker Model Registry of an environment: one model package group per model."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.sagemaker_arns import package_group_arns
from platform_config import ModelSpec
from platform_config.names import ResourceNames

#: What a reader account may do with this registry's packages: enough to promote them.
READER_ACTIONS = (
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
)


class ModelPackageGroup(Construct):
    """A model package group and its cross-account read policy.

    Approval events of the group are consumed where they are acted on (the deployment
    automation's rule names the groups it deploys); a rule here without a target would
    match them and do nothing.

    Attributes
    ----------
    group:
        The ``AWS::SageMaker::ModelPackageGroup`` (logical id stable via ``Default``).
    group_name, group_arn:
        Its name and ARN.

    Parameters
    ----------
    group_name:
        Physical name (SageMaker needs a stable one: the pipelines register into it).
    description:
        Shown in the registry.
    reader_accounts:
        Accounts allowed to read the group's packages (default none).
    approvers:
        ARNs of the only roles that may change a package's approval status; every other
        principal is denied by the group's policy (default none: no such restriction).
    removal_policy:
        What happens to the group (and its packages) when it leaves its stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        description: str,
        reader_accounts: Sequence[str] = (),
        approvers: Sequence[str] = (),
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        statements = self._reader_statements(stack, group_name, reader_accounts)
        statements += self._approver_statements(stack, group_name, approvers)
        self.group_name = group_name
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Default",
            model_package_group_name=group_name,
            model_package_group_description=description or None,
            model_package_group_policy=(
                {"Version": "2012-10-17", "Statement": statements} if statements else None
            ),
        )
        self.group.apply_removal_policy(removal_policy)
        self.group_arn = self.group.attr_model_package_group_arn

    @classmethod
    def _reader_statements(
        cls, stack: Stack, group_name: str, accounts: Sequence[str]
    ) -> list[dict[str, object]]:
        """The next environments' accounts may read the packages, to promote them."""
        if not accounts:
            return []
        return [
            {
                "Sid": "PromotionReaders",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [f"arn:{stack.partition}:iam::{account}:root" for account in accounts]
                },
                "Action": list(READER_ACTIONS),
                "Resource": package_group_arns(stack, group_name),
            }
        ]

    @classmethod
    def _approver_statements(
        cls, stack: Stack, group_name: str, approvers: Sequence[str]
    ) -> list[dict[str, object]]:
        """Only the named people may change a package's approval status."""
        if not approvers:
            return []
        return [
            {
                "Sid": "OnlyApproversApprove",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["sagemaker:UpdateModelPackage"],
                "Resource": package_group_arns(stack, group_name)[1:],
                "Condition": {
                    "Null": {"sagemaker:ModelApprovalStatus": "false"},
                    "ArnNotEquals": {"aws:PrincipalArn": list(approvers)},
                },
            }
        ]


class ModelRegistry(Construct):
    """One :class:`ModelPackageGroup` per model of the catalogue.

    Attributes
    ----------
    groups:
        The groups, by model name. Each child's id is the model's name, so adding or removing
        a model never changes another model's logical ids.

    Parameters
    ----------
    models:
        The model catalogue.
    names:
        The environment's names: a group is ``names.model_package_group(<model name>)``.
    reader_accounts:
        Accounts that may read every group's packages (default none).
    removal_policy:
        Applied to every group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        models: Sequence[ModelSpec],
        names: ResourceNames,
        reader_accounts: Sequence[str] = (),
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.groups: dict[str, ModelPackageGroup] = {
            model.name: ModelPackageGroup(
                self,
                model.name,
                group_name=names.model_package_group(model.name),
                description=model.description,
                reader_accounts=reader_accounts,
                removal_policy=removal_policy,
            )
            for model in models
        }

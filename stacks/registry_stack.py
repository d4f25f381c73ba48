"""What every model's registry shares: the feature store and the approvers' policy."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs import FeatureStore, acknowledge_wildcards
from ml_constructs.sagemaker_arns import package_group_arns
from platform_config import EnvironmentConfig
from platform_config.names import EVERY_MODEL, BucketKind
from stacks.data_stack import DataStack
from stacks.removal import removal_policy


class RegistryStack(Stack):
    """Feature groups (one per entry of ``config/feature_groups.yaml``).

    Each model's package group lives in the model's own registry stack
    (:class:`~stacks.model_registry_stack.ModelRegistryStack`), so that no stack grows with
    the model catalogue.

    Attributes
    ----------
    feature_store:
        :class:`FeatureStore`, its offline stores under ``feature-store/`` in the datasets
        bucket.
    approvers_policy:
        Managed policy ``<prefix>-model-approvers``: approve or reject this environment's
        model packages. Attach it to the roles of ``model_registry.approvers`` (it is not
        attached here, so that a fresh account deploys before those roles exist); the
        groups' policy denies the approval to everyone else.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = removal_policy(config)
        names = config.names
        self.feature_store = FeatureStore(
            self,
            "FeatureStore",
            feature_groups=config.feature_groups,
            names=names,
            offline_bucket=data.import_bucket(self, BucketKind.DATASETS),
            key=data.keys.data,
            removal_policy=removal,
        )
        groups = names.model_package_group(EVERY_MODEL)
        approve = iam.PolicyStatement(
            sid="ApproveModelPackages",
            actions=[
                "sagemaker:UpdateModelPackage",
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:ListModelPackages",
            ],
            resources=package_group_arns(self, groups),
        )
        self.approvers_policy = iam.ManagedPolicy(
            self,
            "ApproversPolicy",
            managed_policy_name=names.model_approvers_policy(),
            description=f"Approve or reject the model packages of {config.name} (people only)",
            statements=[approve],
        )
        acknowledge_wildcards(
            self.approvers_policy,
            [approve],
            reason="Every package version of this environment's groups: versions are numbered"
            " by SageMaker, and an approver reviews any of them.",
        )

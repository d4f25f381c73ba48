"""Stateful ML assets every model shares: the feature store."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ml_constructs import FeatureStore
from platform_config import EnvironmentConfig
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
        self.feature_store = FeatureStore(
            self,
            "FeatureStore",
            feature_groups=config.feature_groups,
            name_prefix=config.name_prefix,
            offline_bucket=data.import_bucket(self, "Datasets"),
            key=data.keys.data,
            removal_policy=removal,
        )

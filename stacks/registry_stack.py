"""Stateful ML assets of an environment: the model registry and the feature store."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ml_constructs import FeatureStore, ModelRegistry
from platform_config import EnvironmentConfig
from stacks.data_stack import DataStack
from stacks.removal import removal_policy


class RegistryStack(Stack):
    """Model package groups (one per model) and feature groups (one per catalogue entry).

    Attributes
    ----------
    model_registry:
        :class:`ModelRegistry`.
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
        self.model_registry = ModelRegistry(
            self,
            "ModelRegistry",
            models=config.models,
            name_prefix=config.name_prefix,
            reader_accounts=config.model_registry.reader_accounts,
            removal_policy=removal,
        )
        self.feature_store = FeatureStore(
            self,
            "FeatureStore",
            feature_groups=config.feature_groups,
            name_prefix=config.name_prefix,
            offline_bucket=data.import_bucket(self, "Datasets"),
            key=data.keys.data,
            removal_policy=removal,
        )

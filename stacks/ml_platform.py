"""The whole platform of one environment: its stacks, named and wired."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack, Tags
from constructs import Construct

from platform_config import EnvironmentConfig, ModelSpec
from stacks.automation_stack import AutomationStack
from stacks.data_stack import DataStack
from stacks.model_registry_stack import ModelRegistryStack
from stacks.model_stack import ModelStack
from stacks.network_stack import NetworkStack
from stacks.registry_stack import RegistryStack
from stacks.shared_stacks import SharedStacks
from stacks.workspace_stack import WorkspaceStack


class ModelStacks:
    """The two stacks of one model: its registry (stateful) and everything else.

    Attributes
    ----------
    registry:
        :class:`ModelRegistryStack` ``<prefix>-registry-<model>``.
    model:
        :class:`ModelStack` ``<prefix>-model-<model>``.
    """

    def __init__(self, registry: ModelRegistryStack, model: ModelStack) -> None:
        self.registry = registry
        self.model = model


class MlPlatform:
    """Every stack of one environment, in its account and region, with explicit names.

    Shared stacks (``<prefix>-data``, ``-network``, ``-registry``, ``-workspace``,
    ``-automation``) hold what every model uses; each model has two stacks of its own under
    ``Models/<model>/`` (``Registry`` and ``Model``), so that adding a model adds stacks and
    changes none (``docs/architecture.md``). The stacks are created in ``scope``: a
    construct named after the environment at the top of the app (so ``cdk deploy -c
    env=dev --all`` finds them) or the environment's
    :class:`~stacks.platform_stage.PlatformStage`; both give the same construct paths and
    templates.

    Attributes
    ----------
    data, network, registry, workspace, automation:
        The shared stacks.
    models:
        :class:`ModelStacks` by model name.
    stacks:
        All stacks, in deployment order.
    """

    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        self._config = config
        names = config.names
        self.data = DataStack(
            scope,
            "Data",
            config=config,
            **self._placement(names.stack("data"), "KMS keys and S3 buckets (stateful)"),
        )
        self.network = NetworkStack(
            scope,
            "Network",
            config=config,
            logs_key=self.data.keys.logs,
            **self._placement(names.stack("network"), "VPC, endpoints and security groups"),
        )
        self.registry = RegistryStack(
            scope,
            "Registry",
            config=config,
            data=self.data,
            **self._placement(names.stack("registry"), "feature store (stateful)"),
        )
        self.workspace = WorkspaceStack(
            scope,
            "Workspace",
            config=config,
            data=self.data,
            network=self.network,
            registry=self.registry,
            **self._placement(names.stack("workspace"), "SageMaker domain, Studio and MLflow"),
        )
        self.automation = AutomationStack(
            scope,
            "Automation",
            config=config,
            data=self.data,
            network=self.network,
            **self._placement(
                names.stack("automation"),
                "alerts, step code, release and retraining automation",
            ),
        )
        shared = SharedStacks(config, self.data, self.network, self.automation)
        models_scope = Construct(scope, "Models")
        self.models = {
            model.name: self._model_stacks(Construct(models_scope, model.name), model, shared)
            for model in config.models
        }
        self.stacks: list[Stack] = [
            self.data,
            self.network,
            self.registry,
            self.workspace,
            self.automation,
        ] + [stack for pair in self.models.values() for stack in (pair.registry, pair.model)]
        for key, value in sorted(config.tags.items()):
            Tags.of(scope).add(key, value)

    def _placement(self, name: str, what: str) -> dict[str, Any]:
        """Where a stack goes and how it is named: the same for every stack."""
        config = self._config
        return {
            "env": Environment(account=config.account, region=config.region),
            "stack_name": name,
            "description": f"ML platform ({config.name}): {what}",
            "termination_protection": config.termination_protection,
        }

    def _model_stacks(
        self, scope: Construct, model: ModelSpec, shared: SharedStacks
    ) -> ModelStacks:
        """The two stacks of ``model``, in ``scope`` (``Models/<model>``)."""
        config, names = self._config, self._config.names
        registry = ModelRegistryStack(
            scope,
            "Registry",
            config=config,
            model=model,
            automation=self.automation,
            **self._placement(
                names.model_registry_stack(model.name),
                f"{model.name}'s model package group and release record (stateful)",
            ),
        )
        stack = ModelStack(
            scope,
            "Model",
            model=model,
            shared=shared,
            registry=registry,
            **self._placement(
                names.model_stack(model.name),
                f"{model.name}'s pipelines, serving and monitoring",
            ),
        )
        if config.mlflow.enabled and config.mlflow.kind == "app":
            # Its pipelines resolve the app's ARN from the workspace's SSM parameter.
            stack.add_stack_dependency(self.workspace, "the MLflow app's ARN parameter")
        return ModelStacks(registry, stack)

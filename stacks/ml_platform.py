"""The whole platform of one environment: its stacks, named and wired."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack, Tags
from constructs import Construct

from platform_config import EnvironmentConfig
from stacks.automation_stack import AutomationStack
from stacks.data_stack import DataStack
from stacks.monitoring_stack import MonitoredEndpoint, MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.pipelines_stack import PipelinesStack
from stacks.registry_stack import RegistryStack
from stacks.serving_stack import ServingStack
from stacks.workspace_stack import WorkspaceStack


class MlPlatform:
    """Every stack of one environment, in its account and region, with explicit names.

    The stacks are created directly in ``scope``: a construct named after the environment at
    the top of the app (so ``cdk deploy -c env=dev --all`` finds them) or the environment's
    :class:`~stacks.platform_stage.PlatformStage` (the delivery pipeline). Both give the same
    construct paths, so both deploy the same templates to the same stacks, named
    ``ml-platform-<environment>-<part>``.

    Attributes
    ----------
    data, network, registry, workspace, serving, pipelines, monitoring, automation:
        The stacks.
    stacks:
        All stacks, in deployment order.
    """

    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        env = Environment(account=config.account, region=config.region)

        def placement(part: str, what: str) -> dict[str, Any]:
            """Where a stack goes and how it is named: the same for every stack."""
            return {
                "env": env,
                "stack_name": f"{config.name_prefix}-{part}",
                "description": f"ML platform ({config.name}): {what}",
                "termination_protection": config.termination_protection,
            }

        self.data = DataStack(
            scope,
            "Data",
            config=config,
            **placement("data", "KMS keys and S3 buckets (stateful)"),
        )
        self.network = NetworkStack(
            scope,
            "Network",
            config=config,
            logs_key=self.data.keys.logs,
            **placement("network", "VPC, endpoints and security groups"),
        )
        self.registry = RegistryStack(
            scope,
            "Registry",
            config=config,
            data=self.data,
            **placement("registry", "model registry and feature store (stateful)"),
        )
        self.workspace = WorkspaceStack(
            scope,
            "Workspace",
            config=config,
            data=self.data,
            network=self.network,
            registry=self.registry,
            **placement("workspace", "SageMaker domain, Studio and MLflow"),
        )
        self.serving = ServingStack(
            scope,
            "Serving",
            config=config,
            data=self.data,
            network=self.network,
            registry=self.registry,
            **placement("serving", "endpoints, their scaling, alarms and dashboards"),
        )
        self.pipelines = PipelinesStack(
            scope,
            "Pipelines",
            config=config,
            data=self.data,
            network=self.network,
            registry=self.registry,
            workspace=self.workspace,
            serving=self.serving,
            **placement("pipelines", "SageMaker pipelines, their step code and schedules"),
        )
        self.monitoring = MonitoringStack(
            scope,
            "Monitoring",
            config=config,
            data=self.data,
            network=self.network,
            workspace=self.workspace,
            endpoints=[
                MonitoredEndpoint(
                    model=model, endpoint_name=self.serving.capturing_endpoints[model.name]
                )
                for model in config.models
                if model.name in self.serving.capturing_endpoints
            ],
            alert_topic=self.serving.alert_topic,
            **placement("monitoring", "Model Monitor schedules and drift alarms"),
        )
        self.monitoring.add_dependency(self.serving, "monitors need their endpoints")
        self.automation = AutomationStack(
            scope,
            "Automation",
            config=config,
            data=self.data,
            network=self.network,
            serving=self.serving,
            **placement("automation", "retraining and deployment automation"),
        )
        self.stacks: list[Stack] = [
            self.data,
            self.network,
            self.registry,
            self.workspace,
            self.serving,
            self.pipelines,
            self.monitoring,
            self.automation,
        ]
        for key, value in sorted(config.tags.items()):
            Tags.of(scope).add(key, value)

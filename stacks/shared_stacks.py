"""What a model's stacks use of their environment: its configuration and shared stacks."""

from __future__ import annotations

from dataclasses import dataclass

from platform_config import EnvironmentConfig
from stacks.automation_stack import AutomationStack
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack


@dataclass(frozen=True)
class SharedStacks:
    """The environment a model's constructs are built in.

    Attributes
    ----------
    config:
        The environment's validated configuration (its names: ``config.names``).
    data:
        :class:`DataStack`: keys and buckets.
    network:
        :class:`NetworkStack`: the VPC, subnets and security groups.
    automation:
        :class:`AutomationStack`: alerts, step code, the deploy-time provider.
    """

    config: EnvironmentConfig
    data: DataStack
    network: NetworkStack
    automation: AutomationStack

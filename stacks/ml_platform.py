"""The whole platform of one environment: its stacks, named and wired."""

from __future__ import annotations

from aws_cdk import Environment, Tags
from constructs import Construct

from platform_config import EnvironmentConfig
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack


class MlPlatform(Construct):
    """Every stack of one environment, in its account and region, with explicit names.

    Stack names are ``ml-platform-<environment>-<part>``; the same construct is used at the
    top of the app (``cdk deploy -c env=dev --all``) and inside :class:`PlatformStage` (the
    delivery pipeline), so both deploy the same CloudFormation stacks.

    Attributes
    ----------
    data, network:
        The stacks.
    stacks:
        All stacks, in deployment order.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        env = Environment(account=config.account, region=config.region)
        prefix = f"ml-platform-{config.name}"
        protect = config.termination_protection

        self.data = DataStack(
            self,
            "Data",
            config=config,
            env=env,
            stack_name=f"{prefix}-data",
            description=f"ML platform ({config.name}): KMS keys and S3 buckets (stateful)",
            termination_protection=protect,
        )
        self.network = NetworkStack(
            self,
            "Network",
            config=config,
            logs_key=self.data.keys.logs,
            env=env,
            stack_name=f"{prefix}-network",
            description=f"ML platform ({config.name}): VPC, endpoints and security groups",
            termination_protection=protect,
        )
        self.stacks = [self.data, self.network]
        for key, value in sorted(config.tags.items()):
            Tags.of(self).add(key, value)

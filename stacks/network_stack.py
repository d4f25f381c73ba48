"""The network of an environment."""

from __future__ import annotations

from typing import Any

from aws_cdk import Fn, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from ml_constructs import PlatformNetwork
from platform_config import EnvironmentConfig
from stacks.removal import log_retention, removal_policy


class NetworkStack(Stack):
    """The VPC, its endpoints and security groups (:class:`PlatformNetwork`).

    Its availability zones are the imported VPC's, or the region's first ``zone_count``
    resolved by CloudFormation (``Fn::GetAZs``): synth never looks them up.

    Attributes
    ----------
    network:
        The :class:`PlatformNetwork`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        logs_key: kms.IKey,
        **kwargs: Any,
    ) -> None:
        existing = config.network.existing_vpc
        self._zones = (
            list(existing.availability_zones)
            if existing
            else [Fn.select(index, Fn.get_azs()) for index in range(config.network.zone_count)]
        )
        super().__init__(scope, construct_id, **kwargs)
        self.network = PlatformNetwork(
            self,
            "Network",
            config=config.network,
            flow_logs_key=logs_key,
            log_retention=log_retention(config),
            removal_policy=removal_policy(config),
        )

    @property
    def availability_zones(self) -> list[str]:
        """The zones to use, with no ``availability-zones`` context lookup at synth."""
        return self._zones

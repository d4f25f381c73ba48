"""The deployable unit of one environment, as the delivery pipeline uses it."""

from __future__ import annotations

from aws_cdk import Environment, Stage
from constructs import Construct

from platform_config import EnvironmentConfig
from stacks.ml_platform import MlPlatform


class PlatformStage(Stage):
    """A ``cdk.Stage`` holding the :class:`MlPlatform` of one environment.

    Give it the environment's construct id (``construct_id_of(config.name)``) for its
    templates to be the ones ``cdk deploy`` deploys.

    Attributes
    ----------
    platform:
        The environment's :class:`MlPlatform`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(
            scope, construct_id, env=Environment(account=config.account, region=config.region)
        )
        self.platform = MlPlatform(self, config=config)

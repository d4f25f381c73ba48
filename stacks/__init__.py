"""The platform's stacks, the per-environment composition and the delivery stage."""

from stacks.data_stack import DataStack
from stacks.ml_platform import MlPlatform
from stacks.network_stack import NetworkStack
from stacks.platform_app import build_platform, construct_id_of
from stacks.platform_stage import PlatformStage

__all__ = [
    "DataStack",
    "MlPlatform",
    "NetworkStack",
    "PlatformStage",
    "build_platform",
    "construct_id_of",
]

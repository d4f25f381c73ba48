"""What the serving constructs' tests give them: a role, a VPC placement, a key, a package."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from ml_constructs.model_endpoint import VariantPackage
from tests.constructs.helpers import (
    PACKAGE_ARN,
    isolated_vpc,
    key,
    provider,
    sagemaker_role,
    security_group,
)


def serving_props(stack: cdk.Stack, *, with_provider: bool = False) -> dict[str, Any]:
    """``role``, ``subnets``, ``security_group``, ``volume_key`` (and ``provider``)."""
    vpc = isolated_vpc(stack)
    props: dict[str, Any] = {
        "role": sagemaker_role(stack),
        "subnets": vpc.isolated_subnets,
        "security_group": security_group(stack, vpc),
        "volume_key": key(stack),
    }
    if with_provider:
        props["provider"] = provider(stack)
    return props


def champion(variant: str = "AllTraffic") -> dict[str, VariantPackage]:
    """The released champion's package for one variant."""
    return {variant: VariantPackage("Champion", PACKAGE_ARN)}

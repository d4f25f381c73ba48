"""The constrained values of the configuration files: CIDRs, accounts, regions, names, ...

Each is a pydantic type whose validator raises ``ValueError`` with a message that reads
after the offending value (``'10.0.0.0/33' is not a valid IPv4 CIDR``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr

from platform_config.aws_facts import region_problem

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

#: The shape of a region code in the partitions the platform supports (aws, aws-us-gov).
REGION_SHAPE = re.compile(r"^(us|eu|ap|ca|sa|me|af|il|mx)(-gov)?-[a-z]+-\d$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError("is not a valid IPv4 CIDR (for example 10.20.0.0/16)") from None
    if not 16 <= network.prefixlen <= 24:
        raise ValueError("must have a prefix length from /16 to /24 (the VPC limits)")
    return value


def _account(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise ValueError("is not an AWS account id (12 digits, quoted as a string)")
    return value


def _region(value: str) -> str:
    if not REGION_SHAPE.fullmatch(value):
        raise ValueError("is not an AWS region code (for example eu-west-1)")
    problem = region_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _resource_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            "is not a valid name (2 to 32 characters: lower-case letters, digits and '-',"
            " starting with a letter)"
        )
    return value


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
        raise ValueError(f"is not a CloudWatch Logs retention period (allowed: {allowed})")
    return value


Cidr = Annotated[StrictStr, AfterValidator(_ipv4_cidr)]
AccountId = Annotated[StrictStr, AfterValidator(_account)]
Region = Annotated[StrictStr, AfterValidator(_region)]
ResourceName = Annotated[StrictStr, AfterValidator(_resource_name)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
VpcId = Annotated[StrictStr, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
SubnetId = Annotated[StrictStr, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]

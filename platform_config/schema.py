"""Typed, frozen models of the platform configuration.

Each model forbids unknown keys, so a typo in a YAML file is an error, not a silently
ignored setting. Validators raise ``ValueError`` with a message that reads after the
offending value (``'10.0.0.0/33' is not a valid IPv4 CIDR``); the loader prefixes the file
and the field.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

_REGION = re.compile(r"^(us|eu|ap|ca|sa|me|af|il|mx)(-gov)?-[a-z]+-\d$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")


class FieldError(ValueError):
    """A cross-field check failed on one field: names it, relative to the model checked."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.message = message


class Frozen(BaseModel):
    """Base of every configuration model: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


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
    if not _REGION.fullmatch(value):
        raise ValueError("is not an AWS region code (for example eu-west-1)")
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


class Retention(str, enum.Enum):
    """What happens to stateful resources when their stack is deleted or replaces them."""

    RETAIN = "retain"
    DESTROY = "destroy"


class InterfaceEndpoint(str, enum.Enum):
    """Interface VPC endpoints the platform can create; each costs money per AZ-hour."""

    SAGEMAKER_API = "sagemaker_api"
    SAGEMAKER_RUNTIME = "sagemaker_runtime"
    SAGEMAKER_STUDIO = "sagemaker_studio"
    SAGEMAKER_NOTEBOOK = "sagemaker_notebook"
    STS = "sts"
    ECR_API = "ecr_api"
    ECR_DOCKER = "ecr_docker"
    CLOUDWATCH_LOGS = "cloudwatch_logs"
    CLOUDWATCH_MONITORING = "cloudwatch_monitoring"
    KMS = "kms"
    EVENTBRIDGE = "eventbridge"


class NewVpc(Frozen):
    """A VPC the platform creates: isolated private subnets only, no NAT, no internet gateway.

    Attributes
    ----------
    cidr:
        IPv4 CIDR of the VPC, /16 to /24.
    zone_count:
        How many availability zones to spread the subnets over (default 2, 2 to 6). The
        zones are the region's first ones, chosen by CloudFormation at deploy time
        (``Fn::GetAZs``), so synth needs no lookup and no zone name is hard-coded.
    """

    cidr: Cidr
    zone_count: int = Field(default=2, ge=2, le=6)


class ExistingVpc(Frozen):
    """A VPC owned elsewhere, imported by id with no lookup at synth.

    Attributes
    ----------
    vpc_id, cidr:
        The VPC's id and primary CIDR.
    availability_zones, subnet_ids:
        The private subnets the platform uses, one per AZ, in the same order.
    """

    vpc_id: VpcId
    cidr: Cidr
    availability_zones: tuple[StrictStr, ...] = Field(min_length=2, max_length=6)
    subnet_ids: tuple[SubnetId, ...] = Field(min_length=2, max_length=6)

    @model_validator(mode="after")
    def _one_subnet_per_zone(self) -> ExistingVpc:
        if len(self.subnet_ids) != len(self.availability_zones):
            raise FieldError(
                "subnet_ids",
                list(self.subnet_ids),
                f"has {len(self.subnet_ids)} entries but availability_zones has"
                f" {len(self.availability_zones)}; give one subnet per zone, in the same order",
            )
        return self


class NetworkConfig(Frozen):
    """Networking of an environment: exactly one of ``new_vpc`` or ``existing_vpc``.

    Attributes
    ----------
    new_vpc, existing_vpc:
        Where the platform runs; see :class:`NewVpc` and :class:`ExistingVpc`.
    interface_endpoints:
        Interface endpoints to create (default: all of :class:`InterfaceEndpoint`). With an
        existing VPC whose endpoints are managed elsewhere, give an empty list. The S3
        gateway endpoint (free) is always created for a new VPC.
    """

    new_vpc: NewVpc | None = None
    existing_vpc: ExistingVpc | None = None
    interface_endpoints: tuple[InterfaceEndpoint, ...] = tuple(InterfaceEndpoint)

    @model_validator(mode="after")
    def _exactly_one_vpc(self) -> NetworkConfig:
        if (self.new_vpc is None) == (self.existing_vpc is None):
            given = [key for key in ("new_vpc", "existing_vpc") if getattr(self, key) is not None]
            raise FieldError("", given, "must give exactly one of new_vpc or existing_vpc")
        endpoints = [endpoint.value for endpoint in self.interface_endpoints]
        if len(set(endpoints)) != len(endpoints):
            raise FieldError("interface_endpoints", endpoints, "lists an endpoint twice")
        return self

    @property
    def vpc(self) -> NewVpc | ExistingVpc:
        """The VPC settings, whichever kind is configured."""
        return self.new_vpc or self.existing_vpc  # type: ignore[return-value]


class DataConfig(Frozen):
    """Lifecycle of the platform's buckets (days).

    Attributes
    ----------
    noncurrent_version_expiration_days:
        Old object versions are deleted after this many days (default 90).
    infrequent_access_transition_days:
        Objects in the data capture and monitoring buckets move to S3 Standard-IA after this
        many days (default 30, minimum 30).
    data_capture_expiration_days, monitoring_reports_expiration_days:
        Captured requests and monitoring reports expire after this (default 365).
    access_logs_expiration_days:
        S3 server access logs expire after this (default 365).
    """

    noncurrent_version_expiration_days: int = Field(default=90, ge=1, le=3650)
    infrequent_access_transition_days: int = Field(default=30, ge=30, le=3650)
    data_capture_expiration_days: int = Field(default=365, ge=31, le=3650)
    monitoring_reports_expiration_days: int = Field(default=365, ge=31, le=3650)
    access_logs_expiration_days: int = Field(default=365, ge=1, le=3650)

    @model_validator(mode="after")
    def _expire_after_transition(self) -> DataConfig:
        for field in ("data_capture_expiration_days", "monitoring_reports_expiration_days"):
            if getattr(self, field) <= self.infrequent_access_transition_days:
                raise FieldError(
                    field,
                    getattr(self, field),
                    "must be greater than infrequent_access_transition_days"
                    f" ({self.infrequent_access_transition_days})",
                )
        return self


class ModelSpec(Frozen):
    """One model of the catalogue (``config/models.yaml``), after environment overrides.

    Attributes
    ----------
    name:
        The model's name: lower-case letters, digits and '-', used in every resource name
        derived from it (model package group, pipeline, endpoint).
    description:
        Free text shown in the registry (default empty).
    """

    name: ResourceName
    description: StrictStr = ""


class EnvironmentConfig(Frozen):
    """One environment (``config/<name>.yaml``): where and how the platform is deployed.

    Attributes
    ----------
    name:
        The environment's name, taken from the file name (not written in the file).
    account, region:
        Target AWS account (12 digits, quoted) and region.
    network:
        See :class:`NetworkConfig`.
    retention:
        ``retain`` keeps stateful resources (keys, buckets, registry) when their stack
        deletes them; ``destroy`` removes them (buckets must then be empty).
    termination_protection:
        Turn on CloudFormation termination protection on every stack.
    log_retention_days:
        Retention of every log group the platform creates.
    data:
        See :class:`DataConfig` (default: its defaults).
    tags:
        Tags applied to every resource (default none).
    models:
        The model catalogue with this environment's overrides applied (built by the loader).
    """

    name: ResourceName
    account: AccountId
    region: Region
    network: NetworkConfig
    retention: Retention
    termination_protection: bool
    log_retention_days: LogRetentionDays = 365
    data: DataConfig = DataConfig()
    tags: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    models: tuple[ModelSpec, ...] = ()

    @model_validator(mode="after")
    def _cross_checks(self) -> EnvironmentConfig:
        zones = self.network.existing_vpc.availability_zones if self.network.existing_vpc else ()
        for index, zone in enumerate(zones):
            if not (zone.startswith(self.region) and len(zone) == len(self.region) + 1):
                raise FieldError(
                    f"network.existing_vpc.availability_zones[{index}]",
                    zone,
                    f"is not a zone of region {self.region}"
                    f" (expected {self.region}a, {self.region}b, ...)",
                )
        if len(set(zones)) != len(zones):
            raise FieldError(
                "network.existing_vpc.availability_zones", list(zones), "lists a zone twice"
            )
        for key, value in self.tags.items():
            if not _TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
                raise FieldError(
                    f"tags.{key}", key, "is not an allowed tag key (1-128 characters, no 'aws:')"
                )
            if len(value) > 256:
                raise FieldError(f"tags.{key}", value, "is longer than 256 characters")
        names = [model.name for model in self.models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise FieldError("models", duplicates, "repeats model names; each must be unique")
        return self

    @property
    def is_retained(self) -> bool:
        """Whether stateful resources are kept when deleted from their stack."""
        return self.retention is Retention.RETAIN


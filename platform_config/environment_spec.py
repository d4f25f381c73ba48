"""The sections of an environment file (``config/<name>.yaml``) and :class:`EnvironmentSpec`,
its fields.

Each model forbids unknown keys, so a typo in a YAML file is an error, not a silently
ignored setting. The checks across sections (and against what AWS accepts) are
``EnvironmentConfig``'s (:mod:`platform_config.schema`).
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import Field, StrictStr, model_validator

from platform_config.alerts_spec import AlertsSpec
from platform_config.base import FieldError, Frozen
from platform_config.feature_group_spec import FeatureGroupSpec
from platform_config.model_spec import ModelSpec
from platform_config.serving_defaults import ServingDefaults
from platform_config.value_types import (
    AccountId,
    Cidr,
    LogRetentionDays,
    Region,
    ResourceName,
    SubnetId,
    VpcId,
)


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
    SAGEMAKER_EXPERIMENTS = "sagemaker_experiments"
    SAGEMAKER_FEATURESTORE_RUNTIME = "sagemaker_featurestore_runtime"
    STS = "sts"
    ECR_API = "ecr_api"
    ECR_DOCKER = "ecr_docker"
    CLOUDWATCH_LOGS = "cloudwatch_logs"
    CLOUDWATCH_MONITORING = "cloudwatch_monitoring"
    KMS = "kms"
    EVENTBRIDGE = "eventbridge"
    SQS = "sqs"
    #: Only for pipelines that read a feature group's offline store (``training_source``).
    ATHENA = "athena"


#: The interface endpoints of a network that names none: all but those only some models use.
DEFAULT_INTERFACE_ENDPOINTS = tuple(
    e for e in InterfaceEndpoint if e is not InterfaceEndpoint.ATHENA
)


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
        repeated = sorted({s for s in self.subnet_ids if self.subnet_ids.count(s) > 1})
        if repeated:
            raise FieldError(
                "subnet_ids", list(self.subnet_ids), f"lists {repeated[0]} twice; give each once"
            )
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
        Interface endpoints to create (default: all of :class:`InterfaceEndpoint` but
        ``athena``, which a model with ``pipeline.training_source`` needs). With an existing
        VPC whose endpoints are managed elsewhere, give an empty list. The S3 gateway
        endpoint (free) is always created for a new VPC.
    interface_endpoint_zones:
        Put the interface endpoints in the first this many of the VPC's zones (default: all;
        each endpoint is billed per zone). ``1`` trades the endpoints' zone redundancy for a
        lower idle cost: workloads in the other zones reach them across zones.
    """

    new_vpc: NewVpc | None = None
    existing_vpc: ExistingVpc | None = None
    interface_endpoints: tuple[InterfaceEndpoint, ...] = DEFAULT_INTERFACE_ENDPOINTS
    interface_endpoint_zones: int | None = Field(default=None, ge=1, le=6)

    @model_validator(mode="after")
    def _exactly_one_vpc(self) -> NetworkConfig:
        if (self.new_vpc is None) == (self.existing_vpc is None):
            given = [key for key in ("new_vpc", "existing_vpc") if getattr(self, key) is not None]
            raise FieldError("", given, "must give exactly one of new_vpc or existing_vpc")
        endpoints = [endpoint.value for endpoint in self.interface_endpoints]
        if len(set(endpoints)) != len(endpoints):
            raise FieldError("interface_endpoints", endpoints, "lists an endpoint twice")
        zones = self.interface_endpoint_zones
        if zones is not None and zones > self.zone_count:
            raise FieldError(
                "interface_endpoint_zones",
                zones,
                f"is more than the VPC's {self.zone_count} zones (allowed: 1 to {self.zone_count})",
            )
        return self

    @property
    def zone_count(self) -> int:
        """How many zones the VPC's subnets span."""
        if self.existing_vpc is not None:
            return len(self.existing_vpc.availability_zones)
        return self.new_vpc.zone_count if self.new_vpc is not None else 0

    @property
    def vpc(self) -> NewVpc | ExistingVpc:
        """The VPC settings, whichever kind is configured."""
        vpc = self.new_vpc or self.existing_vpc
        assert vpc is not None  # _exactly_one_vpc: one of them is given
        return vpc


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


class AuthMode(str, enum.Enum):
    """How Studio users sign in."""

    IAM = "iam"
    SSO = "sso"


class StudioApp(str, enum.Enum):
    """Studio applications a shared space can run."""

    JUPYTER_LAB = "jupyter_lab"
    CODE_EDITOR = "code_editor"


_STUDIO_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
StudioName = Annotated[StrictStr, Field(pattern=_STUDIO_NAME)]
StudioInstanceType = Annotated[StrictStr, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")]
RoleArn = Annotated[
    StrictStr, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@/-]+$")
]


class UserProfileSpec(Frozen):
    """A Studio user profile.

    Attributes
    ----------
    name:
        Profile name (letters, digits, '-'; up to 63).
    execution_role_arn:
        A role to use instead of the domain's execution role (default: the domain's).
    sso_user_name:
        The IAM Identity Center user name; required when ``studio.auth_mode`` is ``sso``.
    """

    name: StudioName
    execution_role_arn: RoleArn | None = None
    sso_user_name: StrictStr | None = None


class SharedSpaceSpec(Frozen):
    """A Studio space shared by the domain's users.

    Attributes
    ----------
    name:
        Space name (letters, digits, '-'; up to 63).
    owner:
        The user profile that owns it (one of ``studio.user_profiles``).
    app:
        ``jupyter_lab`` (default) or ``code_editor``.
    instance_type:
        Instance of the space's app (default ``ml.t3.medium``).
    ebs_volume_size_gb:
        Size of the space's storage (default 5, up to ``studio.max_ebs_volume_size_gb``).
    """

    name: StudioName
    owner: StudioName
    app: StudioApp = StudioApp.JUPYTER_LAB
    instance_type: StudioInstanceType = "ml.t3.medium"
    ebs_volume_size_gb: int = Field(default=5, ge=5, le=16384)


class StudioConfig(Frozen):
    """The SageMaker domain and Studio of an environment.

    Attributes
    ----------
    auth_mode:
        ``iam`` (default) or ``sso`` (IAM Identity Center, which must be set up in the account).
    idle_shutdown:
        Stop JupyterLab and Code Editor apps left idle (default on).
    idle_timeout_minutes:
        Idle time before they stop (default 60; 60 to 525600).
    default_instance_type:
        Default instance of JupyterLab and Code Editor apps (default ``ml.t3.medium``).
    default_ebs_volume_size_gb, max_ebs_volume_size_gb:
        Storage of a space: default (5) and the most a user may ask for (100).
    user_profiles, shared_spaces:
        See :class:`UserProfileSpec` and :class:`SharedSpaceSpec` (default none).
    """

    auth_mode: AuthMode = AuthMode.IAM
    idle_shutdown: bool = True
    idle_timeout_minutes: int = Field(default=60, ge=60, le=525600)
    default_instance_type: StudioInstanceType = "ml.t3.medium"
    default_ebs_volume_size_gb: int = Field(default=5, ge=5, le=16384)
    max_ebs_volume_size_gb: int = Field(default=100, ge=5, le=16384)
    user_profiles: tuple[UserProfileSpec, ...] = ()
    shared_spaces: tuple[SharedSpaceSpec, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> StudioConfig:
        if self.default_ebs_volume_size_gb > self.max_ebs_volume_size_gb:
            raise FieldError(
                "default_ebs_volume_size_gb",
                self.default_ebs_volume_size_gb,
                f"is larger than max_ebs_volume_size_gb ({self.max_ebs_volume_size_gb})",
            )
        users = [user.name for user in self.user_profiles]
        for kind, names in (
            ("user_profiles", users),
            ("shared_spaces", [space.name for space in self.shared_spaces]),
        ):
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise FieldError(kind, repeated, "repeats names; each must be unique")
        for index, user in enumerate(self.user_profiles):
            if (self.auth_mode is AuthMode.SSO) != (user.sso_user_name is not None):
                raise FieldError(
                    f"user_profiles[{index}].sso_user_name",
                    user.sso_user_name,
                    "is required when auth_mode is sso and not allowed when it is iam",
                )
        for index, space in enumerate(self.shared_spaces):
            if space.owner not in users:
                raise FieldError(
                    f"shared_spaces[{index}].owner",
                    space.owner,
                    f"is not a user profile (user profiles: {', '.join(users) or 'none'})",
                )
            if space.ebs_volume_size_gb > self.max_ebs_volume_size_gb:
                raise FieldError(
                    f"shared_spaces[{index}].ebs_volume_size_gb",
                    space.ebs_volume_size_gb,
                    f"is larger than max_ebs_volume_size_gb ({self.max_ebs_volume_size_gb})",
                )
        return self


#: MLflow settings that only a tracking server has (an MLflow app is serverless).
_TRACKING_SERVER_ONLY = ("size", "version")


class MlflowConfig(Frozen):
    """The environment's managed MLflow: a tracking server or a serverless MLflow app.

    Attributes
    ----------
    enabled:
        Create it (default on).
    kind:
        ``tracking_server`` (default: an instance of ``size``, billed per hour while it
        exists) or ``app`` (a serverless MLflow app, ``AWS::SageMaker::MlflowApp``: no
        instance to size, nothing billed per hour while idle; see pricing/prices.yaml).
        Either is reached by its ARN (``stacks.mlflow_resource.mlflow_resource_arn``).
    size:
        Tracking server only: ``Small`` (default), ``Medium`` or ``Large``.
    version:
        Tracking server only: MLflow version, e.g. ``"3.0"`` (default: SageMaker's current
        default; an app runs SageMaker's current version).
    automatic_model_registration:
        Register models logged to MLflow in the SageMaker Model Registry (default on).
    weekly_maintenance_window_start:
        ``Day:HH:MM`` in UTC (default ``Sun:03:00``).
    """

    enabled: bool = True
    kind: Literal["tracking_server", "app"] = "tracking_server"
    size: Literal["Small", "Medium", "Large"] = "Small"
    version: Annotated[StrictStr, Field(pattern=r"^\d+(\.\d+)+$")] | None = None
    automatic_model_registration: bool = True
    weekly_maintenance_window_start: Annotated[
        StrictStr, Field(pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)$")
    ] = "Sun:03:00"

    @model_validator(mode="after")
    def _kind_fields(self) -> MlflowConfig:
        if self.kind == "app":
            for field in _TRACKING_SERVER_ONLY:
                if field in self.model_fields_set:
                    raise FieldError(
                        field,
                        getattr(self, field),
                        "is only for kind tracking_server (this is app)",
                    )
        return self


class PromotionSource(Frozen):
    """The environment whose approved model versions this one imports (docs/releases.md).

    Attributes
    ----------
    environment:
        Its name (``dev`` for staging, ``staging`` for prod).
    account, region:
        Where it runs; it must list this environment's account in its
        ``model_registry.reader_accounts``.
    """

    environment: ResourceName
    account: AccountId
    region: Region

    @property
    def name_prefix(self) -> str:
        """The source environment's name prefix (``ml-platform-<environment>``)."""
        return f"ml-platform-{self.environment}"


class ModelRegistryConfig(Frozen):
    """The model registry of an environment.

    Attributes
    ----------
    reader_accounts:
        Accounts (the later environments) allowed to read this environment's model packages
        and their artifacts, to promote them (default none).
    promote_from:
        :class:`PromotionSource`: the previous environment, whose approved versions
        ``make release-import`` copies into this registry (default none: models are
        trained here).
    approvers:
        IAM roles of the people who may approve or reject this environment's model
        packages (roles of this account). Every other principal is denied by the groups'
        policy (default none: any principal IAM allows may, which suits a sandbox only).
    """

    reader_accounts: tuple[AccountId, ...] = ()
    promote_from: PromotionSource | None = None
    approvers: tuple[RoleArn, ...] = ()


class EnvironmentSpec(Frozen):
    """The fields of an environment (``config/<name>.yaml``), checked each on its own.

    :class:`~platform_config.schema.EnvironmentConfig` adds the checks across them. Where
    the environment's alarms go is ``alerts`` (:class:`~platform_config.alerts_spec.AlertsSpec`).

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
    studio, mlflow, model_registry:
        See :class:`StudioConfig`, :class:`MlflowConfig`, :class:`ModelRegistryConfig`.
    serving_defaults:
        See :class:`~platform_config.serving_defaults.ServingDefaults` (default: warm
        capacity).
    models:
        The model catalogue with this environment's overrides applied (built by the loader).
    feature_groups:
        The feature group catalogue (``config/feature_groups.yaml``, built by the loader).
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
    studio: StudioConfig = StudioConfig()
    mlflow: MlflowConfig = MlflowConfig()
    model_registry: ModelRegistryConfig = ModelRegistryConfig()
    alerts: AlertsSpec = AlertsSpec()
    serving_defaults: ServingDefaults = ServingDefaults()
    models: tuple[ModelSpec, ...] = ()
    feature_groups: tuple[FeatureGroupSpec, ...] = ()

    def bucket_name(self, kind: str) -> str:
        """Name of the environment's ``kind`` bucket: ``mlp-<env>-<account>-<region>-<kind>``.

        Deterministic, so that every stack (and the next environment, promoting models) can
        name a bucket without a cross-stack reference.
        """
        return f"mlp-{self.name}-{self.account}-{self.region}-{kind}"

    @property
    def name_prefix(self) -> str:
        """Prefix of every physical name in this environment: ``ml-platform-<name>``."""
        return f"ml-platform-{self.name}"

    @property
    def is_retained(self) -> bool:
        """Whether stateful resources are kept when deleted from their stack."""
        return self.retention is Retention.RETAIN

"""Every physical name the platform gives an AWS resource, and each kind's limits.

:class:`ResourceNames` (``config.names``) is the one place that derives names from the
environment and the catalogue: ``config.names.endpoint("churn-prediction")`` is
``ml-platform-<env>-churn-prediction``. :data:`NAME_RULES` holds each kind's length limit and
character set, with its source (the API reference, via botocore's service model where it
has them). :func:`check_environment_names` computes every name an environment, each model,
feature group, user profile and space produces and refuses the first one out of bounds in
one line naming the field to shorten, so that CloudFormation never sees it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

from platform_config.base import FieldError
from platform_config.environment_spec import EnvironmentSpec
from platform_config.model_spec import ModelSpec
from platform_config.serving_defaults import scales_to_zero
from platform_contracts.model_settings import settings_parameter_name, settings_path
from platform_contracts.releases import (
    Slot,
    model_package_group_name,
    model_stack_name,
    record_parameter_name,
    records_path,
    release_function_name,
)

_SAGEMAKER_63 = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
_SAGEMAKER_256 = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"


@dataclass(frozen=True)
class NameRule:
    """The limits of one kind of name.

    Attributes
    ----------
    what:
        The kind of name in words (``SageMaker endpoint name``).
    max_length:
        The longest name allowed.
    pattern:
        The characters and form allowed (a full match).
    source:
        Where the limit is written: ``botocore:<service>:<shape>.<member>`` when botocore's
        service model has it (a test checks the rule against it), else the documentation.
    """

    what: str
    max_length: int
    pattern: str
    source: str

    def problem(self, name: str) -> str | None:
        """What is wrong with ``name``, or ``None``."""
        if len(name) > self.max_length:
            return (
                f"{len(name)} characters long; the {self.what} may have at most {self.max_length}"
            )
        if not re.fullmatch(self.pattern, name):
            return f"not a valid {self.what} (allowed form: {self.pattern})"
        return None


class NameKind(str, enum.Enum):
    """A kind of physical name the platform derives."""

    STACK = "stack"
    BUCKET = "bucket"
    KEY_ALIAS = "key_alias"
    TOPIC = "topic"
    DOMAIN = "domain"
    MLFLOW_SERVER = "mlflow_server"
    MLFLOW_APP = "mlflow_app"
    STUDIO_LIFECYCLE_CONFIG = "studio_lifecycle_config"
    USER_PROFILE = "user_profile"
    SPACE = "space"
    SPACE_DISPLAY_NAME = "space_display_name"
    ENDPOINT = "endpoint"
    INFERENCE_COMPONENT = "inference_component"
    DASHBOARD = "dashboard"
    PIPELINE = "pipeline"
    MODEL_PACKAGE_GROUP = "model_package_group"
    MONITORING_SCHEDULE = "monitoring_schedule"
    ALARM = "alarm"
    METRIC = "metric"
    PARAMETER = "parameter"
    FEATURE_GROUP = "feature_group"
    FUNCTION = "function"
    MANAGED_POLICY = "managed_policy"


NAME_RULES: dict[NameKind, NameRule] = {
    NameKind.STACK: NameRule(
        "CloudFormation stack name",
        128,
        r"[a-zA-Z][-a-zA-Z0-9]*",
        "docs:AWSCloudFormation/latest/APIReference/API_CreateStack.html",
    ),
    NameKind.BUCKET: NameRule(
        "S3 bucket name",
        63,
        r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
        "docs:AmazonS3/latest/userguide/bucketnamingrules.html",
    ),
    NameKind.KEY_ALIAS: NameRule(
        "KMS alias name",
        256,
        r"alias/[a-zA-Z0-9/_-]+",
        # botocore has the length (256) but a looser pattern than the API reference's.
        "docs:kms/latest/APIReference/API_CreateAlias.html",
    ),
    NameKind.TOPIC: NameRule(
        "SNS topic name",
        256,
        r"[A-Za-z0-9_-]{1,256}",
        "docs:sns/latest/api/API_CreateTopic.html",
    ),
    NameKind.DOMAIN: NameRule(
        "SageMaker domain name",
        63,
        _SAGEMAKER_63,
        "botocore:sagemaker:CreateDomainRequest.DomainName",
    ),
    NameKind.MLFLOW_SERVER: NameRule(
        "MLflow tracking server name",
        256,
        _SAGEMAKER_256,
        "botocore:sagemaker:CreateMlflowTrackingServerRequest.TrackingServerName",
    ),
    NameKind.MLFLOW_APP: NameRule(
        "MLflow app name",
        256,
        _SAGEMAKER_256,
        "botocore:sagemaker:CreateMlflowAppRequest.Name",
    ),
    NameKind.STUDIO_LIFECYCLE_CONFIG: NameRule(
        "Studio lifecycle configuration name",
        63,
        _SAGEMAKER_63,
        "botocore:sagemaker:CreateStudioLifecycleConfigRequest.StudioLifecycleConfigName",
    ),
    NameKind.USER_PROFILE: NameRule(
        "Studio user profile name",
        63,
        _SAGEMAKER_63,
        "botocore:sagemaker:CreateUserProfileRequest.UserProfileName",
    ),
    NameKind.SPACE: NameRule(
        "Studio space name", 63, _SAGEMAKER_63, "botocore:sagemaker:CreateSpaceRequest.SpaceName"
    ),
    NameKind.SPACE_DISPLAY_NAME: NameRule(
        "Studio space display name",
        64,
        r"(?!\s*$).+",
        "botocore:sagemaker:CreateSpaceRequest.SpaceDisplayName",
    ),
    NameKind.ENDPOINT: NameRule(
        "SageMaker endpoint name",
        63,
        _SAGEMAKER_63,
        "botocore:sagemaker:CreateEndpointInput.EndpointName",
    ),
    NameKind.INFERENCE_COMPONENT: NameRule(
        "SageMaker inference component name",
        63,
        r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?",
        "botocore:sagemaker:CreateInferenceComponentInput.InferenceComponentName",
    ),
    NameKind.DASHBOARD: NameRule(
        "CloudWatch dashboard name",
        255,
        r"[A-Za-z0-9_-]+",
        "docs:AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
    ),
    NameKind.PIPELINE: NameRule(
        "SageMaker pipeline name",
        256,
        _SAGEMAKER_256,
        "botocore:sagemaker:CreatePipelineRequest.PipelineName",
    ),
    NameKind.MODEL_PACKAGE_GROUP: NameRule(
        "SageMaker model package group name",
        63,
        _SAGEMAKER_63,
        "botocore:sagemaker:CreateModelPackageGroupInput.ModelPackageGroupName",
    ),
    NameKind.MONITORING_SCHEDULE: NameRule(
        "SageMaker monitoring schedule name",
        63,
        _SAGEMAKER_63,
        "botocore:sagemaker:CreateMonitoringScheduleRequest.MonitoringScheduleName",
    ),
    NameKind.ALARM: NameRule(
        "CloudWatch alarm name",
        255,
        r"[^\x00-\x1f]+",
        "botocore:cloudwatch:PutCompositeAlarmInput.AlarmName",
    ),
    NameKind.METRIC: NameRule(
        "CloudWatch metric name",
        255,
        r"[^\x00-\x1f]+",
        "botocore:cloudwatch:PutMetricAlarmInput.MetricName",
    ),
    NameKind.PARAMETER: NameRule(
        "SSM parameter name",
        2048,
        r"(/[a-zA-Z0-9_.-]+)+",
        "botocore:ssm:PutParameterRequest.Name",
    ),
    NameKind.FEATURE_GROUP: NameRule(
        "SageMaker feature group name",
        64,
        r"[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}",
        "botocore:sagemaker:CreateFeatureGroupRequest.FeatureGroupName",
    ),
    NameKind.FUNCTION: NameRule(
        "Lambda function name",
        64,
        r"[a-zA-Z0-9_-]+",
        # botocore's limit (140) and pattern are those of the ARN forms the API also takes.
        "docs:lambda/latest/api/API_CreateFunction.html",
    ),
    NameKind.MANAGED_POLICY: NameRule(
        "IAM managed policy name",
        128,
        r"[\w+=,.@-]+",
        "botocore:iam:CreatePolicyRequest.PolicyName",
    ),
}


class BucketKind(str, enum.Enum):
    """The environment's buckets, by the last part of their names."""

    ACCESS_LOGS = "access-logs"
    DATASETS = "datasets"
    ARTIFACTS = "artifacts"
    CAPTURE = "capture"
    REPORTS = "reports"
    CODE = "code"


class KeyKind(str, enum.Enum):
    """The environment's KMS keys, by the last part of their aliases."""

    DATA = "data"
    LOGS = "logs"
    WORKLOAD = "workload"


class MonitorKind(str, enum.Enum):
    """The Model Monitor schedules of a model, by the last part of their names."""

    DATA_QUALITY = "data-quality"
    MODEL_QUALITY = "model-quality"
    MODEL_BIAS = "model-bias"
    MODEL_EXPLAINABILITY = "model-explainability"


#: The parts of the environment, each its own stack (``ml-platform-<env>-<part>``).
STACK_PARTS = ("data", "network", "registry", "workspace", "automation")
#: Studio apps with a lifecycle configuration (``<domain>-<app>-on-start``).
STUDIO_LIFECYCLE_APPS = ("jupyterlab", "codeeditor")
#: Stands for every model in a name pattern: ``names.model_stack(EVERY_MODEL)`` is
#: ``ml-platform-<env>-model-*`` (IAM resources and EventBridge prefixes of all models).
EVERY_MODEL = "*"
#: The name of the delivery pipeline's tooling "environment" in its buckets' names.
DELIVERY = "delivery"


def studio_lifecycle_config_name(domain: str, app: str) -> str:
    """``<domain>-<app>-on-start``: the lifecycle configuration of a Studio app
    (``jupyterlab``, ``codeeditor``) of a domain."""
    return f"{domain}-{app}-on-start"


def release_slots(model: ModelSpec) -> tuple[Slot, ...]:
    """The release record slots of a model (``platform_contracts.releases``).

    Every model has a champion; a candidate slot only when its serving serves the latest
    version and has an unpinned challenger (a second production variant) or shadow variant.
    """
    serving = model.serving
    if serving is None or serving.model_version != "latest":
        return (Slot.CHAMPION,)
    production = [v for v in serving.production_variants if v.model_version is None]
    shadows = [v for v in serving.shadow if v.model_version is None]
    if len(production) > 1 or shadows:
        return (Slot.CHAMPION, Slot.CANDIDATE)
    return (Slot.CHAMPION,)


def monitored_kinds(model: ModelSpec) -> tuple[MonitorKind, ...]:
    """The Model Monitor schedules of a model: one per enabled type, when its endpoint
    captures data and monitoring is on (none otherwise)."""
    monitoring = model.monitoring
    if model.serving is None or not model.serving.captures_data or not monitoring.enabled:
        return ()
    switches = {
        MonitorKind.DATA_QUALITY: monitoring.data_quality,
        MonitorKind.MODEL_QUALITY: monitoring.model_quality,
        MonitorKind.MODEL_BIAS: monitoring.bias,
        MonitorKind.MODEL_EXPLAINABILITY: monitoring.explainability,
    }
    return tuple(kind for kind, on in switches.items() if on)


#: The model-quality metric alarmed on, by problem type (none for regression).
QUALITY_METRIC = {"BinaryClassification": "auc", "MulticlassClassification": "accuracy"}


def has_drift_alarm(model: ModelSpec) -> bool:
    """Whether the model gets a composite drift alarm (the retraining trigger listens for
    it): per-feature drift alarms, or a model-quality alarm for a classification model."""
    kinds = monitored_kinds(model)
    monitoring = model.monitoring
    drift = MonitorKind.DATA_QUALITY in kinds and bool(monitoring.drift_features)
    quality = MonitorKind.MODEL_QUALITY in kinds and monitoring.problem_type in QUALITY_METRIC
    return drift or quality


@dataclass(frozen=True)
class ResourceNames:
    """The physical names of one environment's resources (``config.names``).

    The names a Lambda function also derives at run time come from ``platform_contracts``
    (vendored into the functions' packages), through the methods that delegate to it.

    Attributes
    ----------
    environment, account, region:
        The environment's name, account and region.
    """

    environment: str
    account: str
    region: str

    @classmethod
    def for_environment(cls, config: EnvironmentSpec) -> ResourceNames:
        """The names of ``config``'s environment (``EnvironmentConfig.names``)."""
        return cls(config.name, config.account, config.region)

    @property
    def prefix(self) -> str:
        """``ml-platform-<env>``: starts every name but the buckets'."""
        return f"ml-platform-{self.environment}"

    def model_names_prefix(self) -> str:
        """What the name of every model's pipeline, group, endpoint, schedule and alarm starts
        with (``ml-platform-<env>-``): EventBridge rules match a model's events by it."""
        return f"{self.prefix}-"

    def stack(self, part: str) -> str:
        """CloudFormation stack of one part (:data:`STACK_PARTS`)."""
        return f"{self.prefix}-{part}"

    def bucket(self, kind: BucketKind) -> str:
        """``mlp-<env>-<account>-<region>-<kind>``: globally unique, known without lookup."""
        return f"mlp-{self.environment}-{self.account}-{self.region}-{BucketKind(kind).value}"

    def key_alias(self, kind: KeyKind) -> str:
        """``alias/ml-platform-<env>/<kind>``."""
        return f"alias/{self.prefix}/{KeyKind(kind).value}"

    def alert_topic(self) -> str:
        """The alert topic the platform creates (unless an existing one is configured)."""
        return f"{self.prefix}-alerts"

    def alert_key_alias(self) -> str:
        """Alias of the alert topic's key."""
        return f"alias/{self.alert_topic()}"

    def domain(self) -> str:
        """The SageMaker domain."""
        return self.prefix

    def mlflow_server(self) -> str:
        """The MLflow tracking server (``mlflow.kind: tracking_server``)."""
        return self.prefix

    def mlflow_app(self) -> str:
        """The serverless MLflow app (``mlflow.kind: app``)."""
        return self.prefix

    def mlflow_arn_parameter(self) -> str:
        """``/ml-platform-<env>/mlflow/arn``: the SSM parameter holding the MLflow ARN."""
        return f"/{self.prefix}/mlflow/arn"

    def model_approvers_policy(self) -> str:
        """The managed policy of the people who approve the environment's model packages."""
        return f"{self.prefix}-model-approvers"

    def release_function(self) -> str:
        """The release automation's function (its operators invoke it by name)."""
        return release_function_name(self.prefix)

    def release_records_path(self) -> str:
        """The SSM path of every release record of the environment."""
        return records_path(self.prefix)

    def release_record(self, model: str, slot: Slot) -> str:
        """The release record of one slot of a model (an SSM parameter)."""
        return record_parameter_name(self.prefix, model, slot)

    def settings_path(self) -> str:
        """The SSM path of every model's settings document."""
        return settings_path(self.prefix)

    def studio_lifecycle_config(self, app: str) -> str:
        """Lifecycle configuration of a Studio app (:data:`STUDIO_LIFECYCLE_APPS`)."""
        return studio_lifecycle_config_name(self.domain(), app)

    def endpoint(self, model: str) -> str:
        """A served model's endpoint; also the name of its dashboard."""
        return f"{self.prefix}-{model}"

    def inference_component(self, model: str) -> str:
        """The inference component of a model that scales to zero (its endpoint's name)."""
        return self.endpoint(model)

    def dashboard(self, model: str) -> str:
        """A served model's CloudWatch dashboard."""
        return self.endpoint(model)

    def pipeline(self, model: str) -> str:
        """A model's training (or AutoML, fine-tuning, ...) pipeline."""
        return f"{self.prefix}-{model}"

    def batch_pipeline(self, model: str) -> str:
        """The batch inference pipeline of a model served by batch transform."""
        return f"{self.prefix}-{model}-batch"

    def model_package_group(self, model: str) -> str:
        """A model's package group in the registry."""
        return model_package_group_name(self.prefix, model)

    def model_stack(self, model: str) -> str:
        """A model's stack: its pipelines, serving and monitoring (what a release updates)."""
        return model_stack_name(self.prefix, model)

    def model_registry_stack(self, model: str) -> str:
        """A model's stateful stack: its package group and release record."""
        return f"{self.prefix}-registry-{model}"

    def settings_parameter(self, model: str) -> str:
        """The SSM parameter holding a model's settings document for the functions."""
        return settings_parameter_name(self.prefix, model)

    def monitoring_schedule(self, model: str, kind: MonitorKind) -> str:
        """One Model Monitor schedule of a model's endpoint."""
        return f"{self.prefix}-{model}-{MonitorKind(kind).value}"

    def alarm(self, model: str, what: str) -> str:
        """A model's named alarm (``drift``: the composite that starts retraining)."""
        return f"{self.prefix}-{model}-{what}"

    def drift_metric(self, feature: str) -> str:
        """The metric Model Monitor publishes for one feature's drift."""
        return f"feature_baseline_drift_{feature}"

    def transform_parameter(self, model: str) -> str:
        """SSM parameter holding a batch-served model's transform settings."""
        return f"/{self.prefix}/serving/{model}/transform"

    def feature_group(self, name: str) -> str:
        """A feature group of the catalogue."""
        return f"{self.prefix}-{name}"

    def of_environment(self, config: EnvironmentSpec) -> Iterator[tuple[NameKind, str]]:
        """Every name that depends on the environment alone (and on what it turns on)."""
        for part in STACK_PARTS:
            yield NameKind.STACK, self.stack(part)
        for bucket in BucketKind:
            yield NameKind.BUCKET, self.bucket(bucket)
        for key in KeyKind:
            yield NameKind.KEY_ALIAS, self.key_alias(key)
        if config.alerts.topic_arn is None:
            yield NameKind.TOPIC, self.alert_topic()
            yield NameKind.KEY_ALIAS, self.alert_key_alias()
        yield NameKind.DOMAIN, self.domain()
        if config.mlflow.enabled:
            if config.mlflow.kind == "app":
                yield NameKind.MLFLOW_APP, self.mlflow_app()
            else:
                yield NameKind.MLFLOW_SERVER, self.mlflow_server()
            yield NameKind.PARAMETER, self.mlflow_arn_parameter()
        for app in STUDIO_LIFECYCLE_APPS:
            yield NameKind.STUDIO_LIFECYCLE_CONFIG, self.studio_lifecycle_config(app)
        yield NameKind.MANAGED_POLICY, self.model_approvers_policy()
        yield NameKind.FUNCTION, self.release_function()

    def of_model(
        self, model: ModelSpec, *, scales_to_zero: bool = False
    ) -> Iterator[tuple[NameKind, str]]:
        """Every name the stacks derive from one model entry, given its settings
        (``scales_to_zero``: whether it is served on an inference component)."""
        name = model.name
        yield NameKind.STACK, self.model_stack(name)
        yield NameKind.STACK, self.model_registry_stack(name)
        yield NameKind.PARAMETER, self.settings_parameter(name)
        for slot in release_slots(model):
            yield NameKind.PARAMETER, self.release_record(name, slot)
        yield NameKind.PIPELINE, self.pipeline(name)
        yield NameKind.MODEL_PACKAGE_GROUP, self.model_package_group(name)
        serving = model.serving
        if serving is None:
            return
        if serving.kind.value == "batch":
            yield NameKind.PIPELINE, self.batch_pipeline(name)
            yield NameKind.PARAMETER, self.transform_parameter(name)
            return
        yield NameKind.ENDPOINT, self.endpoint(name)
        yield NameKind.DASHBOARD, self.dashboard(name)
        if scales_to_zero:
            yield NameKind.INFERENCE_COMPONENT, self.inference_component(name)
        yield from self._of_monitoring(model)

    def _of_monitoring(self, model: ModelSpec) -> Iterator[tuple[NameKind, str]]:
        """The names of a served model's monitors and drift alarms."""
        kinds = monitored_kinds(model)
        for kind in kinds:
            yield NameKind.MONITORING_SCHEDULE, self.monitoring_schedule(model.name, kind)
        if MonitorKind.DATA_QUALITY in kinds:
            for feature in model.monitoring.drift_features:
                yield NameKind.METRIC, self.drift_metric(feature)
        if has_drift_alarm(model):
            yield NameKind.ALARM, self.alarm(model.name, "drift")


def delivery_names(account: str, region: str) -> ResourceNames:
    """The names of the delivery pipeline's own resources in its tooling account and region
    (its buckets: ``mlp-delivery-<account>-<region>-<kind>``)."""
    return ResourceNames(DELIVERY, account, region)


def derived_names(config: EnvironmentSpec) -> Iterator[tuple[str, str, NameKind, str]]:
    """(field, its value, kind, name) of every physical name ``config``'s stacks create.

    The field is the one to change to shorten the name: ``name`` (the environment's),
    ``models[i].name``, ``feature_groups[i].name``, ``studio.user_profiles[i].name`` or
    ``studio.shared_spaces[i].name``.
    """
    names = ResourceNames.for_environment(config)
    for kind, name in names.of_environment(config):
        yield "name", config.name, kind, name
    for index, model in enumerate(config.models):
        zero = model.serving is not None and scales_to_zero(model.serving, config.serving_defaults)
        for kind, name in names.of_model(model, scales_to_zero=zero):
            yield f"models[{index}].name", model.name, kind, name
    for index, group in enumerate(config.feature_groups):
        field = f"feature_groups[{index}].name"
        yield field, group.name, NameKind.FEATURE_GROUP, names.feature_group(group.name)
    for index, user in enumerate(config.studio.user_profiles):
        yield f"studio.user_profiles[{index}].name", user.name, NameKind.USER_PROFILE, user.name
    for index, space in enumerate(config.studio.shared_spaces):
        field = f"studio.shared_spaces[{index}].name"
        yield field, space.name, NameKind.SPACE, space.name
        yield field, space.name, NameKind.SPACE_DISPLAY_NAME, space.name


def check_environment_names(config: EnvironmentSpec) -> None:
    """Refuse the first derived name out of its kind's bounds, naming the field to change.

    Raises
    ------
    FieldError
        On the field of :func:`derived_names`, with the name, its limit and how much to
        shorten the field.
    """
    for field, value, kind, name in derived_names(config):
        rule = NAME_RULES[kind]
        problem = rule.problem(name)
        if problem is None:
            continue
        excess = len(name) - rule.max_length
        shorten = (
            f"; shorten it to at most {len(value) - excess} characters"
            if excess > 0 and len(value) > excess
            else ""
        )
        raise FieldError(
            field, value, f"makes the {rule.what} '{name}', which is {problem}{shorten}"
        )

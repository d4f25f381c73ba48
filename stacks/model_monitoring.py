"""Model Monitor of one model: a monitor per enabled type, drift alarms, their baselines."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from constructs import Construct

from ml_constructs import (
    DataQualityMonitor,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelMonitor,
    ModelQualityMonitor,
    MonitorJobSettings,
    SageMakerExecutionRole,
    acknowledge_wildcards,
)
from ml_constructs.released_versions import ReleasedVersions
from ml_constructs.sagemaker_arns import sagemaker_arn
from pipeline_definitions.pipeline_arguments import SHADOW_ENDPOINT_ACTIONS, SHADOW_ENDPOINT_PREFIX
from platform_config import EnvironmentConfig, ModelSpec
from platform_config.names import QUALITY_METRIC, BucketKind, MonitorKind, monitored_kinds
from stacks.data_stack import DataStack
from stacks.monitoring_images import clarify_image, model_monitor_image
from stacks.shared_stacks import SharedStacks

#: Where the release automation publishes a released version's baselines, per model.
BASELINES_PREFIX = "baselines"
REPORTS_PREFIX = "monitoring"
#: The drift alarm's name: ``config.names.alarm(<model>, DRIFT_ALARM)``.
DRIFT_ALARM = "drift"


def baselines_uri(config: EnvironmentConfig, model: str) -> str:
    """``s3://`` prefix of a model's released baselines (``<prefix>/<version>/<monitor>/``)."""
    reports = config.names.bucket(BucketKind.REPORTS)
    return f"s3://{reports}/{BASELINES_PREFIX}/{model}"


def monitoring_schedule_names(config: EnvironmentConfig, model: ModelSpec) -> list[str]:
    """The names of the model's monitoring schedules, one per enabled monitor type."""
    return [config.names.monitoring_schedule(model.name, kind) for kind in monitored_kinds(model)]


class ModelMonitoring(Construct):
    """One monitor per enabled type on a model's endpoint, its alarms, and its own role.

    Created under the ``Released`` condition: the monitors compare the endpoint's traffic
    with the baselines of the released champion, which the release automation copies to
    ``<baselines_uri>/<version>/<monitor>/``.

    Attributes
    ----------
    role:
        The monitoring jobs' role (:class:`SageMakerExecutionRole` with no pipeline and no
        registry access).
    monitors:
        The :class:`ModelMonitor` constructs, by type.
    drift_alarm:
        The composite drift alarm, or ``None``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: ModelSpec,
        endpoint_name: str,
        shared: SharedStacks,
        released: ReleasedVersions,
    ) -> None:
        super().__init__(scope, construct_id)
        config, data, automation = shared.config, shared.data, shared.automation
        self.partition = Stack.of(self).partition
        self._names = config.names
        monitoring = model.monitoring
        self.role = SageMakerExecutionRole(
            self,
            "Role",
            description=f"{config.names.endpoint(model.name)}: Model Monitor jobs",
            pipelines=[],
            package_groups=[],
            volume_key=data.keys.workload,
        ).role
        self._grant_buckets(data, model.name)
        if monitoring.explainability:
            self._grant_shadow_endpoints()
        net = shared.network.network
        version = ReleasedVersions.version_of(released.champion)
        baseline = f"{baselines_uri(config, model.name)}/{version}"
        reports = config.names.bucket(BucketKind.REPORTS)
        common: dict[str, Any] = {
            "endpoint_name": endpoint_name,
            "schedule_expression": monitoring.schedule,
            "settings": MonitorJobSettings(
                role=self.role,
                subnet_ids=[subnet.subnet_id for subnet in net.subnets.subnets],
                security_group_ids=[net.workload_security_group.security_group_id],
                key=data.keys.workload,
                reports_uri=f"s3://{reports}/{REPORTS_PREFIX}/{model.name}",
            ),
        }
        self.monitors = self._monitors(config, model, baseline, common)
        if monitoring.ground_truth_uri is not None:
            self._grant_ground_truth(self.role, monitoring.ground_truth_uri)
        action = cloudwatch_actions.SnsAction(automation.alert_topic)
        alarms = self._drift_alarms(model, endpoint_name, self.monitors, action)
        self.drift_alarm: cloudwatch.CompositeAlarm | None = None
        if alarms:
            self.drift_alarm = cloudwatch.CompositeAlarm(
                self,
                "Drift",
                composite_alarm_name=config.names.alarm(model.name, DRIFT_ALARM),
                alarm_description=f"Drift or quality loss of {model.name}: retraining starts",
                alarm_rule=cloudwatch.AlarmRule.any_of(*alarms),
            )
            self.drift_alarm.add_alarm_action(action)
        released.only_when_released(self)

    def _monitors(
        self, config: EnvironmentConfig, model: ModelSpec, baseline: str, common: dict[str, Any]
    ) -> dict[MonitorKind, ModelMonitor]:
        """One monitor per enabled type, named ``config.names.monitoring_schedule``."""
        monitoring = model.monitoring
        analyzer, clarify = model_monitor_image(config.region), clarify_image(config.region)
        ground_truth = {
            "ground_truth_uri": monitoring.ground_truth_uri,
            "ground_truth_offsets": monitoring.ground_truth_offsets,
        }
        kinds: dict[MonitorKind, tuple[type[ModelMonitor], str, dict[str, Any]]] = {
            MonitorKind.DATA_QUALITY: (DataQualityMonitor, analyzer, {}),
            MonitorKind.MODEL_QUALITY: (
                ModelQualityMonitor,
                analyzer,
                {**ground_truth, "problem_type": monitoring.problem_type},
            ),
            MonitorKind.MODEL_BIAS: (ModelBiasMonitor, clarify, ground_truth),
            MonitorKind.MODEL_EXPLAINABILITY: (ModelExplainabilityMonitor, clarify, {}),
        }
        monitors = {}
        for kind in monitored_kinds(model):
            monitor, image, extra = kinds[kind]
            monitors[kind] = monitor(
                self,
                kind.value,
                schedule_name=config.names.monitoring_schedule(model.name, kind),
                image_uri=image,
                baseline_uri=f"{baseline}/{kind.value}",
                **extra,
                **common,
            )
        return monitors

    def _grant_shadow_endpoints(self) -> None:
        """Clarify's explainability job computes attributions on a shadow endpoint it makes."""

        def arn(resource: str) -> str:
            return sagemaker_arn(self, resource, f"{SHADOW_ENDPOINT_PREFIX}*")

        shadow = iam.PolicyStatement(
            actions=list(SHADOW_ENDPOINT_ACTIONS),
            resources=[arn("endpoint-config"), arn("endpoint")],
        )
        self.role.add_to_principal_policy(shadow)
        acknowledge_wildcards(
            self.role,
            [shadow],
            reason="Clarify names each shadow endpoint with the prefix of the analysis"
            " configuration (clarify-shadow) and a suffix of its own.",
        )

    def _grant_buckets(self, data: DataStack, model: str) -> None:
        """Read the endpoint's captured data and the baselines; write the reports."""
        capture = data.import_bucket(self, BucketKind.CAPTURE)
        reports = data.import_bucket(self, BucketKind.REPORTS)
        grants = [
            capture.grant_read(self.role, f"data-capture/{model}/*"),
            capture.grant_read(self.role, f"async-inference/{model}/*"),
            reports.grant_read(self.role, f"{BASELINES_PREFIX}/{model}/*"),
            reports.grant_read_write(self.role, f"{REPORTS_PREFIX}/{model}/*"),
        ]
        acknowledge_wildcards(
            self.role,
            [statement for grant in grants for statement in grant.principal_statements],
            reason="CDK's bucket grants, each on this model's own prefix: its captured"
            " requests, its released baselines and its monitoring reports.",
        )

    def _drift_alarms(
        self,
        model: ModelSpec,
        endpoint_name: str,
        monitors: dict[MonitorKind, ModelMonitor],
        action: cloudwatch_actions.SnsAction,
    ) -> list[cloudwatch.Alarm]:
        """Per-feature drift alarms and the model-quality alarm of one model."""
        monitoring = model.monitoring
        alarms = []
        if MonitorKind.DATA_QUALITY in monitors:
            alarms += [
                self._monitor_alarm(
                    f"Drift-{feature}",
                    f"Drift of feature {feature} of {model.name}",
                    metric=self._names.drift_metric(feature),
                    endpoint_name=endpoint_name,
                    schedule=monitors[MonitorKind.DATA_QUALITY].schedule_name,
                    drift=True,
                    threshold=monitoring.drift_threshold,
                )
                for feature in monitoring.drift_features
            ]
        metric_name = QUALITY_METRIC.get(monitoring.problem_type)
        if MonitorKind.MODEL_QUALITY in monitors and metric_name:
            alarms.append(
                self._monitor_alarm(
                    "Quality",
                    f"{metric_name} of {model.name} below {monitoring.quality_alarm_threshold}",
                    metric=metric_name,
                    endpoint_name=endpoint_name,
                    schedule=monitors[MonitorKind.MODEL_QUALITY].schedule_name,
                    drift=False,
                    threshold=monitoring.quality_alarm_threshold,
                )
            )
        for alarm in alarms:
            alarm.add_alarm_action(action)
        return alarms

    def _monitor_alarm(
        self,
        alarm_id: str,
        description: str,
        *,
        metric: str,
        endpoint_name: str,
        schedule: str,
        threshold: float,
        drift: bool,
    ) -> cloudwatch.Alarm:
        """An hourly alarm on a metric the schedule ``schedule`` publishes: above
        ``threshold`` for a data-quality (``drift``) metric, below it for a model-quality one."""
        return cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=description,
            metric=cloudwatch.Metric(
                namespace="aws/sagemaker/Endpoints/"
                + ("data-metrics" if drift else "model-metrics"),
                metric_name=metric,
                dimensions_map={
                    "Endpoint": endpoint_name,
                    "MonitoringSchedule": schedule,
                },
                statistic="Maximum" if drift else "Minimum",
                period=Duration.hours(1),
            ),
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
            if drift
            else cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _grant_ground_truth(self, role: iam.IRole, ground_truth_uri: str) -> None:
        bucket, _, prefix = ground_truth_uri.removeprefix("s3://").partition("/")
        prefix = prefix.rstrip("/")
        objects = f"arn:{self.partition}:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
        read = iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects])
        role.add_to_principal_policy(read)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"], resources=[f"arn:{self.partition}:s3:::{bucket}"]
            )
        )
        acknowledge_wildcards(
            role,
            [read],
            reason=(
                "Model-quality and bias jobs read every label file under the model's ground-truth"
                " prefix, named by the team's labelling process."
            ),
        )

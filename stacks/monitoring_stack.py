"""Model Monitor schedules of the served models, their alarms and failure alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs import (
    DataQualityMonitor,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelMonitor,
    ModelQualityMonitor,
    MonitorJobSettings,
    acknowledge_wildcards,
)
from platform_config import EnvironmentConfig, ModelSpec
from stacks.data_stack import DataStack
from stacks.monitoring_images import clarify_image, model_monitor_image
from stacks.network_stack import NetworkStack
from stacks.workspace_stack import WorkspaceStack

#: Where the deployment function publishes each group's baselines (see lambda/model_deployment).
BASELINES_PREFIX = "baselines"
REPORTS_PREFIX = "monitoring"
_QUALITY_METRIC = {"BinaryClassification": "auc", "MulticlassClassification": "accuracy"}


@dataclass(frozen=True)
class MonitoredEndpoint:
    """A served model whose endpoint captures data: what the monitoring stack watches."""

    model: ModelSpec
    endpoint_name: str


def drift_alarm_name(config: EnvironmentConfig, model: str) -> str:
    """Name of a model's composite drift alarm (the retraining trigger listens for it)."""
    return f"{config.name_prefix}-{model}-drift"


def has_drift_alarm(model: ModelSpec) -> bool:
    """Whether the monitoring stack gives ``model`` a composite drift alarm."""
    monitoring = model.monitoring
    return (
        model.serving is not None
        and monitoring.enabled
        and bool(
            (monitoring.data_quality and monitoring.drift_features)
            or (monitoring.model_quality and monitoring.problem_type in _QUALITY_METRIC)
        )
    )


def baselines_uri(config: EnvironmentConfig) -> str:
    """``s3://`` prefix of the baselines the monitors read, per model package group."""
    return f"s3://{config.bucket_name('reports')}/{BASELINES_PREFIX}"


class MonitoringStack(Stack):
    """One monitor per enabled type and endpoint, drift and quality alarms, failure alerts.

    Attributes
    ----------
    monitors:
        The :class:`ModelMonitor` constructs, by model name then type.
    drift_alarms:
        The composite drift alarm of each model that has one.
    failure_rule:
        Alerts the topic when a monitoring execution fails.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        workspace: WorkspaceStack,
        endpoints: Sequence[MonitoredEndpoint],
        alert_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        net = network.network
        role = workspace.execution_role.role
        reports = config.bucket_name("reports")
        self.monitors: dict[str, dict[str, ModelMonitor]] = {}
        self.drift_alarms: dict[str, cloudwatch.CompositeAlarm] = {}
        alarm_action = cloudwatch_actions.SnsAction(alert_topic)

        for endpoint in endpoints:
            model, monitoring = endpoint.model, endpoint.model.monitoring
            if not monitoring.enabled:
                continue
            group = f"{config.name_prefix}-{model.name}"
            settings = MonitorJobSettings(
                role=role,
                subnet_ids=[subnet.subnet_id for subnet in net.subnets.subnets],
                security_group_ids=[net.workload_security_group.security_group_id],
                key=data.keys.workload,
                reports_uri=f"s3://{reports}/{REPORTS_PREFIX}/{model.name}",
            )
            common: dict[str, Any] = {
                "endpoint_name": endpoint.endpoint_name,
                "schedule_expression": monitoring.schedule,
                "settings": settings,
            }
            baseline = f"{baselines_uri(config)}/{group}"
            monitors: dict[str, ModelMonitor] = {}
            if monitoring.data_quality:
                monitors["data-quality"] = DataQualityMonitor(
                    self,
                    f"{model.name}-data-quality",
                    schedule_name=f"{group}-data-quality",
                    image_uri=model_monitor_image(config.region),
                    baseline_uri=f"{baseline}/data-quality",
                    **common,
                )
            if monitoring.model_quality:
                assert monitoring.ground_truth_uri is not None  # guaranteed by MonitoringSpec
                monitors["model-quality"] = ModelQualityMonitor(
                    self,
                    f"{model.name}-model-quality",
                    schedule_name=f"{group}-model-quality",
                    image_uri=model_monitor_image(config.region),
                    baseline_uri=f"{baseline}/model-quality",
                    ground_truth_uri=monitoring.ground_truth_uri,
                    problem_type=monitoring.problem_type,
                    **common,
                )
            if monitoring.bias:
                assert monitoring.ground_truth_uri is not None
                monitors["model-bias"] = ModelBiasMonitor(
                    self,
                    f"{model.name}-model-bias",
                    schedule_name=f"{group}-model-bias",
                    image_uri=clarify_image(config.region),
                    baseline_uri=f"{baseline}/model-bias",
                    ground_truth_uri=monitoring.ground_truth_uri,
                    **common,
                )
            if monitoring.explainability:
                monitors["model-explainability"] = ModelExplainabilityMonitor(
                    self,
                    f"{model.name}-model-explainability",
                    schedule_name=f"{group}-model-explainability",
                    image_uri=clarify_image(config.region),
                    baseline_uri=f"{baseline}/model-explainability",
                    **common,
                )
            self.monitors[model.name] = monitors
            if monitoring.ground_truth_uri is not None:
                self._grant_ground_truth(role, monitoring.ground_truth_uri)

            alarms = self._drift_alarms(config, endpoint, monitors, alarm_action)
            if alarms:
                composite = cloudwatch.CompositeAlarm(
                    self,
                    f"{model.name}-drift",
                    composite_alarm_name=drift_alarm_name(config, model.name),
                    alarm_description=f"Drift or quality loss of {model.name}: retraining starts",
                    alarm_rule=cloudwatch.AlarmRule.any_of(*alarms),
                )
                composite.add_alarm_action(alarm_action)
                self.drift_alarms[model.name] = composite

        self.failure_rule = events.Rule(
            self,
            "MonitoringFailureRule",
            description="A Model Monitor execution of this environment failed",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Processing Job State Change"],
                detail={
                    "ProcessingJobStatus": ["Failed"],
                    "Environment": {
                        "sagemaker_monitoring_schedule_name": [{"prefix": f"{config.name_prefix}-"}]
                    },
                },
            ),
            targets=[targets.SnsTopic(alert_topic)],
        )

    def _drift_alarms(
        self,
        config: EnvironmentConfig,
        endpoint: MonitoredEndpoint,
        monitors: dict[str, ModelMonitor],
        action: cloudwatch_actions.SnsAction,
    ) -> list[cloudwatch.Alarm]:
        """Per-feature drift alarms and the model-quality alarm of one model."""
        model, monitoring = endpoint.model, endpoint.model.monitoring
        alarms = []
        if "data-quality" in monitors:
            schedule = monitors["data-quality"].schedule_name
            for feature in monitoring.drift_features:
                alarms.append(
                    cloudwatch.Alarm(
                        self,
                        f"{model.name}-drift-{feature}",
                        alarm_description=f"Drift of feature {feature} of {model.name}",
                        metric=cloudwatch.Metric(
                            namespace="aws/sagemaker/Endpoints/data-metrics",
                            metric_name=f"feature_baseline_drift_{feature}",
                            dimensions_map={
                                "Endpoint": endpoint.endpoint_name,
                                "MonitoringSchedule": schedule,
                            },
                            statistic="Maximum",
                            period=Duration.hours(1),
                        ),
                        threshold=monitoring.drift_threshold,
                        evaluation_periods=1,
                        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    )
                )
        metric_name = _QUALITY_METRIC.get(monitoring.problem_type)
        if "model-quality" in monitors and metric_name:
            alarms.append(
                cloudwatch.Alarm(
                    self,
                    f"{model.name}-quality",
                    alarm_description=f"{metric_name} of {model.name} below"
                    f" {monitoring.quality_alarm_threshold}",
                    metric=cloudwatch.Metric(
                        namespace="aws/sagemaker/Endpoints/model-metrics",
                        metric_name=metric_name,
                        dimensions_map={
                            "Endpoint": endpoint.endpoint_name,
                            "MonitoringSchedule": monitors["model-quality"].schedule_name,
                        },
                        statistic="Minimum",
                        period=Duration.hours(1),
                    ),
                    threshold=monitoring.quality_alarm_threshold,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
        for alarm in alarms:
            alarm.add_alarm_action(action)
        return alarms

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

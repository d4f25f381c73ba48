"""The alarms of an endpoint: server errors and model latency, per production variant."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from platform_config.serving_spec import AlarmSpec

_AT_OR_ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
#: Where SageMaker publishes its endpoints' invocation metrics.
INVOCATION_METRICS = "AWS/SageMaker"


def endpoint_metric(
    name: str,
    statistic: str,
    dimensions: dict[str, str],
    *,
    namespace: str = INVOCATION_METRICS,
    label: str | None = None,
) -> cloudwatch.Metric:
    """A metric SageMaker publishes for an endpoint (or a variant, or a component), per
    minute."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=Duration.minutes(1),
        label=label,
    )


class EndpointAlarms(Construct):
    """5xx and p99 model latency alarms per production variant, notifying a topic.

    They are also the deployment guardrails' rollback alarms: a blue/green or rolling update
    that makes them fire is rolled back.

    Attributes
    ----------
    alarms:
        Every alarm (``cloudwatch.Alarm``).

    Parameters
    ----------
    endpoint_name:
        The endpoint (metrics are found by name: no dependency on it).
    variant_names:
        Production variants.
    thresholds:
        :class:`AlarmSpec`.
    topic:
        Notified on alarm and on recovery.
    inference_component_name:
        Watch this inference component's metrics (dimension ``InferenceComponentName``)
        instead of the variants' (default none: the endpoint's variants); its alarms are
        named after the one variant that hosts it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_names: Sequence[str],
        thresholds: AlarmSpec,
        topic: sns.ITopic,
        inference_component_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        action = actions.SnsAction(topic)
        for variant in variant_names:
            dimensions = (
                {"InferenceComponentName": inference_component_name}
                if inference_component_name
                else {"EndpointName": endpoint_name, "VariantName": variant}
            )
            errors = endpoint_metric("Invocation5XXErrors", "Sum", dimensions)
            latency = endpoint_metric("ModelLatency", "p99", dimensions)
            for alarm_id, metric, threshold, what in (
                ("Errors5xx", errors, thresholds.errors_5xx, "5xx errors per minute"),
                # ModelLatency is reported in microseconds.
                (
                    "LatencyP99",
                    latency,
                    thresholds.model_latency_p99_ms * 1000,
                    "p99 model latency (microseconds)",
                ),
            ):
                alarm = metric.create_alarm(
                    self,
                    f"{variant}{alarm_id}",
                    threshold=threshold,
                    evaluation_periods=thresholds.evaluation_periods,
                    comparison_operator=_AT_OR_ABOVE,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{endpoint_name}/{variant}: {what} at or above {threshold}",
                )
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
                self.alarms.append(alarm)

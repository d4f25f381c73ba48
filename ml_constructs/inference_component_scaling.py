"""Autoscaling of an inference component's copies, down to zero and back up on traffic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.endpoint_alarms import endpoint_metric
from ml_constructs.endpoint_autoscaling import sagemaker_scalable_target, sagemaker_scaling_role

_INVOCATIONS_PER_COPY = (
    appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY
)


class InferenceComponentScaling(Construct):
    """Scale an inference component between zero and ``max_copies`` copies.

    Built as "Scale an endpoint to zero instances" in the SageMaker developer guide
    (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html),
    step by step:

    1. the component is an Application Auto Scaling target on
       ``sagemaker:inference-component:DesiredCopyCount`` with minimum capacity 0;
    2. a target-tracking policy on ``SageMakerInferenceComponentInvocationsPerCopy`` (the
       predefined metric of that page's example) scales copies out with traffic and in, down
       to zero, without it;
    3. target tracking cannot leave zero copies, so a step-scaling policy
       (``ChangeInCapacity``, ``Maximum`` aggregation, cooldown 60 s, +1 copy from a metric
       interval lower bound of 0) is the action of
    4. a CloudWatch alarm on ``NoCapacityInvocationFailures`` (namespace ``AWS/SageMaker``,
       dimension ``InferenceComponentName``, ``Sum`` over 60 s, one of one datapoints,
       ``GreaterThanThreshold`` 1), which SageMaker emits when a request arrives and no
       instance can serve it. As the page documents it, the alarm fires on more than one
       such failed request in a minute; the endpoint then provisions an instance, which takes
       minutes, and requests fail until it is in service (clients retry).

    The endpoint itself follows the copies: its variant's managed instance scaling
    (``MinInstanceCount`` 0) provisions and releases the instances they need. Scaling uses
    Application Auto Scaling's service-linked role for SageMaker.

    Attributes
    ----------
    target:
        The ``appscaling.ScalableTarget``.
    wake_up:
        The step-scaling action that adds a copy from zero.
    wake_up_alarm:
        The ``NoCapacityInvocationFailures`` alarm that triggers it.

    Parameters
    ----------
    component:
        The ``CfnInferenceComponent``; the target depends on it.
    component_name:
        Its physical name.
    max_copies:
        Most copies (at least 1).
    target_invocations_per_copy:
        Target-tracking value: invocations per copy per minute.
    scale_in_cooldown, scale_out_cooldown:
        Target-tracking cooldowns.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        component: sagemaker.CfnInferenceComponent,
        component_name: str,
        max_copies: int,
        target_invocations_per_copy: float,
        scale_in_cooldown: Duration,
        scale_out_cooldown: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        if max_copies < 1:
            raise ValueError(f"max_copies must be at least 1 (got {max_copies})")
        if target_invocations_per_copy <= 0:
            raise ValueError("target_invocations_per_copy must be positive")
        self.target = sagemaker_scalable_target(
            self,
            "Target",
            resource_id=f"inference-component/{component_name}",
            dimension="sagemaker:inference-component:DesiredCopyCount",
            min_capacity=0,
            max_capacity=max_copies,
            role=sagemaker_scaling_role(self),
            scaled=component,
        )
        self.target.scale_to_track_metric(
            "InvocationsPerCopy",
            target_value=target_invocations_per_copy,
            predefined_metric=_INVOCATIONS_PER_COPY,
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
        )
        self.wake_up, self.wake_up_alarm = self._wake_up(component_name)

    def _wake_up(
        self, component_name: str
    ) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
        """The step-scaling action adding a copy from zero, and the alarm that triggers it."""
        wake_up = appscaling.StepScalingAction(
            self,
            "WakeUp",
            scaling_target=self.target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
            cooldown=Duration.seconds(60),
        )
        wake_up.add_adjustment(adjustment=1, lower_bound=0)
        alarm = cloudwatch.Alarm(
            self,
            "NoCapacity",
            metric=endpoint_metric(
                "NoCapacityInvocationFailures", "Sum", {"InferenceComponentName": component_name}
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            alarm_description=f"{component_name}: invoked with no instance: add a copy"
            " (scale out from zero)",
        )
        alarm.add_alarm_action(actions.ApplicationScalingAction(wake_up))
        return wake_up, alarm

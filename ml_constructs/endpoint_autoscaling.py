"""Autoscaling of an endpoint's production variants: target tracking, and scale to zero."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from platform_config.serving_spec import AutoscalingSpec

_INVOCATIONS_PER_INSTANCE = appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE


class EndpointAutoscaling(Construct):
    """A scalable target per production variant, with its policies.

    Real-time endpoints track invocations per instance. Asynchronous endpoints track the
    backlog per instance and may scale to zero (``min_capacity`` 0); as target tracking
    cannot leave zero instances, a step policy on ``HasBacklogWithoutCapacity`` adds one
    instance as soon as a request waits with no instance to serve it.

    Attributes
    ----------
    targets:
        ``appscaling.ScalableTarget`` by variant name.

    Parameters
    ----------
    endpoint:
        The ``CfnEndpoint``; the targets depend on it (its variants must exist).
    endpoint_name:
        Its physical name.
    variant_names:
        Production variants to scale.
    settings:
        Bounds, target and cooldowns.
    asynchronous:
        Scale on the queue backlog instead of invocations (default off).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: sagemaker.CfnEndpoint,
        endpoint_name: str,
        variant_names: Sequence[str],
        settings: AutoscalingSpec,
        asynchronous: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if settings.min_capacity == 0 and not asynchronous:
            raise ValueError("min_capacity 0 (scale to zero) is for asynchronous endpoints only")
        self.targets: dict[str, appscaling.ScalableTarget] = {}
        stack = Stack.of(self)
        # Application Auto Scaling's service-linked role for SageMaker (created by the service
        # on first use): no role of our own to maintain.
        scaling_role = iam.Role.from_role_arn(
            self,
            "ServiceLinkedRole",
            f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
            "sagemaker.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
        )
        scale_in = Duration.seconds(settings.scale_in_cooldown_seconds)
        scale_out = Duration.seconds(settings.scale_out_cooldown_seconds)
        for variant in variant_names:
            target = appscaling.ScalableTarget(
                self,
                variant,
                service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
                resource_id=f"endpoint/{endpoint_name}/variant/{variant}",
                scalable_dimension="sagemaker:variant:DesiredInstanceCount",
                min_capacity=settings.min_capacity,
                max_capacity=settings.max_capacity,
                role=scaling_role,
            )
            target.node.add_dependency(endpoint)
            self.targets[variant] = target
            if not asynchronous:
                target.scale_to_track_metric(
                    "Invocations",
                    target_value=settings.target_invocations_per_instance,
                    predefined_metric=_INVOCATIONS_PER_INSTANCE,
                    scale_in_cooldown=scale_in,
                    scale_out_cooldown=scale_out,
                )
                continue
            target.scale_to_track_metric(
                "Backlog",
                target_value=settings.target_backlog_per_instance,
                custom_metric=cloudwatch.Metric(
                    namespace="AWS/SageMaker",
                    metric_name="ApproximateBacklogSizePerInstance",
                    dimensions_map={"EndpointName": endpoint_name},
                    statistic="Average",
                ),
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
            target.scale_on_metric(
                "WakeUp",
                metric=cloudwatch.Metric(
                    namespace="AWS/SageMaker",
                    metric_name="HasBacklogWithoutCapacity",
                    dimensions_map={"EndpointName": endpoint_name},
                    statistic="Average",
                    period=Duration.minutes(1),
                ),
                scaling_steps=[
                    appscaling.ScalingInterval(upper=0.5, change=0),
                    appscaling.ScalingInterval(lower=0.5, change=1),
                ],
                adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
                cooldown=scale_out,
                evaluation_periods=1,
            )

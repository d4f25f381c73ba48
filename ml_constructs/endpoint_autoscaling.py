"""Autoscaling of an endpoint's production variants: target tracking, and scale to zero."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.endpoint_alarms import endpoint_metric
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
        role = sagemaker_scaling_role(self)
        for variant in variant_names:
            target = sagemaker_scalable_target(
                self,
                variant,
                resource_id=f"endpoint/{endpoint_name}/variant/{variant}",
                dimension="sagemaker:variant:DesiredInstanceCount",
                min_capacity=settings.min_capacity,
                max_capacity=settings.max_capacity,
                role=role,
                scaled=endpoint,
            )
            self.targets[variant] = target
            if asynchronous:
                self._track_backlog(target, endpoint_name, settings)
            else:
                target.scale_to_track_metric(
                    "Invocations",
                    target_value=settings.target_invocations_per_instance,
                    predefined_metric=_INVOCATIONS_PER_INSTANCE,
                    scale_in_cooldown=Duration.seconds(settings.scale_in_cooldown_seconds),
                    scale_out_cooldown=Duration.seconds(settings.scale_out_cooldown_seconds),
                )

    @staticmethod
    def _track_backlog(
        target: appscaling.ScalableTarget, endpoint_name: str, settings: AutoscalingSpec
    ) -> None:
        """Track the backlog per instance; wake up from zero when a request waits."""
        scale_out = Duration.seconds(settings.scale_out_cooldown_seconds)
        target.scale_to_track_metric(
            "Backlog",
            target_value=settings.target_backlog_per_instance,
            custom_metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="ApproximateBacklogSizePerInstance",
                dimensions_map={"EndpointName": endpoint_name},
                statistic="Average",
            ),
            scale_in_cooldown=Duration.seconds(settings.scale_in_cooldown_seconds),
            scale_out_cooldown=scale_out,
        )
        target.scale_on_metric(
            "WakeUp",
            metric=endpoint_metric(
                "HasBacklogWithoutCapacity", "Average", {"EndpointName": endpoint_name}
            ),
            scaling_steps=[
                appscaling.ScalingInterval(upper=0.5, change=0),
                appscaling.ScalingInterval(lower=0.5, change=1),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=scale_out,
            evaluation_periods=1,
        )


def sagemaker_scaling_role(scope: Construct) -> iam.IRole:
    """Application Auto Scaling's service-linked role for SageMaker (created by the service
    on first use): no role of our own to maintain."""
    stack = Stack.of(scope)
    return iam.Role.from_role_arn(
        scope,
        "ServiceLinkedRole",
        f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
        "sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
    )


def sagemaker_scalable_target(
    scope: Construct,
    construct_id: str,
    *,
    resource_id: str,
    dimension: str,
    min_capacity: int,
    max_capacity: int,
    role: iam.IRole,
    scaled: CfnResource,
) -> appscaling.ScalableTarget:
    """A SageMaker scalable target (a variant's instances, a component's copies), created
    after the resource it scales (``scaled``), which must exist first."""
    target = appscaling.ScalableTarget(
        scope,
        construct_id,
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id=resource_id,
        scalable_dimension=dimension,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        role=role,
    )
    target.node.add_dependency(scaled)
    return target

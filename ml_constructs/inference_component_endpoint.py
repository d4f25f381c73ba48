"""A real-time endpoint serving one model on an inference component that scales to zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.inference_component_scaling import InferenceComponentScaling
from ml_constructs.lmi_serving import lmi_variant_timeouts
from ml_constructs.model_endpoint import (
    ModelEndpoint,
    VariantPackage,
    acknowledge_unencrypted_volumes,
)
from platform_config.llm_serving_spec import LlmServingSpec
from platform_config.serving_defaults import InstanceSize
from platform_config.serving_spec import (
    AutoscalingSpec,
    DeploymentSpec,
    EndpointKind,
    ServingSpec,
    scale_to_zero_blocker,
)

_IC = sagemaker.CfnInferenceComponent
_CONFIG = sagemaker.CfnEndpointConfig


@dataclass(frozen=True)
class ComputeRequirements:
    """What one copy of the model reserves on an instance (``ComputeResourceRequirements``).

    Attributes
    ----------
    cpu_cores:
        ``NumberOfCpuCoresRequired``.
    min_memory_mb:
        ``MinMemoryRequiredInMb``.
    accelerators:
        ``NumberOfAcceleratorDevicesRequired``: GPUs, or NeuronCores on Inferentia2 and
        Trainium (default 0: none, and the field is omitted).
    """

    cpu_cores: float
    min_memory_mb: int
    accelerators: int = 0

    @classmethod
    def one_copy_per_instance(cls, size: InstanceSize) -> ComputeRequirements:
        """A copy sized to one instance: every accelerator device, half the vCPUs and half
        the memory (SageMaker keeps part of each instance for its own agents and refuses a
        copy that asks for all of it; no copy shares an accelerator instance)."""
        return cls(
            cpu_cores=max(size.vcpus / 2, 0.25),
            min_memory_mb=size.memory_gib * 1024 // 2,
            accelerators=size.accelerators,
        )


class InferenceComponentEndpoint(ModelEndpoint):
    """An endpoint whose one variant hosts the model on an inference component, and scales
    to zero instances when idle.

    The endpoint config has no model: its single production variant names the instance type,
    starts ``instance_count`` instances, and lets managed instance scaling keep between zero
    and ``max_instance_count`` of them (``ManagedInstanceScaling``: ``ENABLED``,
    ``MinInstanceCount`` 0), routing each request to the instance with the fewest outstanding
    ones. Its ``ExecutionRoleArn``, VPC placement and network isolation are the model's.
    The ``AWS::SageMaker::InferenceComponent`` (named like the endpoint; clients pass it as
    ``InferenceComponentName``) serves the :class:`ServedModel` of the release record's
    package with ``compute`` per copy, starting with one copy. A release changes the
    component's model, and SageMaker rolls the copies over with the component's own
    ``DeploymentConfig`` (rolling batches, rolled back when ``rollback_alarms`` fire). Copies
    scale with :class:`InferenceComponentScaling` (to zero, and back on traffic).

    Attributes
    ----------
    endpoint:
        ``CfnEndpoint`` (logical id stable via ``Default``).
    endpoint_config:
        ``CfnEndpointConfig``.
    component:
        ``CfnInferenceComponent``.
    component_name:
        Its physical name.
    model:
        The :class:`ServedModel`.
    models:
        The same, by its package's key (as :class:`ModelEndpoint`'s).
    spec:
        The :class:`ServingSpec` served.
    scaling:
        :class:`InferenceComponentScaling`.
    endpoint_name:
        The physical name.
    production_variant_names:
        The one variant's name, as a list (like ``ModelEndpoint``'s).
    shadow_variant_names:
        Always empty.

    Parameters
    ----------
    endpoint_name:
        Physical name of the endpoint and of its component (at most 63 characters).
    spec:
        The model's :class:`ServingSpec`: real-time, one production variant, no shadow
        variant, no data capture (``platform_config.serving_defaults``). Its
        ``instance_count`` is the initial fleet, ``autoscaling`` (if any) the copy bounds
        and target (default: ``instance_count`` copies at most, the default target) and
        ``deployment`` the rolling update: ``rolling_batch_percent`` of the copies per batch
        with ``strategy: rolling``, else half of them.
    package:
        The :class:`VariantPackage` the variant serves.
    compute:
        :class:`ComputeRequirements` of one copy.
    role:
        Execution role of the endpoint and the model.
    subnets, security_group:
        VPC placement.
    volume_key:
        Encrypts instance volumes (omitted for types with local NVMe storage).
    image, provider:
        As for :class:`ServedModel` (default none). With an LMI Neuron ``image``, the model's
        container gets LMI's settings for the instance type and the component LMI's startup
        and download timeouts (:mod:`ml_constructs.lmi_serving`), as on a
        :class:`~ml_constructs.model_endpoint.ModelEndpoint`.
    rollback_alarms:
        Alarms whose firing rolls a deployment of the component back (default none).
    component_name:
        Physical name of the component (default: ``endpoint_name``).
    """

    KINDS: ClassVar[tuple[EndpointKind, ...]] = (EndpointKind.REAL_TIME,)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        spec: ServingSpec,
        package: VariantPackage,
        compute: ComputeRequirements,
        role: iam.IRole,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        volume_key: kms.IKey,
        image: str | None = None,
        provider: lambda_.IFunction | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
        component_name: str | None = None,
    ) -> None:
        variant = spec.production_variants[0]
        super().__init__(
            scope,
            construct_id,
            endpoint_name=endpoint_name,
            spec=spec,
            variant_packages={variant.name: package},
            role=role,
            subnets=subnets,
            security_group=security_group,
            volume_key=volume_key,
            image=image,
            provider=provider,
            rollback_alarms=rollback_alarms,
        )
        self.component_name = component_name or endpoint_name
        self.model = self.models[package.key]
        self.component = self._component(variant.name, compute, rollback_alarms)
        scaling = self._scaling_spec()
        self.scaling = InferenceComponentScaling(
            self,
            "Scaling",
            component=self.component,
            component_name=self.component_name,
            max_copies=self._max_instances(),
            target_invocations_per_copy=scaling.target_invocations_per_instance,
            scale_in_cooldown=Duration.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=Duration.seconds(scaling.scale_out_cooldown_seconds),
        )

    def _component(
        self, variant_name: str, compute: ComputeRequirements, alarms: Sequence[cloudwatch.IAlarm]
    ) -> sagemaker.CfnInferenceComponent:
        """The component serving the model on the variant: one copy to start with."""
        return _IC(
            self,
            "Component",
            inference_component_name=self.component_name,
            endpoint_name=self.endpoint.attr_endpoint_name,
            variant_name=variant_name,
            specification=_IC.InferenceComponentSpecificationProperty(
                model_name=self.model.model_name,
                compute_resource_requirements=_IC.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_cpu_cores_required=compute.cpu_cores,
                    min_memory_required_in_mb=compute.min_memory_mb,
                    number_of_accelerator_devices_required=compute.accelerators or None,
                ),
                startup_parameters=_startup_parameters(self._llm),
            ),
            runtime_config=_IC.InferenceComponentRuntimeConfigProperty(copy_count=1),
            deployment_config=_deployment_config(self.spec.deployment, alarms),
        )

    def _problem(self) -> str | None:
        blocker = scale_to_zero_blocker(self.spec)
        if blocker is not None:
            return f"cannot serve {self.endpoint_name} on an inference component: {blocker}"
        return super()._problem()

    def _scaling_spec(self) -> AutoscalingSpec:
        """The copies' scaling (default: ``instance_count`` copies at most)."""
        variant = self.spec.production_variants[0]
        return self.spec.autoscaling or AutoscalingSpec(max_capacity=variant.instance_count)

    def _max_instances(self) -> int:
        variant = self.spec.production_variants[0]
        return max(variant.instance_count, self._scaling_spec().max_capacity)

    def _endpoint_config(self) -> sagemaker.CfnEndpointConfig:
        """The model (which the component serves) and the model-less endpoint config of the
        component's variant."""
        variant = self.spec.production_variants[0]
        self._model_for(variant)
        unencrypted = self._unencrypted_volumes()
        config = _CONFIG(
            self,
            "Config",
            execution_role_arn=self._role.role_arn,
            production_variants=[
                _CONFIG.ProductionVariantProperty(
                    variant_name=variant.name,
                    instance_type=self.spec.variant_instance_type(variant),
                    initial_instance_count=variant.instance_count,
                    managed_instance_scaling=_CONFIG.ManagedInstanceScalingProperty(
                        status="ENABLED",
                        min_instance_count=0,
                        max_instance_count=self._max_instances(),
                    ),
                    routing_config=_CONFIG.RoutingConfigProperty(
                        routing_strategy="LEAST_OUTSTANDING_REQUESTS"
                    ),
                )
            ],
            vpc_config=_CONFIG.VpcConfigProperty(
                subnets=[subnet.subnet_id for subnet in self._subnets],
                security_group_ids=[self._security_group.security_group_id],
            ),
            enable_network_isolation=self.spec.network_isolation,
            kms_key_id=None if unencrypted else self._volume_key.key_arn,
        )
        # SageMaker checks the execution role's permissions when it creates the endpoint.
        policy = self._role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            config.node.add_dependency(policy)
        if unencrypted:
            acknowledge_unencrypted_volumes(config, unencrypted)
        return config

    def _deployment_config(self) -> sagemaker.CfnEndpoint.DeploymentConfigProperty | None:
        """None: the component rolls its copies over with its own deployment config (and
        rolls them back when the rollback alarms fire)."""
        return None


def _startup_parameters(
    llm: LlmServingSpec | None,
) -> sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty | None:
    """LMI's startup and download timeouts, on the component (not its model-less variant)."""
    if llm is None:
        return None
    timeouts = lmi_variant_timeouts(llm)
    return _IC.InferenceComponentStartupParametersProperty(
        container_startup_health_check_timeout_in_seconds=(
            timeouts.container_startup_health_check_seconds
        ),
        model_data_download_timeout_in_seconds=timeouts.model_data_download_seconds,
    )


def _deployment_config(
    deployment: DeploymentSpec, alarms: Sequence[cloudwatch.IAlarm]
) -> sagemaker.CfnInferenceComponent.InferenceComponentDeploymentConfigProperty:
    """A rolling update of the copies (the only policy components have), with alarm rollback."""

    def percent(
        value: int,
    ) -> sagemaker.CfnInferenceComponent.InferenceComponentCapacitySizeProperty:
        return _IC.InferenceComponentCapacitySizeProperty(type="CAPACITY_PERCENT", value=value)

    batch = deployment.rolling_batch_percent if deployment.strategy == "rolling" else 50
    rollback = (
        _IC.AutoRollbackConfigurationProperty(
            alarms=[_IC.AlarmProperty(alarm_name=alarm.alarm_name) for alarm in alarms]
        )
        if deployment.auto_rollback and alarms
        else None
    )
    return _IC.InferenceComponentDeploymentConfigProperty(
        rolling_update_policy=_IC.InferenceComponentRollingUpdatePolicyProperty(
            maximum_batch_size=percent(batch),
            wait_interval_in_seconds=deployment.wait_seconds,
            maximum_execution_timeout_in_seconds=deployment.maximum_execution_timeout_seconds,
            rollback_maximum_batch_size=percent(100),
        ),
        auto_rollback_configuration=rollback,
    )

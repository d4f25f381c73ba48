"""A SageMaker endpoint of any kind (real-time, serverless, asynchronous) for one model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs.compliance import acknowledge
from ml_constructs.lmi_serving import llm_settings, lmi_environment, lmi_variant_timeouts
from ml_constructs.served_model import ServedModel
from platform_config.aws_facts import has_local_storage
from platform_config.serving_spec import (
    DeploymentSpec,
    EndpointKind,
    ServingSpec,
    VariantSpec,
)


@dataclass(frozen=True)
class VariantPackage:
    """The model package a variant serves.

    Attributes
    ----------
    key:
        Names its :class:`ServedModel` (``Champion``, ``Candidate``, ``V3``: variants with
        the same key share one model).
    package_arn:
        The versioned package ARN (a release record's deploy-time value, or a pinned one).
    acknowledge_template_value:
        The ARN is an SSM parameter type's value inside ``Fn::If``, which CDK's template
        validation cannot resolve (it substitutes the parameter's default, its name): its
        finding is acknowledged on the model (default no).
    """

    key: str
    package_arn: str
    acknowledge_template_value: bool = False


@dataclass(frozen=True)
class AsyncOutput:
    """Where an asynchronous endpoint writes results and whom it tells.

    ``output_uri`` and ``failure_uri`` are ``s3://`` prefixes; results are encrypted with
    ``key``; SageMaker publishes to ``success_topic`` and ``error_topic``.
    """

    output_uri: str
    failure_uri: str
    key: kms.IKey
    success_topic: sns.ITopic
    error_topic: sns.ITopic


class ModelEndpoint(Construct):
    """The models, endpoint config and endpoint of one catalogue model.

    One :class:`ServedModel` per distinct package the variants serve (the release record's
    champion or candidate, or a pinned version). The endpoint has a stable physical name, so that
    the deployment automation (``lambda/model_deployment``), Model Monitor and clients find
    it; the models and endpoint configs get generated names, so that CloudFormation can
    replace them and update the endpoint with the configured deployment guardrails.

    When ``image`` is an LMI Neuron image, each model's container gets LMI's settings for
    its instance type and each variant LMI's startup and download timeouts
    (:mod:`ml_constructs.lmi_serving`); variants of one version whose tensor-parallel
    degrees differ get a model each (``latest-tp12``).

    Attributes
    ----------
    endpoint:
        ``CfnEndpoint`` (logical id stable via ``Default``).
    endpoint_config:
        ``CfnEndpointConfig``.
    endpoint_name:
        The physical name.
    models:
        :class:`ServedModel` by key (``Champion``, ``Candidate``, ``V3``).
    production_variant_names, shadow_variant_names:
        Variant names.

    Parameters
    ----------
    endpoint_name:
        Physical name (at most 63 characters).
    spec:
        The model's :class:`ServingSpec` (kind ``real_time``, ``serverless`` or ``async``).
    variant_packages:
        :class:`VariantPackage` of every production and shadow variant, by variant name.
    provider:
        The deploy-time provider (needed with ``image``; see :class:`ServedModel`).
    role:
        Execution role of the models.
    image:
        Image override with the region filled in (default none).
    subnets, security_group:
        The VPC placement of instance-backed models (serverless models run outside).
    volume_key:
        Encrypts instance volumes (omitted for instance types with local NVMe storage,
        which SageMaker encrypts itself and for which it rejects a key) and captured data.
    data_capture_uri:
        ``s3://`` prefix of captured data (default none: no capture).
    async_output:
        Required for asynchronous endpoints (default none).
    rollback_alarms:
        Alarms whose firing rolls a deployment back (default none).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        spec: ServingSpec,
        variant_packages: Mapping[str, VariantPackage],
        role: iam.IRole,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        volume_key: kms.IKey,
        image: str | None = None,
        provider: lambda_.IFunction | None = None,
        data_capture_uri: str | None = None,
        async_output: AsyncOutput | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if spec.kind is EndpointKind.BATCH:
            raise ValueError("batch serving has no endpoint: use BatchTransformModel")
        if (spec.kind is EndpointKind.ASYNC) != (async_output is not None):
            raise ValueError("async_output is required for async endpoints and only for them")
        if len(endpoint_name) > 63:
            raise ValueError(f"endpoint_name {endpoint_name!r} is longer than 63 characters")
        self.endpoint_name = endpoint_name
        serverless = spec.kind is EndpointKind.SERVERLESS

        self.models: dict[str, ServedModel] = {}
        llm = llm_settings(spec, image)
        timeouts = lmi_variant_timeouts(llm) if llm else None

        def model_for(variant: VariantSpec) -> str:
            package = variant_packages[variant.name]
            instance_type = spec.variant_instance_type(variant)
            environment = lmi_environment(instance_type=instance_type, settings=llm) if llm else {}
            key = package.key
            if key in self.models and self.models[key].environment != environment:
                key += f"Tp{environment['OPTION_TENSOR_PARALLEL_DEGREE']}"
            if key not in self.models:
                self.models[key] = ServedModel(
                    self,
                    "Model" + key,
                    package_arn=package.package_arn,
                    role=role,
                    image=image,
                    provider=provider,
                    environment=environment,
                    subnets=() if serverless else subnets,
                    security_groups=() if serverless else [security_group],
                    network_isolation=spec.network_isolation,
                )
            served = self.models[key]
            if package.acknowledge_template_value:
                acknowledge(
                    served.model,
                    "CloudFormation-Validate::F3031",
                    reason="The package ARN is a release record (an SSM parameter type) chosen"
                    " with Fn::If; the validator substitutes the parameter's name (its default)"
                    " in each branch, CloudFormation resolves it to the recorded ARN.",
                )
            return served.model_name

        config_types = sagemaker.CfnEndpointConfig

        def instance_variant(variant: VariantSpec) -> Any:
            return config_types.ProductionVariantProperty(
                variant_name=variant.name,
                model_name=model_for(variant),
                initial_instance_count=variant.instance_count,
                instance_type=spec.variant_instance_type(variant),
                initial_variant_weight=variant.weight,
                container_startup_health_check_timeout_in_seconds=(
                    timeouts.container_startup_health_check_seconds if timeouts else None
                ),
                model_data_download_timeout_in_seconds=(
                    timeouts.model_data_download_seconds if timeouts else None
                ),
            )

        if serverless:
            settings = spec.serverless_settings
            variant = spec.production_variants[0]
            production = [
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=variant.name,
                    model_name=model_for(variant),
                    serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                        memory_size_in_mb=settings.memory_size_mb,
                        max_concurrency=settings.max_concurrency,
                        provisioned_concurrency=settings.provisioned_concurrency,
                    ),
                )
            ]
        else:
            production = [instance_variant(variant) for variant in spec.production_variants]
        shadow = [instance_variant(variant) for variant in spec.shadow]
        self.production_variant_names = [variant.name for variant in spec.production_variants]
        self.shadow_variant_names = [variant.name for variant in spec.shadow]

        all_variants = spec.production_variants + spec.shadow
        instance_types = [spec.variant_instance_type(variant) for variant in all_variants]
        local_storage = sorted({t for t in instance_types if has_local_storage(t)})
        volume_key_id = None if serverless or local_storage else volume_key.key_arn

        capture = None
        if data_capture_uri is not None and spec.captures_data:
            capture = sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
                enable_capture=True,
                initial_sampling_percentage=spec.data_capture.sampling_percent,
                destination_s3_uri=data_capture_uri,
                kms_key_id=volume_key.key_arn,
                capture_options=[
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
                ],
                capture_content_type_header=config_types.CaptureContentTypeHeaderProperty(
                    csv_content_types=["text/csv"], json_content_types=["application/json"]
                ),
            )

        async_config = None
        if async_output is not None:
            settings_async = spec.async_settings
            async_config = sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=(
                        settings_async.max_concurrent_invocations_per_instance
                    )
                ),
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=async_output.output_uri,
                    s3_failure_path=async_output.failure_uri,
                    kms_key_id=async_output.key.key_arn,
                    notification_config=config_types.AsyncInferenceNotificationConfigProperty(
                        success_topic=async_output.success_topic.topic_arn,
                        error_topic=async_output.error_topic.topic_arn,
                        include_inference_response_in=["SUCCESS_NOTIFICATION_TOPIC"]
                        if settings_async.include_response_in_notification
                        else None,
                    ),
                ),
            )

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=production,
            shadow_production_variants=shadow or None,
            kms_key_id=volume_key_id,
            data_capture_config=capture,
            async_inference_config=async_config,
        )
        if volume_key_id is None:
            why = (
                "Serverless endpoints have no customer-managed volume: SageMaker manages and"
                " encrypts their compute."
                if serverless
                else f"{', '.join(local_storage)} has local NVMe storage, encrypted by the"
                " instance's hardware module; SageMaker rejects a KmsKeyId for it."
            )
            acknowledge(
                self.endpoint_config,
                "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
                "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
                "PCI.DSS.321-SageMakerEndpointConfigurationKMSKeyConfigured",
                reason=why,
            )

        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Default",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=self._deployment_config(spec, rollback_alarms),
        )

    @staticmethod
    def _deployment_config(
        spec: ServingSpec, alarms: Sequence[cloudwatch.IAlarm]
    ) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        deployment: DeploymentSpec = spec.deployment
        rollback = (
            sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[
                    sagemaker.CfnEndpoint.AlarmProperty(alarm_name=alarm.alarm_name)
                    for alarm in alarms
                ]
            )
            if deployment.auto_rollback and alarms
            else None
        )

        def percent(value: int) -> sagemaker.CfnEndpoint.CapacitySizeProperty:
            return sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=value)

        timeout = deployment.maximum_execution_timeout_seconds
        if deployment.strategy == "rolling":
            return sagemaker.CfnEndpoint.DeploymentConfigProperty(
                rolling_update_policy=sagemaker.CfnEndpoint.RollingUpdatePolicyProperty(
                    maximum_batch_size=percent(deployment.rolling_batch_percent),
                    wait_interval_in_seconds=deployment.wait_seconds,
                    maximum_execution_timeout_in_seconds=timeout,
                    rollback_maximum_batch_size=percent(100),
                ),
                auto_rollback_configuration=rollback,
            )
        strategy = "all_at_once" if spec.kind is EndpointKind.SERVERLESS else deployment.strategy
        routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
            type=strategy.upper(),
            # Required by the API for every type, ALL_AT_ONCE included (CreateEndpoint's
            # TrafficRoutingConfig), though CloudFormation's schema leaves it optional.
            wait_interval_in_seconds=deployment.wait_seconds,
            canary_size=percent(deployment.canary_size_percent) if strategy == "canary" else None,
            linear_step_size=(
                percent(deployment.linear_step_percent) if strategy == "linear" else None
            ),
        )
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=deployment.termination_wait_seconds,
                maximum_execution_timeout_in_seconds=timeout,
            ),
            auto_rollback_configuration=rollback,
        )

"""The base of the endpoint constructs: one catalogue model's models, endpoint config and
endpoint, whatever its kind (:class:`~ml_constructs.real_time_endpoint.RealTimeEndpoint`,
:class:`~ml_constructs.async_endpoint.AsyncEndpoint`,
:class:`~ml_constructs.serverless_endpoint.ServerlessEndpoint`,
:class:`~ml_constructs.inference_component_endpoint.InferenceComponentEndpoint`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

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


#: The longest endpoint name SageMaker accepts.
MAX_ENDPOINT_NAME = 63


class ModelEndpoint(Construct):
    """The models, endpoint config and endpoint of one catalogue model (a base class).

    One :class:`ServedModel` per distinct package the variants serve (the release record's
    champion or candidate, or a pinned version). The endpoint has a stable physical name, so
    that the release automation, Model Monitor and clients find it; the models and endpoint
    configs get generated names, so that CloudFormation can replace them and update the
    endpoint with the configured deployment guardrails.

    When ``image`` is an LMI Neuron image, each model's container gets LMI's settings for
    its instance type and each variant LMI's startup and download timeouts
    (:mod:`ml_constructs.lmi_serving`); variants of one version whose tensor-parallel
    degrees differ get a model each (``latest-tp12``).

    A subclass serves the kinds of :attr:`KINDS` and may override the hooks
    :meth:`_production_variants`, :meth:`_async_inference_config`,
    :meth:`_unencrypted_volumes`, :meth:`_in_vpc`, :meth:`_routing_type`,
    :meth:`_endpoint_config` and :meth:`_deployment_config`.

    Attributes
    ----------
    endpoint:
        ``CfnEndpoint`` (logical id stable via ``Default``).
    endpoint_config:
        ``CfnEndpointConfig``.
    endpoint_name:
        The physical name.
    spec:
        The :class:`ServingSpec` served.
    models:
        :class:`ServedModel` by key (``Champion``, ``Candidate``, ``V3``).
    production_variant_names, shadow_variant_names:
        Variant names.

    Parameters
    ----------
    endpoint_name:
        Physical name (at most 63 characters).
    spec:
        The model's :class:`ServingSpec`, of a kind the class serves.
    variant_packages:
        :class:`VariantPackage` of every production and shadow variant, by variant name.
    role:
        Execution role of the models.
    subnets, security_group:
        The VPC placement of instance-backed models (serverless models run outside).
    volume_key:
        Encrypts instance volumes (omitted for instance types with local NVMe storage,
        which SageMaker encrypts itself and for which it rejects a key) and captured data.
    image:
        Image override with the region filled in (default none).
    provider:
        The deploy-time provider (needed with ``image``; see :class:`ServedModel`).
    data_capture_uri:
        ``s3://`` prefix of captured data (default none: no capture).
    rollback_alarms:
        Alarms whose firing rolls a deployment back (default none).
    """

    #: The endpoint kinds (``spec.kind``) the class serves.
    KINDS: ClassVar[tuple[EndpointKind, ...]] = ()

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
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name
        self.spec = spec
        problem = self._problem()
        if problem is not None:
            raise ValueError(problem)
        if len(endpoint_name) > MAX_ENDPOINT_NAME:
            raise ValueError(
                f"endpoint_name {endpoint_name!r} is longer than {MAX_ENDPOINT_NAME} characters"
            )
        self._packages = variant_packages
        self._role, self._volume_key = role, volume_key
        self._subnets, self._security_group = subnets, security_group
        self._image, self._provider = image, provider
        self._data_capture_uri = data_capture_uri
        self._rollback_alarms = rollback_alarms
        self.models: dict[str, ServedModel] = {}
        self._llm = llm_settings(spec, image)
        self.endpoint_config = self._endpoint_config()
        self.production_variant_names = [variant.name for variant in spec.production_variants]
        self.shadow_variant_names = [variant.name for variant in spec.shadow]
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Default",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=self._deployment_config(),
        )

    def _problem(self) -> str | None:
        """Why this class cannot serve :attr:`spec` (``None`` when it can)."""
        kind = self.spec.kind
        if kind in self.KINDS:
            return None
        if kind is EndpointKind.BATCH:
            return "batch serving has no endpoint: use BatchTransformModel"
        kinds = ", ".join(served.value for served in self.KINDS)
        return f"{type(self).__name__} serves {kinds} endpoints, not {kind.value}"

    # --- hooks ------------------------------------------------------------------------

    def _endpoint_config(self) -> sagemaker.CfnEndpointConfig:
        """The endpoint config: the variants with their models, capture, encryption."""
        production = self._production_variants()
        shadow = [self._instance_variant(variant) for variant in self.spec.shadow]
        unencrypted = self._unencrypted_volumes()
        config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=production,
            shadow_production_variants=shadow or None,
            kms_key_id=None if unencrypted else self._volume_key.key_arn,
            data_capture_config=self._data_capture(),
            async_inference_config=self._async_inference_config(),
        )
        if unencrypted:
            acknowledge_unencrypted_volumes(config, unencrypted)
        return config

    def _production_variants(self) -> list[sagemaker.CfnEndpointConfig.ProductionVariantProperty]:
        """The production variants (default: on instances)."""
        return [self._instance_variant(variant) for variant in self.spec.production_variants]

    def _async_inference_config(
        self,
    ) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty | None:
        """Where asynchronous results go (default none: a synchronous endpoint)."""
        return None

    def _unencrypted_volumes(self) -> str | None:
        """Why the endpoint config names no volume key, or ``None`` when it does: instance
        types with local NVMe storage, which SageMaker encrypts and refuses a key for."""
        variants = self.spec.production_variants + self.spec.shadow
        types = [self.spec.variant_instance_type(variant) for variant in variants]
        local_storage = sorted({t for t in types if has_local_storage(t)})
        if not local_storage:
            return None
        return (
            f"{', '.join(local_storage)} has local NVMe storage, encrypted by the"
            " instance's hardware module; SageMaker rejects a KmsKeyId for it."
        )

    def _in_vpc(self) -> bool:
        """Whether the models run in the VPC (default yes)."""
        return True

    def _routing_type(self) -> str:
        """The blue/green traffic routing (default the spec's strategy)."""
        return self.spec.deployment.strategy

    def _deployment_config(self) -> sagemaker.CfnEndpoint.DeploymentConfigProperty | None:
        """How an update rolls out: rolling, or blue/green with the routing of
        :meth:`_routing_type`, rolled back when the rollback alarms fire."""
        deployment: DeploymentSpec = self.spec.deployment
        alarms = self._rollback_alarms
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
        strategy = self._routing_type()
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

    # --- shared parts -------------------------------------------------------------------

    def _model_for(self, variant: VariantSpec) -> str:
        """The name of the :class:`ServedModel` serving ``variant``'s package (made once per
        package and LMI settings)."""
        package = self._packages[variant.name]
        instance_type = self.spec.variant_instance_type(variant)
        llm = self._llm
        environment = lmi_environment(instance_type=instance_type, settings=llm) if llm else {}
        key = package.key
        if key in self.models and self.models[key].environment != environment:
            key += f"Tp{environment['OPTION_TENSOR_PARALLEL_DEGREE']}"
        if key not in self.models:
            in_vpc = self._in_vpc()
            self.models[key] = ServedModel(
                self,
                "Model" + key,
                package_arn=package.package_arn,
                role=self._role,
                image=self._image,
                provider=self._provider,
                environment=environment,
                subnets=self._subnets if in_vpc else (),
                security_groups=[self._security_group] if in_vpc else (),
                network_isolation=self.spec.network_isolation,
            )
        served = self.models[key]
        if package.acknowledge_template_value:
            acknowledge_release_record_arn(served)
        return served.model_name

    def _instance_variant(
        self, variant: VariantSpec
    ) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        """A variant on instances, with LMI's timeouts when the image is LMI's."""
        timeouts = lmi_variant_timeouts(self._llm) if self._llm else None
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=variant.name,
            model_name=self._model_for(variant),
            initial_instance_count=variant.instance_count,
            instance_type=self.spec.variant_instance_type(variant),
            initial_variant_weight=variant.weight,
            container_startup_health_check_timeout_in_seconds=(
                timeouts.container_startup_health_check_seconds if timeouts else None
            ),
            model_data_download_timeout_in_seconds=(
                timeouts.model_data_download_seconds if timeouts else None
            ),
        )

    def _data_capture(self) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None:
        """Capture of requests and responses under ``data_capture_uri``, if given."""
        if self._data_capture_uri is None or not self.spec.captures_data:
            return None
        config = sagemaker.CfnEndpointConfig
        return config.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=self.spec.data_capture.sampling_percent,
            destination_s3_uri=self._data_capture_uri,
            kms_key_id=self._volume_key.key_arn,
            capture_options=[
                config.CaptureOptionProperty(capture_mode="Input"),
                config.CaptureOptionProperty(capture_mode="Output"),
            ],
            capture_content_type_header=config.CaptureContentTypeHeaderProperty(
                csv_content_types=["text/csv"], json_content_types=["application/json"]
            ),
        )


def acknowledge_release_record_arn(served: ServedModel) -> None:
    """Acknowledge CDK's template validation finding on a model whose package ARN is a
    release record chosen with ``Fn::If`` (:attr:`VariantPackage.acknowledge_template_value`)."""
    acknowledge(
        served.model,
        "CloudFormation-Validate::F3031",
        reason="The package ARN is a release record (an SSM parameter type) chosen"
        " with Fn::If; the validator substitutes the parameter's name (its default)"
        " in each branch, CloudFormation resolves it to the recorded ARN.",
    )


def acknowledge_unencrypted_volumes(config: sagemaker.CfnEndpointConfig, reason: str) -> None:
    """Acknowledge the packs' finding on an endpoint config without a volume key."""
    acknowledge(
        config,
        "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
        "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
        "PCI.DSS.321-SageMakerEndpointConfigurationKMSKeyConfigured",
        reason=reason,
    )

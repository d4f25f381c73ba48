"""Rules of the SageMaker API (and EventBridge) that CloudFormation's schemas do not encode.

Each rule is a small function with an id, citing in its docstring the API reference page it
comes from. A rule yields one verdict per resource it applies to: ``None`` (fine) or what is
wrong; the verdicts are the count of rules checked, the problems the findings.

Why a rule module run by the gates, not cfn-lint custom rules (``--append-rules``): the rules
need more than one template at a time. A model's image may live in the model package a
pipeline of another stack registers, a model and its endpoint config may sit in different
stacks, and a key policy in the data stack decides what the automation stack's function can
do; cfn-lint runs one template at a time, without the other stacks' outputs or the pipeline
definitions' steps. Here every resource is read through :class:`~aws_rules.resolve.Resolver`,
across the assembly.

Rules (ids):

- ``SM001`` shadow variants need exactly one production variant (and at most one shadow);
- ``SM002`` no asynchronous inference with shadow variants or serverless variants;
- ``SM003`` serverless variants: no data capture, no ``KmsKeyId``, no VPC or network
  isolation on their model, one production variant;
- ``SM004`` no ``KmsKeyId`` on instance types with local NVMe storage;
- ``SM005`` an Inferentia or Trainium variant serves a Neuron image;
- ``SM006`` a GPU variant serves an image that can use the GPU;
- ``SM007`` a variant's instance type is one its model package lists as supported;
- ``SM008`` a network-isolated container does not fetch its own code from S3;
- ``SM009`` blue/green ``ALL_AT_ONCE`` traffic routing has ``WaitIntervalInSeconds``;
- ``SM010`` whoever creates or updates an endpoint whose config names a KMS key may create
  grants on that key;
- ``EVB001`` an EventBridge rule has a target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from aws_rules.findings import CheckResult, Finding
from aws_rules.policies import Request, allowed, as_list, grants_account
from aws_rules.resolve import Resolver, ResourceAt
from aws_rules.sagemaker_requests import pipeline_definitions, pipeline_steps
from aws_rules.service_deliveries import DeliveryCheck
from platform_config.aws_facts import has_local_storage, instance_accelerator
from platform_config.serving_spec import image_runs_on

#: What a rule yields: (the resource or step it looked at, the problem or ``None``).
Verdict = tuple[str, str | None]


@dataclass(frozen=True)
class Variant:
    """A production or shadow variant of an endpoint config, with its model resolved."""

    config: ResourceAt
    properties: dict[str, Any]
    shadow: bool
    model: ResourceAt | None
    model_properties: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.properties.get("VariantName"))

    @property
    def instance_type(self) -> str | None:
        value = self.properties.get("InstanceType")
        return str(value) if value else None

    @property
    def label(self) -> str:
        return f"{self.config.label} variant {self.name}"


class Assembly:
    """What the rules look up: resolved properties, variants, images, model packages."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.deliveries = DeliveryCheck(resolver)

    def properties(self, at: ResourceAt) -> dict[str, Any]:
        return dict(self.resolver.resolve(at.stack, at.properties))

    def endpoint_configs(self) -> Iterator[tuple[ResourceAt, dict[str, Any]]]:
        for at in self.resolver.resources("AWS::SageMaker::EndpointConfig"):
            yield at, self.properties(at)

    def variants(self, config: ResourceAt, properties: dict[str, Any]) -> list[Variant]:
        found = []
        for key, shadow in (("ProductionVariants", False), ("ShadowProductionVariants", True)):
            for variant in as_list(properties.get(key)):
                model = self.resolver.origin(variant.get("ModelName"))
                model_properties = self.properties(model) if model is not None else {}
                found.append(Variant(config, variant, shadow, model, model_properties))
        return found

    @cached_property
    def registered_packages(self) -> dict[str, list[dict[str, Any]]]:
        """Model package group name -> the ``CreateModelPackage`` requests of the pipelines'
        register steps into it."""
        packages: dict[str, list[dict[str, Any]]] = {}
        for _, definition in pipeline_definitions(self.resolver):
            if isinstance(definition, Exception):
                continue
            for step in pipeline_steps(definition):
                arguments = step.get("Arguments") or {}
                group = arguments.get("ModelPackageGroupName")
                if step.get("Type") == "RegisterModel" and isinstance(group, str):
                    packages.setdefault(group, []).append(arguments)
        return packages

    def packages_of(self, variant: Variant) -> list[dict[str, Any]]:
        """The packages a variant's model serves (``ModelPackageName`` through the
        package-version custom resource of the group), when the assembly shows them."""
        containers = [variant.model_properties.get("PrimaryContainer") or {}]
        containers += as_list(variant.model_properties.get("Containers"))
        packages = []
        for container in containers:
            source = self.resolver.origin(container.get("ModelPackageName"))
            group = self.properties(source).get("ModelPackageGroupName") if source else None
            packages += self.registered_packages.get(str(group), [])
        return packages

    def images(self, variant: Variant) -> list[str]:
        """The images a variant runs: its model's containers', else its packages'."""
        containers = [variant.model_properties.get("PrimaryContainer") or {}]
        containers += as_list(variant.model_properties.get("Containers"))
        images = [str(c["Image"]) for c in containers if c.get("Image")]
        if images:
            return images
        return [
            str(container["Image"])
            for package in self.packages_of(variant)
            for container in as_list(
                (package.get("InferenceSpecification") or {}).get("Containers")
            )
            if isinstance(container.get("Image"), str)
        ]


# --- endpoint config rules -------------------------------------------------------------------


def sm001_shadow_needs_one_production_variant(assembly: Assembly) -> Iterator[Verdict]:
    """SM001. ``CreateEndpointConfig``, ``ShadowProductionVariants``: "If you use this field,
    you can only specify one variant for ProductionVariants and one variant for
    ShadowProductionVariants." (SageMaker API Reference, API_CreateEndpointConfig)."""
    for config, properties in assembly.endpoint_configs():
        shadows = as_list(properties.get("ShadowProductionVariants"))
        if not shadows:
            continue
        production = as_list(properties.get("ProductionVariants"))
        problem = None
        if len(production) != 1 or len(shadows) != 1:
            problem = (
                f"{len(production)} production and {len(shadows)} shadow variants; with shadow"
                " variants the API allows exactly one of each"
            )
        yield config.label, problem


def sm002_async_without_shadow_or_serverless(assembly: Assembly) -> Iterator[Verdict]:
    """SM002. Asynchronous inference runs on instances, one production variant, no shadow
    test: ``AsyncInferenceConfig`` is not allowed with ``ServerlessConfig`` variants or
    ``ShadowProductionVariants`` (SageMaker Developer Guide, "Asynchronous inference"; API
    Reference, API_CreateEndpointConfig and API_ProductionVariantServerlessConfig)."""
    for config, properties in assembly.endpoint_configs():
        if not properties.get("AsyncInferenceConfig"):
            continue
        problem = None
        if properties.get("ShadowProductionVariants"):
            problem = "asynchronous inference with shadow variants"
        elif any(v.get("ServerlessConfig") for v in as_list(properties.get("ProductionVariants"))):
            problem = "asynchronous inference on a serverless variant"
        yield config.label, problem


def sm003_serverless_exclusions(assembly: Assembly) -> Iterator[Verdict]:
    """SM003. Serverless endpoints do not support data capture, VPC configuration, network
    isolation or several production variants (SageMaker Developer Guide, "Deploy models with
    Amazon SageMaker Serverless Inference", feature exclusions), nor a volume ``KmsKeyId``:
    they have no instance volume (API_CreateEndpointConfig, KmsKeyId)."""
    for config, properties in assembly.endpoint_configs():
        variants = assembly.variants(config, properties)
        for variant in [v for v in variants if v.properties.get("ServerlessConfig")]:
            problems = []
            if (properties.get("DataCaptureConfig") or {}).get("EnableCapture") not in (
                None,
                False,
            ):
                problems.append("data capture")
            if properties.get("KmsKeyId"):
                problems.append("KmsKeyId")
            if variant.model_properties.get("VpcConfig"):
                problems.append("a VpcConfig on its model")
            if variant.model_properties.get("EnableNetworkIsolation") in (True, "true"):
                problems.append("network isolation on its model")
            if len(as_list(properties.get("ProductionVariants"))) > 1:
                problems.append("other production variants")
            yield variant.label, ("serverless with " + ", ".join(problems)) if problems else None


def sm004_no_volume_key_on_local_storage(assembly: Assembly) -> Iterator[Verdict]:
    """SM004. ``CreateEndpointConfig``, ``KmsKeyId``: "You can't request a KmsKeyId when
    using an instance type with local storage. If any of the models that you specify in the
    ProductionVariants parameter use nitro-based instances with local storage, do not
    specify a value for the KmsKeyId parameter." (API_CreateEndpointConfig)."""
    for config, properties in assembly.endpoint_configs():
        if not properties.get("KmsKeyId"):
            continue
        for variant in assembly.variants(config, properties):
            local = variant.instance_type is not None and has_local_storage(variant.instance_type)
            problem = f"KmsKeyId with {variant.instance_type}, which has local NVMe storage"
            yield variant.label, problem if local else None


def _image_rule(needed: str) -> Callable[[Assembly], Iterator[Verdict]]:
    def rule(assembly: Assembly) -> Iterator[Verdict]:
        for config, properties in assembly.endpoint_configs():
            for variant in assembly.variants(config, properties):
                if (
                    variant.instance_type is None
                    or instance_accelerator(variant.instance_type).value != needed
                ):
                    continue
                images = assembly.images(variant)
                if not images:
                    continue  # the image is not visible in the assembly: nothing to check
                unfit = [i for i in images if image_runs_on(i) not in (needed, None)]
                problem = f"{variant.instance_type} serves {', '.join(unfit)}, not a {needed.upper()} image"
                yield variant.label, problem if unfit else None

    return rule


def sm005_accelerators_serve_neuron_images(assembly: Assembly) -> Iterator[Verdict]:
    """SM005. Inferentia and Trainium instances run models compiled with the AWS Neuron SDK
    in a Neuron container (SageMaker Developer Guide, "Amazon EC2 Inf2 and Trn1 instances":
    use the Neuron DLCs, e.g. ``djl-inference:...-neuronx-...``)."""
    yield from _image_rule("neuron")(assembly)


def sm006_gpus_serve_gpu_images(assembly: Assembly) -> Iterator[Verdict]:
    """SM006. A GPU instance with a CPU-only image leaves the GPU idle (or fails): SageMaker's
    XGBoost and scikit-learn containers and ``-cpu`` framework images serve on CPU
    (SageMaker Developer Guide, "Docker Registry Paths and Example Code": separate CPU and
    GPU image tags)."""
    yield from _image_rule("gpu")(assembly)


def sm007_served_types_are_supported_by_the_package(assembly: Assembly) -> Iterator[Verdict]:
    """SM007. A model created from a model package serves only on the instance types the
    package lists in ``InferenceSpecification.SupportedRealtimeInferenceInstanceTypes``
    (API_InferenceSpecification; ``CreateEndpointConfig`` rejects other types)."""
    for config, properties in assembly.endpoint_configs():
        for variant in assembly.variants(config, properties):
            if variant.instance_type is None:
                continue
            for package in assembly.packages_of(variant):
                supported = (package.get("InferenceSpecification") or {}).get(
                    "SupportedRealtimeInferenceInstanceTypes"
                )
                if not isinstance(supported, list):
                    continue
                problem = (
                    f"{variant.instance_type} is not among the package's supported types"
                    f" ({', '.join(map(str, supported))})"
                )
                yield variant.label, None if variant.instance_type in supported else problem


def sm008_isolated_containers_do_not_fetch_code(assembly: Assembly) -> Iterator[Verdict]:
    """SM008. With ``EnableNetworkIsolation`` "the training container cannot make any
    outbound network calls, even to other AWS services such as Amazon S3" (API_CreateTrainingJob,
    API_CreateModel): a ``sagemaker_submit_directory`` (or ``SAGEMAKER_SUBMIT_DIRECTORY``) on
    ``s3://`` is downloaded by the container itself, so it must come in a ``code`` channel."""
    for at, definition in pipeline_definitions(assembly.resolver):
        if isinstance(definition, Exception):
            continue
        for step in pipeline_steps(definition):
            arguments = step.get("Arguments") or {}
            if (
                step.get("Type") != "Training"
                or arguments.get("EnableNetworkIsolation") is not True
            ):
                continue
            source = (arguments.get("HyperParameters") or {}).get("sagemaker_submit_directory")
            channels = {c.get("ChannelName") for c in as_list(arguments.get("InputDataConfig"))}
            fetches = (
                isinstance(source, str) and source.startswith("s3://") and "code" not in channels
            )
            label = f"{at.label} step {step.get('Name')}"
            yield (
                label,
                f"network isolation, but the container fetches {source}" if fetches else None,
            )
    for model in assembly.resolver.resources("AWS::SageMaker::Model"):
        properties = assembly.properties(model)
        if properties.get("EnableNetworkIsolation") not in (True, "true"):
            continue
        containers = [
            properties.get("PrimaryContainer") or {},
            *as_list(properties.get("Containers")),
        ]
        sources = [
            str((c.get("Environment") or {}).get("SAGEMAKER_SUBMIT_DIRECTORY", ""))
            for c in containers
        ]
        fetched = [s for s in sources if s.startswith("s3://")]
        yield (
            model.label,
            f"network isolation, but the container fetches {fetched[0]}" if fetched else None,
        )


# --- endpoint and caller rules ---------------------------------------------------------------


def sm009_all_at_once_has_a_wait_interval(assembly: Assembly) -> Iterator[Verdict]:
    """SM009. ``TrafficRoutingConfig``: ``Type`` and ``WaitIntervalInSeconds`` are both
    required, ``ALL_AT_ONCE`` included (API_TrafficRoutingConfig); CloudFormation's schema
    leaves the interval optional."""
    for endpoint in assembly.resolver.resources("AWS::SageMaker::Endpoint"):
        blue_green = (assembly.properties(endpoint).get("DeploymentConfig") or {}).get(
            "BlueGreenUpdatePolicy"
        ) or {}
        routing = blue_green.get("TrafficRoutingConfiguration")
        if routing is None:
            continue
        missing = "WaitIntervalInSeconds" not in routing
        yield (
            endpoint.label,
            f"{routing.get('Type')} traffic routing without WaitIntervalInSeconds"
            if missing
            else None,
        )


def sm010_endpoint_callers_may_grant_on_the_key(assembly: Assembly) -> Iterator[Verdict]:
    """SM010. ``CreateEndpointConfig``, ``KmsKeyId``: "The KMS key policy must grant
    permission to the IAM role that you specify in your CreateEndpoint, UpdateEndpoint
    requests": SageMaker creates a grant on the key for the endpoint's volumes with the
    caller's credentials, so a role allowed to create or update the endpoint needs
    ``kms:CreateGrant`` on the key (API_CreateEndpointConfig; AWS KMS Developer Guide,
    "Grants in AWS KMS")."""
    deliveries = assembly.deliveries
    endpoints = []
    for endpoint in assembly.resolver.resources("AWS::SageMaker::Endpoint"):
        config = assembly.resolver.origin(assembly.properties(endpoint).get("EndpointConfigName"))
        key, written = deliveries.key(config) if config is not None else (None, None)
        if written is not None:
            endpoints.append((endpoint, key, written))
    for role in assembly.resolver.resources("AWS::IAM::Role"):
        documents = deliveries.identity_policies(role)
        role_arn = deliveries.deliveries.arn(role)
        for endpoint, key, written in endpoints:
            endpoint_arn = deliveries.deliveries.arn(endpoint)
            if not any(
                allowed(documents, Request(action, endpoint_arn, principal_arn=role_arn))
                for action in ("sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint")
            ):
                continue
            label = f"{role.label} -> {endpoint.label}"
            if key is None:
                yield (
                    label,
                    f"the endpoint's key {written} is not in the assembly: its policy cannot be checked",
                )
                continue
            request = Request(
                "kms:CreateGrant",
                deliveries.deliveries.arn(key),
                principal_arn=role_arn,
                context={
                    "kms:ViaService": f"sagemaker.{key.stack.region}.amazonaws.com",
                    "kms:GrantIsForAWSResource": "true",
                },
            )
            policy = [assembly.properties(key).get("KeyPolicy")]
            ok = allowed(policy, request) or (
                grants_account(policy, request) and allowed(documents, request)
            )
            yield (
                label,
                None if ok else f"may update the endpoint but not kms:CreateGrant on {key.label}",
            )


def evb001_rules_have_targets(assembly: Assembly) -> Iterator[Verdict]:
    """EVB001. A rule without targets matches events and delivers them nowhere
    (EventBridge API Reference, PutTargets: a rule acts only through its targets); remove it
    or give it a target."""
    for rule in assembly.resolver.resources("AWS::Events::Rule"):
        targets = as_list(assembly.properties(rule).get("Targets"))
        yield rule.label, None if targets else "an EventBridge rule without a target"


#: Every rule, by id.
RULES: dict[str, Callable[[Assembly], Iterator[Verdict]]] = {
    "SM001": sm001_shadow_needs_one_production_variant,
    "SM002": sm002_async_without_shadow_or_serverless,
    "SM003": sm003_serverless_exclusions,
    "SM004": sm004_no_volume_key_on_local_storage,
    "SM005": sm005_accelerators_serve_neuron_images,
    "SM006": sm006_gpus_serve_gpu_images,
    "SM007": sm007_served_types_are_supported_by_the_package,
    "SM008": sm008_isolated_containers_do_not_fetch_code,
    "SM009": sm009_all_at_once_has_a_wait_interval,
    "SM010": sm010_endpoint_callers_may_grant_on_the_key,
    "EVB001": evb001_rules_have_targets,
}


def check(resolver: Resolver) -> CheckResult:
    """Every rule on every resource it applies to; each problem is a finding."""
    assembly = Assembly(resolver)
    checked = 0
    findings: list[Finding] = []
    for rule_id, rule in RULES.items():
        for resource, problem in rule(assembly):
            checked += 1
            if problem is not None:
                findings.append(Finding(rule_id, resource, problem))
    return CheckResult(checked, tuple(findings))

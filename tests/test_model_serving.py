"""Each model's serving (stacks/model_serving.py): one endpoint per served model, per kind and
fleet, secure and observable, in the model's own stack."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from ml_constructs.model_endpoint import ModelEndpoint, VariantPackage
from ml_constructs.real_time_endpoint import RealTimeEndpoint
from platform_config.serving_spec import EndpointKind, ServingSpec
from platform_contracts.releases import parse_package_arn
from stacks.model_serving import ModelServing
from tests.conftest import (
    SynthesizedPlatform,
    logical_id_of,
    model_template,
    resource_of,
    stack_output,
)

# Sandbox models by what they exercise (config/models.yaml).
REAL_TIME_CPU, SERVERLESS, BATCH, INF2, ASYNC_CPU = (
    "churn-prediction",
    "fraud-detection",
    "lead-scoring",
    "support-assistant",
    "claims-triage",
)
ENDPOINT_MODELS = [REAL_TIME_CPU, SERVERLESS, INF2, ASYNC_CPU]


def _serving(platform: SynthesizedPlatform, model: str) -> ModelServing:
    serving = platform.model(model).model.serving
    assert serving is not None, model
    return serving


def _template(platform: SynthesizedPlatform, model: str) -> Template:
    return platform.template(platform.model(model).model)


def _resources(platform: SynthesizedPlatform, model: str, kind: str) -> dict[str, dict[str, Any]]:
    template = model_template(platform, model)
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _endpoint_config(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    """Properties of the endpoint config the endpoint of ``model`` names."""
    endpoint = _serving(platform, model).endpoint
    assert endpoint is not None
    return resource_of(platform, endpoint.endpoint_config)["Properties"]  # type: ignore[no-any-return]


def _endpoint(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    endpoint = _serving(platform, model).endpoint
    assert endpoint is not None
    return resource_of(platform, endpoint.endpoint)["Properties"]  # type: ignore[no-any-return]


# --- Every kind ----------------------------------------------------------------------


@pytest.mark.parametrize("model", ENDPOINT_MODELS)
def test_each_served_model_has_an_endpoint_named_after_environment_and_model(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    assert _endpoint(sandbox, model)["EndpointName"] == f"ml-platform-sandbox-{model}"


@pytest.mark.parametrize("model", ENDPOINT_MODELS)
def test_each_endpoint_has_a_dashboard_and_alarms_that_roll_back_and_notify(
    platforms: dict[str, SynthesizedPlatform], model: str
) -> None:
    # dev serves every endpoint model on instance-backed hosting (the sandbox scales the
    # Inferentia2 model to zero on an inference component: test_scale_to_zero.py).
    sandbox = platforms["dev"]
    template = _template(sandbox, model)
    name = f"ml-platform-dev-{model}"
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": name})
    alarms = [
        a
        for a in _resources(sandbox, model, "AWS::CloudWatch::Alarm").values()
        if {"Name": "EndpointName", "Value": name} in a["Properties"].get("Dimensions", [])
        and a["Properties"]["MetricName"] in ("Invocation5XXErrors", "ModelLatency")
    ]
    assert {a["Properties"]["MetricName"] for a in alarms} == {
        "Invocation5XXErrors",
        "ModelLatency",
    }
    # The alarms notify the environment's alert topic, in the automation stack.
    topic = {"Ref": logical_id_of(sandbox.platform.automation.alert_topic)}
    for alarm in alarms:
        (action,) = alarm["Properties"]["AlarmActions"]
        assert stack_output(sandbox, action) == topic
    rollback = _endpoint(sandbox, model)["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(rollback) == len(alarms)


def _package_sources(platform: SynthesizedPlatform, model: str) -> set[str]:
    """What each SageMaker model of ``model`` serves: ``record`` (the release record, read as
    an SSM parameter type) or the pinned version number of the model's own group."""
    template = model_template(platform, model)
    records = {
        name
        for name, parameter in template["Parameters"].items()
        if parameter["Default"].startswith(f"/ml-platform-sandbox/releases/{model}/")
    }
    lookups = _resources(platform, model, "Custom::ModelPackage")
    sources = set()
    for resource in _resources(platform, model, "AWS::SageMaker::Model").values():
        container = resource["Properties"]["PrimaryContainer"]
        package = container.get("ModelPackageName")
        if package is None:  # an image override: the package's data, looked up at deploy time
            (lookup, _) = container["ModelDataUrl"]["Fn::GetAtt"]
            package = lookups[lookup]["Properties"]["ModelPackageArn"]
        if isinstance(package, str):
            group, version = parse_package_arn(package)
            assert group == f"ml-platform-sandbox-{model}"
            sources.add(str(version))
            continue
        text = json.dumps(package)
        referenced = {name for name in template["Parameters"] if f'"{name}"' in text}
        assert referenced and referenced <= records, (model, package)
        sources.add("record")
    return sources


@pytest.mark.parametrize(
    ("model", "sources"),
    [
        (REAL_TIME_CPU, {"record"}),
        (SERVERLESS, {"record"}),
        (BATCH, {"record"}),
        (INF2, {"record"}),
        (ASYNC_CPU, {"record"}),
    ],
)
def test_models_serve_the_release_record_or_a_pinned_version_of_the_models_group(
    sandbox: SynthesizedPlatform, model: str, sources: set[str]
) -> None:
    assert _package_sources(sandbox, model) == sources


@pytest.mark.parametrize(
    ("model", "in_vpc"),
    [(REAL_TIME_CPU, True), (BATCH, True), (INF2, True), (ASYNC_CPU, True), (SERVERLESS, False)],
)
def test_models_run_in_the_vpc_with_network_isolation_except_serverless(
    platforms: dict[str, SynthesizedPlatform], model: str, in_vpc: bool
) -> None:
    sandbox = platforms["dev"]
    serving = _serving(sandbox, model)
    if model == BATCH:
        assert serving.batch_model is not None
        served = (serving.batch_model.model,)
    else:
        assert serving.endpoint is not None
        served = tuple(serving.endpoint.models.values())
    for item in served:
        properties = resource_of(sandbox, item.model)["Properties"]
        assert ("VpcConfig" in properties) is in_vpc
        assert properties["EnableNetworkIsolation"] is in_vpc


# --- Real-time on CPU: A/B, shadow, canary, autoscaling, capture -------------------------


def test_real_time_cpu_endpoint_splits_traffic_between_ab_variants(
    sandbox: SynthesizedPlatform,
) -> None:
    config = _endpoint_config(sandbox, REAL_TIME_CPU)
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    assert {name: v["InitialVariantWeight"] for name, v in variants.items()} == {
        "champion": 9,
        "challenger": 1,
    }
    assert variants["champion"]["InstanceType"] == "ml.m5.large"
    assert variants["champion"]["ModelName"] != variants["challenger"]["ModelName"]
    # A shadow needs exactly one production variant (CreateEndpointConfig): none beside A/B.
    assert "ShadowProductionVariants" not in config
    assert "KmsKeyId" in config


def test_prod_shadow_test_has_one_production_variant_and_one_shadow(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    config = _endpoint_config(platforms["prod"], SERVERLESS)
    (production,) = config["ProductionVariants"]
    (shadow,) = config["ShadowProductionVariants"]
    assert production["ModelName"] != shadow["ModelName"]  # the candidate, beside the champion


def test_real_time_endpoint_rolls_out_by_canary_with_alarm_rollback(
    sandbox: SynthesizedPlatform,
) -> None:
    deployment = _endpoint(sandbox, REAL_TIME_CPU)["DeploymentConfig"]
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {
        "Type": "CANARY",
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        "WaitIntervalInSeconds": 600,
    }
    assert len(deployment["AutoRollbackConfiguration"]["Alarms"]) == 4


def test_real_time_variants_scale_on_invocations_per_instance(sandbox: SynthesizedPlatform) -> None:
    template = _template(sandbox, REAL_TIME_CPU)
    for variant in ("champion", "challenger"):
        template.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            {
                "ResourceId": f"endpoint/ml-platform-sandbox-{REAL_TIME_CPU}/variant/{variant}",
                "MinCapacity": 1,
                "MaxCapacity": 6,
                "RoleARN": Match.string_like_regexp(
                    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
                ),
            },
        )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "TargetValue": 200,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                    },
                }
            )
        },
    )


def test_data_capture_samples_to_the_capture_bucket_with_the_workload_key(
    sandbox: SynthesizedPlatform,
) -> None:
    capture = _endpoint_config(sandbox, REAL_TIME_CPU)["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 20
    assert capture["DestinationS3Uri"] == (
        f"s3://{sandbox.config.bucket_name('capture')}/data-capture/{REAL_TIME_CPU}"
    )
    assert "KmsKeyId" in capture
    assert [o["CaptureMode"] for o in capture["CaptureOptions"]] == ["Input", "Output"]


# --- Serverless ----------------------------------------------------------------------


def test_serverless_endpoint_has_memory_and_concurrency_and_no_capture(
    sandbox: SynthesizedPlatform,
) -> None:
    config = _endpoint_config(sandbox, SERVERLESS)
    (variant,) = config["ProductionVariants"]
    settings = next(m for m in sandbox.config.models if m.name == SERVERLESS).serving
    assert settings is not None
    expected = {
        "MemorySizeInMB": settings.serverless_settings.memory_size_mb,
        "MaxConcurrency": settings.serverless_settings.max_concurrency,
    }
    if settings.serverless_settings.provisioned_concurrency:  # off in the sandbox (idle cost)
        expected["ProvisionedConcurrency"] = settings.serverless_settings.provisioned_concurrency
    assert variant["ServerlessConfig"] == expected
    assert "InstanceType" not in variant
    assert "DataCaptureConfig" not in config and "KmsKeyId" not in config
    routing = _endpoint(sandbox, SERVERLESS)["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    # CreateEndpoint requires the wait with every type: with ALL_AT_ONCE it is the baking
    # time before the old fleet goes.
    spec = next(m for m in sandbox.config.models if m.name == SERVERLESS).serving
    assert spec is not None
    assert routing["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": spec.deployment.wait_seconds,
    }


# --- Asynchronous on GPU: notifications, dead letters, scale to zero ---------------------


def test_async_endpoint_writes_encrypted_results_and_notifies_two_topics(
    sandbox: SynthesizedPlatform,
) -> None:
    output = _endpoint_config(sandbox, ASYNC_CPU)["AsyncInferenceConfig"]["OutputConfig"]
    bucket = sandbox.config.bucket_name("capture")
    assert output["S3OutputPath"] == f"s3://{bucket}/async-inference/{ASYNC_CPU}/output"
    assert output["S3FailurePath"] == f"s3://{bucket}/async-inference/{ASYNC_CPU}/failures"
    assert "KmsKeyId" in output
    topics = {
        key
        for key, r in _resources(sandbox, ASYNC_CPU, "AWS::SNS::Topic").items()
        if r["Properties"].get("KmsMasterKeyId")
    }
    assert {
        output["NotificationConfig"]["SuccessTopic"]["Ref"],
        output["NotificationConfig"]["ErrorTopic"]["Ref"],
    } <= topics
    assert _endpoint_config(sandbox, ASYNC_CPU)["AsyncInferenceConfig"]["ClientConfig"] == {
        "MaxConcurrentInvocationsPerInstance": 4
    }


def test_async_error_topic_feeds_an_encrypted_dead_letter_queue(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _template(sandbox, ASYNC_CPU)
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "RawMessageDelivery": True,
            "TopicArn": {"Ref": "ServingNotificationsError97398D20"},
            "Endpoint": {"Fn::GetAtt": ["ServingNotificationsErrors5A68002E", "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"KmsMasterKeyId": Match.any_value(), "MessageRetentionPeriod": 14 * 24 * 3600},
    )


def test_async_endpoint_scales_to_zero_on_backlog_and_wakes_up_on_waiting_requests(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _template(sandbox, ASYNC_CPU)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ResourceId": f"endpoint/ml-platform-sandbox-{ASYNC_CPU}/variant/AllTraffic",
            "MinCapacity": 0,
            "MaxCapacity": 4,
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "TargetValue": 5,
                    "CustomizedMetricSpecification": Match.object_like(
                        {"MetricName": "ApproximateBacklogSizePerInstance"}
                    ),
                }
            )
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "StepScaling",
            "StepScalingPolicyConfiguration": Match.object_like(
                {
                    "AdjustmentType": "ChangeInCapacity",
                    "StepAdjustments": Match.array_with(
                        [Match.object_like({"ScalingAdjustment": 1})]
                    ),
                }
            ),
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "HasBacklogWithoutCapacity",
            "Dimensions": [{"Name": "EndpointName", "Value": f"ml-platform-sandbox-{ASYNC_CPU}"}],
        },
    )


def test_gpu_fleet_omits_the_volume_key_sagemaker_rejects() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="i", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    spec = ServingSpec(kind=EndpointKind.REAL_TIME, instance_type="ml.g5.xlarge")
    RealTimeEndpoint(
        stack,
        "Gpu",
        endpoint_name="gpu",
        spec=spec,
        variant_packages={
            "AllTraffic": VariantPackage(
                "Champion", "arn:aws:sagemaker:eu-west-1:111111111111:model-package/g/1"
            )
        },
        role=iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
        subnets=vpc.isolated_subnets,
        security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc),
        volume_key=kms.Key(stack, "Key"),
    )
    (config,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
    assert config["Properties"]["ProductionVariants"][0]["InstanceType"] == "ml.g5.xlarge"
    assert "KmsKeyId" not in config["Properties"]  # g5 has local NVMe storage


# --- Inferentia2 and Trainium: Neuron image, rolling updates -------------------------------


def test_inferentia2_endpoint_serves_the_neuron_image_with_a_rolling_update(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    sandbox = platforms["dev"]
    config = _endpoint_config(sandbox, INF2)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.inf2.xlarge"
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 2
    assert "KmsKeyId" in config  # inf2 has no local NVMe storage
    endpoint = _serving(sandbox, INF2).endpoint
    assert endpoint is not None
    model = resource_of(sandbox, endpoint.models["Champion"].model)["Properties"]
    assert model["PrimaryContainer"]["Image"] == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.30.0-neuronx-sdk2.20.1"
    )
    assert "ModelDataUrl" in model["PrimaryContainer"]
    rolling = _endpoint(sandbox, INF2)["DeploymentConfig"]["RollingUpdatePolicy"]
    assert rolling["MaximumBatchSize"] == {"Type": "CAPACITY_PERCENT", "Value": 50}


def test_trainium_endpoint_in_prod_rolls_and_omits_the_volume_key(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    prod = platforms["prod"]
    config = _endpoint_config(prod, INF2)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.trn1.2xlarge"
    assert "KmsKeyId" not in config  # trn1 has local NVMe storage
    assert "RollingUpdatePolicy" in _endpoint(prod, INF2)["DeploymentConfig"]
    endpoint = _serving(prod, INF2).endpoint
    assert endpoint is not None
    model = next(iter(endpoint.models.values()))
    image = resource_of(prod, model.model)["Properties"]["PrimaryContainer"]["Image"]
    assert ".us-east-1." in image


def test_prod_overrides_serverless_with_real_time_linear_rollout(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    prod = platforms["prod"]
    config = _endpoint_config(prod, SERVERLESS)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.c6i.xlarge"
    routing = _endpoint(prod, SERVERLESS)["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert routing["TrafficRoutingConfiguration"]["Type"] == "LINEAR"


# --- Batch ---------------------------------------------------------------------------


def test_batch_model_gets_no_endpoint_but_its_transform_settings(
    sandbox: SynthesizedPlatform,
) -> None:
    serving = _serving(sandbox, BATCH)
    assert serving.endpoint is None
    assert not _resources(sandbox, BATCH, "AWS::SageMaker::Endpoint")
    assert serving.batch_model is not None
    parameter = resource_of(sandbox, serving.batch_model.parameter)
    assert parameter["Properties"]["Name"] == f"/ml-platform-sandbox/serving/{BATCH}/transform"
    value = json.dumps(parameter["Properties"]["Value"])
    assert "ml.m5.xlarge" in value and "VolumeKmsKeyId" in value
    assert f"batch-transform/{BATCH}/" in value


# --- Least privilege -----------------------------------------------------------------


@pytest.mark.parametrize("model", [REAL_TIME_CPU, SERVERLESS, BATCH, INF2, ASYNC_CPU])
def test_execution_role_is_per_model_with_no_sagemaker_or_wildcard_s3_bucket_access(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    role_id = logical_id_of(_serving(sandbox, model).role.role)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(sandbox, model, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    assert policies
    statements = [s for group in policies for s in group]
    actions = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not any(a.startswith("sagemaker:") for a in actions)
    assert "s3:*" not in actions and "*" not in actions
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    for statement in writes:
        assert f"/{model}/" in json.dumps(statement["Resource"]) or model in json.dumps(
            statement["Resource"]
        )


# --- Stability -----------------------------------------------------------------------

#: Logical ids, in a model's stack, of resources whose replacement loses state or a name
#: clients use (the endpoint's name is physical: a new logical id would fail to create it).
PINNED = {
    REAL_TIME_CPU: {"ServingEndpointC149CBA2": "AWS::SageMaker::Endpoint"},
    SERVERLESS: {"ServingEndpointC149CBA2": "AWS::SageMaker::Endpoint"},
    INF2: {"ServingEndpointC149CBA2": "AWS::SageMaker::Endpoint"},
    ASYNC_CPU: {
        "ServingEndpointC149CBA2": "AWS::SageMaker::Endpoint",
        "ServingNotificationsErrors5A68002E": "AWS::SQS::Queue",
        "ServingNotificationsError97398D20": "AWS::SNS::Topic",
        "ServingNotificationsSuccess9F2A2294": "AWS::SNS::Topic",
    },
    BATCH: {"ServingTransformSettingsDFEC4AC0": "AWS::SSM::Parameter"},
}


@pytest.mark.parametrize("model", sorted(PINNED))
def test_logical_ids_of_stateful_and_named_resources_are_pinned(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    resources = model_template(sandbox, model)["Resources"]
    assert {key: resources[key]["Type"] for key in PINNED[model] if key in resources} == (
        PINNED[model]
    )


@pytest.mark.parametrize("env_name", ["sandbox", "dev", "staging", "prod"])
def test_model_stack_needs_its_registry_and_stays_far_from_the_limits(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    for model in platform.config.models:
        stacks = platform.model(model.name)
        assert stacks.registry in stacks.model.dependencies, model.name
        resources = platform.template_json(stacks.model)["Resources"]
        assert len(resources) <= 40, (model.name, len(resources))  # 35 at most today


# --- Construct guards ----------------------------------------------------------------


def test_model_endpoint_refuses_batch_and_a_missing_async_output() -> None:
    stack = cdk.Stack(
        cdk.App(), "S", env=cdk.Environment(account="111111111111", region="eu-west-1")
    )
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="i", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    package = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/g/1"
    common: dict[str, Any] = {
        "endpoint_name": "e",
        "variant_packages": {"AllTraffic": VariantPackage("V1", package)},
        "provider": lambda_.Function.from_function_arn(
            stack, "R", "arn:aws:lambda:eu-west-1:111111111111:function:r"
        ),
        "role": iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
        "subnets": vpc.isolated_subnets,
        "security_group": ec2.SecurityGroup(stack, "Sg", vpc=vpc),
        "volume_key": kms.Key(stack, "Key"),
    }
    with pytest.raises(ValueError, match="use BatchTransformModel"):
        ModelEndpoint(stack, "Batch", spec=ServingSpec(kind=EndpointKind.BATCH), **common)
    with pytest.raises(ValueError, match="RealTimeEndpoint serves real_time endpoints, not async"):
        RealTimeEndpoint(stack, "Async", spec=ServingSpec(kind=EndpointKind.ASYNC), **common)


def test_only_endpoints_that_capture_data_are_offered_to_model_monitor(
    sandbox: SynthesizedPlatform,
) -> None:
    capturing = {
        model.name
        for model in sandbox.config.models
        if model.serving is not None and _serving(sandbox, model.name).capture_uri is not None
    }
    expected = {
        model.name
        for model in sandbox.config.models
        if model.serving is not None and model.serving.captures_data
    }
    assert capturing == expected and REAL_TIME_CPU in capturing

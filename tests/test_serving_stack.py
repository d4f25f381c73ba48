"""The serving stack: one endpoint per served model, per kind and fleet, secure and observable."""

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
from stacks.serving_stack import ServingStack

from ml_constructs.model_endpoint import ModelEndpoint
from platform_config.serving_spec import EndpointKind, ServingSpec
from tests.conftest import SynthesizedPlatform

# Sandbox models by what they exercise (config/models.yaml).
REAL_TIME_CPU, SERVERLESS, BATCH, INF2, ASYNC_CPU = (
    "churn-prediction",
    "fraud-detection",
    "lead-scoring",
    "support-assistant",
    "claims-triage",
)
ENDPOINT_MODELS = [REAL_TIME_CPU, SERVERLESS, INF2, ASYNC_CPU]


def _serving(platform: SynthesizedPlatform) -> ServingStack:
    return platform.platform.serving


def _template(platform: SynthesizedPlatform) -> Template:
    return platform.template(_serving(platform))


def _resources(platform: SynthesizedPlatform, kind: str) -> dict[str, dict[str, Any]]:
    template = platform.template_json(_serving(platform))
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _endpoint_config(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    """Properties of the endpoint config the endpoint of ``model`` names."""
    stack = _serving(platform)
    endpoint = stack.endpoints[model]
    logical_id = stack.get_logical_id(endpoint.endpoint_config)
    return _resources(platform, "AWS::SageMaker::EndpointConfig")[logical_id]["Properties"]


def _endpoint(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    stack = _serving(platform)
    logical_id = stack.get_logical_id(stack.endpoints[model].endpoint)
    return _resources(platform, "AWS::SageMaker::Endpoint")[logical_id]["Properties"]


# --- Every kind ----------------------------------------------------------------------


@pytest.mark.parametrize("model", ENDPOINT_MODELS)
def test_each_served_model_has_an_endpoint_named_after_environment_and_model(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    assert _endpoint(sandbox, model)["EndpointName"] == f"ml-platform-sandbox-{model}"


@pytest.mark.parametrize("model", ENDPOINT_MODELS)
def test_each_endpoint_has_a_dashboard_and_alarms_that_roll_back_and_notify(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    template = _template(sandbox)
    name = f"ml-platform-sandbox-{model}"
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": name})
    alarms = [
        a
        for a in _resources(sandbox, "AWS::CloudWatch::Alarm").values()
        if {"Name": "EndpointName", "Value": name} in a["Properties"].get("Dimensions", [])
        and a["Properties"]["MetricName"] in ("Invocation5XXErrors", "ModelLatency")
    ]
    assert {a["Properties"]["MetricName"] for a in alarms} == {
        "Invocation5XXErrors",
        "ModelLatency",
    }
    topic = {
        "Ref": _serving(sandbox).get_logical_id(_serving(sandbox).alerts.topic.node.default_child)
    }
    assert all(a["Properties"]["AlarmActions"] == [topic] for a in alarms)
    rollback = _endpoint(sandbox, model)["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(rollback) == len(alarms)


@pytest.mark.parametrize(
    ("model", "version_keys"),
    [
        (REAL_TIME_CPU, {"latest", "1"}),
        (SERVERLESS, {"latest"}),
        (BATCH, {"latest"}),
        (INF2, {"latest"}),
        (ASYNC_CPU, {"latest"}),
    ],
)
def test_model_packages_are_resolved_at_deploy_time_from_the_models_group(
    sandbox: SynthesizedPlatform, model: str, version_keys: set[str]
) -> None:
    resolved = [
        r["Properties"]
        for r in _resources(sandbox, "Custom::ModelPackageVersion").values()
        if r["Properties"]["ModelPackageGroupName"] == f"ml-platform-sandbox-{model}"
    ]
    assert {p["ModelVersion"] for p in resolved} == version_keys


@pytest.mark.parametrize(
    ("model", "in_vpc"),
    [(REAL_TIME_CPU, True), (BATCH, True), (INF2, True), (ASYNC_CPU, True), (SERVERLESS, False)],
)
def test_models_run_in_the_vpc_with_network_isolation_except_serverless(
    sandbox: SynthesizedPlatform, model: str, in_vpc: bool
) -> None:
    stack = _serving(sandbox)
    served = (
        (stack.batch_models[model].model,)
        if model == BATCH
        else tuple(stack.endpoints[model].models.values())
    )
    models = _resources(sandbox, "AWS::SageMaker::Model")
    for item in served:
        properties = models[stack.get_logical_id(item.model)]["Properties"]
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
    assert "ShadowProductionVariants" not in config  # one production variant with a shadow
    assert "KmsKeyId" in config


def test_prod_real_time_endpoint_copies_its_one_variant_traffic_to_a_shadow(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    config = _endpoint_config(platforms["prod"], SERVERLESS)  # real-time in prod
    (production,) = config["ProductionVariants"]
    (shadow,) = config["ShadowProductionVariants"]
    assert production["InstanceType"] == "ml.c6i.xlarge"
    assert shadow["VariantName"] == "shadow" and shadow["InstanceType"] == "ml.c6i.2xlarge"


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
    template = _template(sandbox)
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
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 20,
        "ProvisionedConcurrency": 2,
    }
    assert "InstanceType" not in variant
    assert "DataCaptureConfig" not in config and "KmsKeyId" not in config
    routing = _endpoint(sandbox, SERVERLESS)["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    # The API requires the wait interval for ALL_AT_ONCE too (issue 11 defect 3).
    assert routing["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": 300,
    }


# --- Asynchronous on CPU: notifications, dead letters, scale to zero ---------------------


def test_async_endpoint_writes_encrypted_results_and_notifies_two_topics(
    sandbox: SynthesizedPlatform,
) -> None:
    stack = _serving(sandbox)
    output = _endpoint_config(sandbox, ASYNC_CPU)["AsyncInferenceConfig"]["OutputConfig"]
    bucket = sandbox.config.bucket_name("capture")
    assert output["S3OutputPath"] == f"s3://{bucket}/async-inference/{ASYNC_CPU}/output"
    assert output["S3FailurePath"] == f"s3://{bucket}/async-inference/{ASYNC_CPU}/failures"
    assert "KmsKeyId" in output
    topics = {
        key
        for key, r in _resources(sandbox, "AWS::SNS::Topic").items()
        if r["Properties"].get("KmsMasterKeyId")
    }
    assert {
        output["NotificationConfig"]["SuccessTopic"]["Ref"],
        output["NotificationConfig"]["ErrorTopic"]["Ref"],
    } <= topics
    assert _endpoint_config(sandbox, ASYNC_CPU)["AsyncInferenceConfig"]["ClientConfig"] == {
        "MaxConcurrentInvocationsPerInstance": 4
    }
    del stack


def test_async_error_topic_feeds_an_encrypted_dead_letter_queue(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _template(sandbox)
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "RawMessageDelivery": True,
            "TopicArn": {"Ref": "claimstriageNotificationsError995A5FCB"},
            "Endpoint": {"Fn::GetAtt": ["claimstriageNotificationsErrors0F0B6E49", "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"KmsMasterKeyId": Match.any_value(), "MessageRetentionPeriod": 14 * 24 * 3600},
    )


def test_async_endpoint_scales_to_zero_on_backlog_and_wakes_up_on_waiting_requests(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _template(sandbox)
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
    stack, common = _bare_endpoint_props()
    spec = ServingSpec(
        kind=EndpointKind.REAL_TIME,
        instance_type="ml.g5.xlarge",
        image_uri="763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124",
    )
    ModelEndpoint(stack, "Gpu", spec=spec, **common)
    (config,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
    assert config["Properties"]["ProductionVariants"][0]["InstanceType"] == "ml.g5.xlarge"
    assert "KmsKeyId" not in config["Properties"]


# --- Inferentia2 and Trainium: Neuron image, rolling updates -------------------------------


def test_inferentia2_endpoint_serves_the_neuron_image_with_a_rolling_update(
    sandbox: SynthesizedPlatform,
) -> None:
    config = _endpoint_config(sandbox, INF2)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.inf2.xlarge"
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 2
    assert "KmsKeyId" in config  # inf2 has no local NVMe storage
    stack = _serving(sandbox)
    model = _resources(sandbox, "AWS::SageMaker::Model")[
        stack.get_logical_id(stack.endpoints[INF2].models["latest"].model)
    ]["Properties"]
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
    model = next(iter(_serving(prod).endpoints[INF2].models.values()))
    image = _resources(prod, "AWS::SageMaker::Model")[_serving(prod).get_logical_id(model.model)][
        "Properties"
    ]["PrimaryContainer"]["Image"]
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
    assert BATCH not in _serving(sandbox).endpoints
    parameter = _resources(sandbox, "AWS::SSM::Parameter")["leadscoringTransformSettings14D6A89B"]
    assert parameter["Properties"]["Name"] == f"/ml-platform-sandbox/serving/{BATCH}/transform"
    value = json.dumps(parameter["Properties"]["Value"])
    assert "ml.m5.xlarge" in value and "VolumeKmsKeyId" in value
    assert f"batch-transform/{BATCH}/" in value


# --- Least privilege -----------------------------------------------------------------


@pytest.mark.parametrize("model", [REAL_TIME_CPU, SERVERLESS, BATCH, INF2, ASYNC_CPU])
def test_execution_role_is_per_model_with_no_sagemaker_or_wildcard_s3_bucket_access(
    sandbox: SynthesizedPlatform, model: str
) -> None:
    stack = _serving(sandbox)
    role_id = stack.get_logical_id(stack.roles[model].role.node.default_child)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(sandbox, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
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

#: Logical ids of resources whose replacement loses state or a name clients use.
PINNED = {
    "Alerts91F83244": "AWS::SNS::Topic",
    "AlertsKey9E1197AF": "AWS::KMS::Key",
    "churnpredictionEndpoint7FA0546A": "AWS::SageMaker::Endpoint",
    "frauddetectionEndpointAD334392": "AWS::SageMaker::Endpoint",
    "supportassistantEndpoint9C5DA031": "AWS::SageMaker::Endpoint",
    "claimstriageEndpoint2332303D": "AWS::SageMaker::Endpoint",
    "claimstriageNotificationsErrors0F0B6E49": "AWS::SQS::Queue",
    "claimstriageNotificationsError995A5FCB": "AWS::SNS::Topic",
    "claimstriageNotificationsSuccess27B28905": "AWS::SNS::Topic",
    "leadscoringTransformSettings14D6A89B": "AWS::SSM::Parameter",
}


def test_logical_ids_of_stateful_and_named_resources_are_pinned(
    sandbox: SynthesizedPlatform,
) -> None:
    resources = sandbox.template_json(_serving(sandbox))["Resources"]
    assert {key: resources[key]["Type"] for key in PINNED if key in resources} == PINNED


@pytest.mark.parametrize("env_name", ["sandbox", "dev", "staging", "prod"])
def test_serving_stack_needs_the_registry_and_stays_far_from_the_limits_per_model(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    stack = _serving(platform)
    assert platform.platform.registry in stack.dependencies
    resources = platform.template_json(stack)["Resources"]
    served = [m for m in platform.config.models if m.serving]
    assert len(resources) <= 12 + 22 * len(served)  # 11 shared, at most 21 per model today


# --- Construct guards ----------------------------------------------------------------


def _bare_endpoint_props() -> tuple[cdk.Stack, dict[str, Any]]:
    """A bare stack and the props a :class:`ModelEndpoint` needs besides its spec."""
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
    common: dict[str, Any] = {
        "endpoint_name": "e",
        "group_name": "g",
        "resolver": lambda_.Function.from_function_arn(
            stack, "R", "arn:aws:lambda:eu-west-1:111111111111:function:r"
        ),
        "role": iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
        "subnets": vpc.isolated_subnets,
        "security_group": ec2.SecurityGroup(stack, "Sg", vpc=vpc),
        "volume_key": kms.Key(stack, "Key"),
    }
    return stack, common


def test_model_endpoint_refuses_batch_and_a_missing_async_output() -> None:
    stack, common = _bare_endpoint_props()
    with pytest.raises(ValueError, match="use BatchTransformModel"):
        ModelEndpoint(stack, "Batch", spec=ServingSpec(kind=EndpointKind.BATCH), **common)
    with pytest.raises(ValueError, match="async_output is required"):
        ModelEndpoint(stack, "Async", spec=ServingSpec(kind=EndpointKind.ASYNC), **common)


def test_only_endpoints_that_capture_data_are_offered_to_model_monitor(
    sandbox: SynthesizedPlatform,
) -> None:
    assert _serving(sandbox).capturing_endpoints == {
        model: f"ml-platform-sandbox-{model}" for model in (REAL_TIME_CPU, INF2, ASYNC_CPU)
    }

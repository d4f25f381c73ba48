"""Scale to zero: real-time models on inference components whose endpoint keeps no instance at
idle, where the environment allows it; the sandbox's idle cost with them."""

from __future__ import annotations

from typing import Any

import pytest

from aws_rules.cloud_assembly import read_assembly
from ml_constructs.lmi_serving import lmi_variant_timeouts
from platform_config.llm_serving_spec import LlmServingSpec
from platform_config.serving_defaults import instance_sizes, scales_to_zero
from scripts.idle_cost_report import DEFAULT_PRICES, idle_cost, load_prices
from tests.conftest import SynthesizedPlatform

MODEL = "support-assistant"  # the catalogue's Inferentia2 model


def _resources(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == rtype}


def _only(template: dict[str, Any], rtype: str) -> tuple[str, dict[str, Any]]:
    found = _resources(template, rtype)
    assert len(found) == 1, f"{len(found)} {rtype}"
    return next(iter(found.items()))


def _model_template(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    return platform.template_json(platform.platform.models[model].model)


@pytest.fixture(scope="module")
def assistant(sandbox: SynthesizedPlatform) -> dict[str, Any]:
    return _model_template(sandbox, MODEL)


def test_sandbox_serves_the_inf2_model_on_an_endpoint_that_scales_to_zero_instances(
    sandbox: SynthesizedPlatform, assistant: dict[str, Any]
) -> None:
    spec = next(model for model in sandbox.config.models if model.name == MODEL).serving
    assert spec is not None and scales_to_zero(spec, sandbox.config.serving_defaults)
    _, config = _only(assistant, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["Properties"]["ProductionVariants"]
    assert "ModelName" not in variant  # the model is on the inference component
    assert variant["InstanceType"] == spec.effective_instance_type == "ml.inf2.xlarge"
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": spec.instance_count,
    }
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    role_id = config["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    assert assistant["Resources"][role_id]["Type"] == "AWS::IAM::Role"
    assert "DataCaptureConfig" not in config["Properties"]


def test_the_component_serves_the_model_of_the_release_record(assistant: dict[str, Any]) -> None:
    _, component = _only(assistant, "AWS::SageMaker::InferenceComponent")
    model_id = component["Properties"]["Specification"]["ModelName"]["Fn::GetAtt"][0]
    model = assistant["Resources"][model_id]
    # The model's data comes from the package the champion record names (image override).
    lookup_id = model["Properties"]["PrimaryContainer"]["ModelDataUrl"]["Fn::GetAtt"][0]
    package = assistant["Resources"][lookup_id]["Properties"]["ModelPackageArn"]
    parameter = assistant["Parameters"][package["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"].endswith(f"/releases/{MODEL}/champion")
    endpoint_id = component["Properties"]["EndpointName"]["Fn::GetAtt"][0]
    assert assistant["Resources"][endpoint_id]["Type"] == "AWS::SageMaker::Endpoint"
    assert component["Properties"]["RuntimeConfig"] == {"CopyCount": 1}


def test_a_copy_reserves_the_instances_neuroncores_half_its_cpus_and_memory(
    assistant: dict[str, Any],
) -> None:
    _, component = _only(assistant, "AWS::SageMaker::InferenceComponent")
    size = instance_sizes()["ml.inf2.xlarge"]
    compute = component["Properties"]["Specification"]["ComputeResourceRequirements"]
    assert compute == {
        "NumberOfAcceleratorDevicesRequired": size.accelerators,
        "NumberOfCpuCoresRequired": size.vcpus / 2,
        "MinMemoryRequiredInMb": size.memory_gib * 1024 // 2,
    }
    assert size.accelerators == 2  # one Inferentia2 chip: two NeuronCores


def test_a_release_rolls_the_copies_with_alarm_rollback(
    sandbox: SynthesizedPlatform, assistant: dict[str, Any]
) -> None:
    spec = next(model for model in sandbox.config.models if model.name == MODEL).serving
    assert spec is not None
    _, component = _only(assistant, "AWS::SageMaker::InferenceComponent")
    name = component["Properties"]["InferenceComponentName"]
    deployment = component["Properties"]["DeploymentConfig"]
    assert deployment["RollingUpdatePolicy"] == {
        "MaximumBatchSize": {
            "Type": "CAPACITY_PERCENT",
            "Value": spec.deployment.rolling_batch_percent,
        },
        "WaitIntervalInSeconds": spec.deployment.wait_seconds,
        "MaximumExecutionTimeoutInSeconds": spec.deployment.maximum_execution_timeout_seconds,
        "RollbackMaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 100},
    }
    rollback = [
        alarm["AlarmName"]["Ref"] for alarm in deployment["AutoRollbackConfiguration"]["Alarms"]
    ]
    metrics = {assistant["Resources"][alarm]["Properties"]["MetricName"] for alarm in rollback}
    assert metrics == {"Invocation5XXErrors", "ModelLatency"}
    for alarm in rollback:  # they watch the component, whose metrics carry its name
        dimensions = assistant["Resources"][alarm]["Properties"]["Dimensions"]
        assert dimensions == [{"Name": "InferenceComponentName", "Value": name}]


def test_copies_scale_to_zero_and_the_documented_alarm_wakes_them(
    assistant: dict[str, Any],
) -> None:
    _, component = _only(assistant, "AWS::SageMaker::InferenceComponent")
    name = component["Properties"]["InferenceComponentName"]
    target_id, target = _only(assistant, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["ResourceId"] == f"inference-component/{name}"
    assert (
        target["Properties"]["ScalableDimension"]
        == "sagemaker:inference-component:DesiredCopyCount"
    )
    assert target["Properties"]["MinCapacity"] == 0
    policies = _resources(assistant, "AWS::ApplicationAutoScaling::ScalingPolicy")
    by_type = {
        policy["Properties"]["PolicyType"]: (pid, policy) for pid, policy in policies.items()
    }
    assert set(by_type) == {"TargetTrackingScaling", "StepScaling"}
    tracking = by_type["TargetTrackingScaling"][1]["Properties"]
    assert tracking["ScalingTargetId"] == {"Ref": target_id}
    assert tracking["TargetTrackingScalingPolicyConfiguration"][
        "PredefinedMetricSpecification"
    ] == {"PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"}
    step_id, step = by_type["StepScaling"]
    assert step["Properties"]["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity",
        "MetricAggregationType": "Maximum",
        "Cooldown": 60,
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }
    wake = [
        alarm["Properties"]
        for alarm in _resources(assistant, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "NoCapacityInvocationFailures"
    ]
    assert wake == [
        {
            **wake[0],
            "AlarmActions": [{"Ref": step_id}],
            "Namespace": "AWS/SageMaker",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": name}],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 1,
        }
    ]


def test_serving_exists_only_once_the_champion_is_released(assistant: dict[str, Any]) -> None:
    serving_types = (
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::InferenceComponent",
        "AWS::SageMaker::Model",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::CloudWatch::Alarm",
    )
    conditions = {
        resource.get("Condition")
        for resource in assistant["Resources"].values()
        if resource["Type"] in serving_types
    }
    (condition,) = conditions
    assert condition is not None and "Released" in condition
    expression = assistant["Conditions"][condition]["Fn::Not"][0]["Fn::Equals"]
    assert "none" in expression


def test_production_and_staging_keep_warm_model_based_endpoints(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    for name in ("staging", "prod"):
        platform = platforms[name]
        assert not platform.config.serving_defaults.scale_to_zero
        for stack in platform.platform.stacks:
            assert not _resources(
                platform.template_json(stack), "AWS::SageMaker::InferenceComponent"
            )
        _, config = _only(_model_template(platform, MODEL), "AWS::SageMaker::EndpointConfig")
        (variant,) = config["Properties"]["ProductionVariants"]
        assert "ModelName" in variant and "ManagedInstanceScaling" not in variant


def test_the_environment_default_applies_only_where_sagemaker_allows_it(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    dev, sandbox = platforms["dev"], platforms["sandbox"]
    assert dev.config.serving_defaults.scale_to_zero
    # dev captures support-assistant's traffic (the catalogue's setting): it keeps instances.
    assert not _resources(_model_template(dev, MODEL), "AWS::SageMaker::InferenceComponent")
    # churn-prediction has two production variants (an A/B test): model-based everywhere.
    churn = _model_template(sandbox, "churn-prediction")
    assert not _resources(churn, "AWS::SageMaker::InferenceComponent")
    _, config = _only(churn, "AWS::SageMaker::EndpointConfig")
    assert len(config["Properties"]["ProductionVariants"]) == 2


def test_sandbox_interface_endpoints_sit_in_one_zone(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    for name, zones in (("sandbox", 1), ("dev", platforms["dev"].config.network.zone_count)):
        platform = platforms[name]
        assert platform.config.network.zone_count == 2
        network = platform.template_json(platform.platform.network)
        endpoints = [
            resource["Properties"]
            for resource in _resources(network, "AWS::EC2::VPCEndpoint").values()
            if resource["Properties"].get("VpcEndpointType") == "Interface"
        ]
        assert len(endpoints) == len(platform.config.network.interface_endpoints)
        assert {len(endpoint["SubnetIds"]) for endpoint in endpoints} == {zones}


def test_sandbox_cost_with_no_traffic_is_under_400_usd_a_month_with_the_inf2_model_served(
    sandbox: SynthesizedPlatform, assistant: dict[str, Any]
) -> None:
    prices = load_prices(DEFAULT_PRICES)
    report = idle_cost(read_assembly(sandbox.outdir), prices)
    assert report.total < 400, f"{report.total:.2f} USD/month"
    assert _resources(assistant, "AWS::SageMaker::InferenceComponent")  # still served
    assert not [line for line in report.lines if "inf2" in line.item]
    hourly = prices["regions"][sandbox.config.region]["hosting_instance_hour"]["prices"]
    scaled = [saving for saving in report.savings if "ml.inf2.xlarge" in saving.what]
    assert [round(saving.monthly, 2) for saving in scaled] == [
        round(2 * hourly["ml.inf2.xlarge"] * prices["hours_per_month"], 2)
    ]
    # Serving exists only once released; the report counts it (the released environment).
    assert sum(report.conditional.values()) > 0


def test_cost_report_shows_the_saving_of_the_zone_and_mlflow_knobs(
    sandbox: SynthesizedPlatform,
) -> None:
    prices = load_prices(DEFAULT_PRICES)
    regional = prices["regions"][sandbox.config.region]
    report = idle_cost(read_assembly(sandbox.outdir), prices)
    zones = sum(s.monthly for s in report.savings if "interface_endpoint_zones" in s.knob)
    endpoints = len(sandbox.config.network.interface_endpoints)
    per_zone = regional["interface_endpoint_az_hour"]["price"] * prices["hours_per_month"]
    assert round(zones, 2) == round(endpoints * (2 - 1) * per_zone, 2)
    (mlflow,) = [s for s in report.savings if "mlflow.kind" in s.knob]
    smallest = min(regional["mlflow_tracking_server_hour"]["prices"].values())
    app = regional["mlflow_app_hour"]["price"]
    assert round(mlflow.monthly, 2) == round((smallest - app) * prices["hours_per_month"], 2)
    assert mlflow.estimate  # the app's price is not confirmed (pricing/prices.yaml)


def test_the_lmi_model_is_sharded_over_the_neuroncores_a_copy_reserves(
    sandbox: SynthesizedPlatform, assistant: dict[str, Any]
) -> None:
    spec = next(model for model in sandbox.config.models if model.name == MODEL).serving
    assert spec is not None
    _, component = _only(assistant, "AWS::SageMaker::InferenceComponent")
    specification = component["Properties"]["Specification"]
    model = assistant["Resources"][specification["ModelName"]["Fn::GetAtt"][0]]
    environment = model["Properties"]["PrimaryContainer"]["Environment"]
    cores = specification["ComputeResourceRequirements"]["NumberOfAcceleratorDevicesRequired"]
    assert environment["OPTION_TENSOR_PARALLEL_DEGREE"] == str(cores)
    timeouts = lmi_variant_timeouts(spec.llm or LlmServingSpec())
    assert specification["StartupParameters"] == {
        "ContainerStartupHealthCheckTimeoutInSeconds": timeouts.container_startup_health_check_seconds,
        "ModelDataDownloadTimeoutInSeconds": timeouts.model_data_download_seconds,
    }

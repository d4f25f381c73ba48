"""Each model's monitoring (stacks/model_monitoring.py): Model Monitor schedules on its
endpoint, drift alarms, the baselines of the released version; failure alerts (automation)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from platform_contracts.releases import package_arn
from stacks.monitoring_images import clarify_image, model_monitor_image
from tests.conftest import (
    SynthesizedPlatform,
    deployed_resources,
    model_template,
    resources_of_type,
)

MODEL = "churn-prediction"
GROUP = f"ml-platform-sandbox-{MODEL}"


def _monitoring(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.model(MODEL).model)


def _only(template: Template, kind: str) -> dict[str, Any]:
    """The one resource of ``kind`` in the model's stack."""
    resources = template.find_resources(kind)
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))["Properties"]  # type: ignore[no-any-return]


def test_only_endpoints_that_capture_data_and_have_baselines_are_monitored(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    for platform in platforms.values():
        schedules = resources_of_type(platform, "AWS::SageMaker::MonitoringSchedule")
        endpoints = {s["Properties"]["EndpointName"] for s in schedules.values()}
        baselines = {model.name: model.pipeline.baselines for model in platform.config.models}
        capturing = {
            name: stacks.model.serving.name
            for name, stacks in platform.platform.models.items()
            if stacks.model.serving is not None and stacks.model.serving.capture_uri is not None
        }
        # A model whose pipeline registers no baseline (the fine-tuned LLM) has no monitor:
        # it would fail on every run (issue 13, docs/retraining.md).
        expected = {endpoint for name, endpoint in capturing.items() if baselines[name]}
        assert endpoints == expected, platform.config.name
        prefix = platform.config.name_prefix
        assert f"{prefix}-fraud-detection" not in endpoints or platform.config.name == "prod"
        # Each model's schedules live in its own stack, beside its endpoint.
        for key, schedule in schedules.items():
            model = schedule["Properties"]["EndpointName"].removeprefix(f"{prefix}-")
            assert key.startswith(f"{prefix}-model-{model}/"), key


@pytest.mark.parametrize(
    ("kind", "monitoring_type"),
    [
        ("AWS::SageMaker::DataQualityJobDefinition", "DataQuality"),
        ("AWS::SageMaker::ModelQualityJobDefinition", "ModelQuality"),
        ("AWS::SageMaker::ModelBiasJobDefinition", "ModelBias"),
        ("AWS::SageMaker::ModelExplainabilityJobDefinition", "ModelExplainability"),
    ],
)
def test_each_enabled_monitor_runs_in_the_vpc_with_kms_on_the_schedule(
    sandbox: SynthesizedPlatform, kind: str, monitoring_type: str
) -> None:
    """Isolated, but for explainability: Clarify runs a shadow endpoint of the model."""
    template = _monitoring(sandbox)
    definition = _only(template, kind)
    network = definition["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is (monitoring_type != "ModelExplainability")
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert len(network["VpcConfig"]["Subnets"]) == 2
    assert "WorkloadKey" in json.dumps(
        definition["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"]
    )
    output = definition[f"{monitoring_type}JobOutputConfig"]
    assert "KmsKeyId" in output
    assert output["MonitoringOutputs"][0]["S3Output"]["S3Uri"].startswith(
        "s3://mlp-sandbox-111111111111-eu-west-1-reports/monitoring/churn-prediction/"
    )
    template.has_resource_properties(
        "AWS::SageMaker::MonitoringSchedule",
        {
            "MonitoringScheduleConfig": Match.object_like(
                {
                    "MonitoringType": monitoring_type,
                    "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                }
            ),
            "EndpointName": GROUP,
        },
    )


def test_monitors_read_the_baselines_the_release_automation_publishes(
    sandbox: SynthesizedPlatform,
) -> None:
    # The baselines of the released champion, under its version: resolved as CloudFormation
    # would with the record naming version 7.
    template = model_template(sandbox, MODEL)
    released = package_arn("aws", "eu-west-1", "111111111111", GROUP, 7)
    records = {
        name: released
        for name, parameter in template["Parameters"].items()
        if parameter["Default"].startswith(f"/ml-platform-sandbox/releases/{MODEL}/")
    }
    resources = deployed_resources(template, records)

    def only(kind: str) -> dict[str, Any]:
        (found,) = [r["Properties"] for r in resources.values() if r["Type"] == kind]
        return found  # type: ignore[no-any-return]

    data = only("AWS::SageMaker::DataQualityJobDefinition")
    base = f"s3://mlp-sandbox-111111111111-eu-west-1-reports/baselines/{MODEL}/7"
    assert data["DataQualityBaselineConfig"] == {
        "ConstraintsResource": {"S3Uri": f"{base}/data-quality/constraints.json"},
        "StatisticsResource": {"S3Uri": f"{base}/data-quality/statistics.json"},
    }
    quality = only("AWS::SageMaker::ModelQualityJobDefinition")
    assert quality["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == (
        f"{base}/model-quality/constraints.json"
    )
    assert quality["ModelQualityJobInput"]["GroundTruthS3Input"] == {
        "S3Uri": "s3://mlp-labels-example/churn-prediction/"
    }
    assert quality["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"


def test_monitor_images_come_from_the_regions_aws_accounts(sandbox: SynthesizedPlatform) -> None:
    template = _monitoring(sandbox)
    data = _only(template, "AWS::SageMaker::DataQualityJobDefinition")
    assert data["DataQualityAppSpecification"]["ImageUri"] == model_monitor_image("eu-west-1")
    assert data["DataQualityAppSpecification"]["Environment"] == {
        "publish_cloudwatch_metrics": "Enabled"
    }
    explain = _only(template, "AWS::SageMaker::ModelExplainabilityJobDefinition")
    assert explain["ModelExplainabilityAppSpecification"]["ImageUri"] == clarify_image("eu-west-1")
    assert model_monitor_image("us-east-1").startswith("156813124566.dkr.ecr.us-east-1")


def test_drift_and_quality_alarms_feed_one_composite_alarm_named_for_retraining(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _monitoring(sandbox)
    for feature in ("tenure_months", "monthly_charges"):
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "MetricName": f"feature_baseline_drift_{feature}",
                "Namespace": "aws/sagemaker/Endpoints/data-metrics",
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 0.2,
                "AlarmActions": [Match.any_value()],
            },
        )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "auc",
            "Namespace": "aws/sagemaker/Endpoints/model-metrics",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 0.75,
        },
    )
    composite = _only(template, "AWS::CloudWatch::CompositeAlarm")
    assert composite["AlarmName"] == f"{GROUP}-drift"
    assert json.dumps(composite["AlarmRule"]).count("ALARM(") == 3


def test_failed_monitoring_executions_alert_the_topic(sandbox: SynthesizedPlatform) -> None:
    sandbox.template(sandbox.platform.automation).has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Processing Job State Change"],
                "detail": {
                    "ProcessingJobStatus": ["Failed"],
                    "Environment": {
                        "sagemaker_monitoring_schedule_name": [{"prefix": "ml-platform-sandbox-"}]
                    },
                },
            },
            "Targets": [Match.object_like({"Arn": Match.any_value()})],
        },
    )


def test_monitoring_role_may_read_the_ground_truth_prefix_only(
    sandbox: SynthesizedPlatform,
) -> None:
    monitoring = sandbox.model(MODEL).model.monitoring
    assert monitoring is not None
    role = sandbox.template(sandbox.model(MODEL).model).find_resources(
        "AWS::IAM::Policy",
        {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("^MonitoringRole")}]}},
    )
    assert "arn:aws:s3:::mlp-labels-example/churn-prediction/*" in json.dumps(role)
    everything = json.dumps([sandbox.template_json(s) for s in sandbox.platform.stacks])
    assert "arn:aws:s3:::mlp-labels-example/*" not in everything


def _needs(template: dict[str, Any], logical_id: str) -> set[str]:
    """Every resource ``logical_id`` waits for: its DependsOn, Ref and GetAtt, transitively."""
    resources = template["Resources"]
    found: set[str] = set()
    todo = [logical_id]
    while todo:
        resource = resources[todo.pop()]
        text = json.dumps(resource)
        direct = set(resource.get("DependsOn", []))
        direct |= {other for other in resources if f'"{other}"' in text}
        for other in direct - found:
            found.add(other)
            todo.append(other)
    return found


@pytest.mark.parametrize("env_name", ["sandbox", "prod"])
def test_monitors_are_created_after_their_endpoint(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    monitored = 0
    for model, stacks in platform.platform.models.items():
        if stacks.model.monitoring is None:
            continue
        template = platform.template_json(stacks.model)
        endpoints = [
            k for k, r in template["Resources"].items() if r["Type"] == "AWS::SageMaker::Endpoint"
        ]
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::SageMaker::MonitoringSchedule":
                monitored += 1
                assert set(endpoints) <= _needs(template, logical_id), (model, logical_id)
    assert monitored

"""The monitoring stack: Model Monitor schedules, drift alarms, failure alerts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stacks.monitoring_images import clarify_image, model_monitor_image
from tests.conftest import SynthesizedPlatform

GROUP = "ml-platform-sandbox-churn-prediction"


def _monitoring(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.monitoring)


def _only(template: Template, kind: str, model: str = "churnprediction") -> dict[str, Any]:
    """The one resource of ``kind`` built for ``model`` (by its construct's logical id)."""
    resources = {k: v for k, v in template.find_resources(kind).items() if k.startswith(model)}
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))["Properties"]  # type: ignore[no-any-return]


def test_only_endpoints_that_capture_data_are_monitored(sandbox: SynthesizedPlatform) -> None:
    schedules = _monitoring(sandbox).find_resources("AWS::SageMaker::MonitoringSchedule")
    endpoints = {s["Properties"]["EndpointName"] for s in schedules.values()}
    assert endpoints == set(sandbox.platform.serving.capturing_endpoints.values())
    assert "ml-platform-sandbox-fraud-detection" not in endpoints  # serverless: no capture


@pytest.mark.parametrize(
    ("kind", "monitoring_type"),
    [
        ("AWS::SageMaker::DataQualityJobDefinition", "DataQuality"),
        ("AWS::SageMaker::ModelQualityJobDefinition", "ModelQuality"),
        ("AWS::SageMaker::ModelExplainabilityJobDefinition", "ModelExplainability"),
    ],
)
def test_each_enabled_monitor_runs_isolated_in_the_vpc_with_kms_on_the_schedule(
    sandbox: SynthesizedPlatform, kind: str, monitoring_type: str
) -> None:
    template = _monitoring(sandbox)
    definition = _only(template, kind)
    network = definition["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
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


def test_monitors_read_the_baselines_the_deployment_function_publishes(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _monitoring(sandbox)
    data = _only(template, "AWS::SageMaker::DataQualityJobDefinition")
    base = f"s3://mlp-sandbox-111111111111-eu-west-1-reports/baselines/{GROUP}"
    assert data["DataQualityBaselineConfig"] == {
        "ConstraintsResource": {"S3Uri": f"{base}/data-quality/constraints.json"},
        "StatisticsResource": {"S3Uri": f"{base}/data-quality/statistics.json"},
    }
    quality = _only(template, "AWS::SageMaker::ModelQualityJobDefinition")
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
    _monitoring(sandbox).has_resource_properties(
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
    workspace = json.dumps(sandbox.template_json(sandbox.platform.workspace))
    assert "arn:aws:s3:::mlp-labels-example/churn-prediction/*" in workspace
    assert "arn:aws:s3:::mlp-labels-example/*" not in workspace


def test_monitoring_stack_deploys_after_the_endpoints(sandbox: SynthesizedPlatform) -> None:
    assert sandbox.platform.serving in sandbox.platform.monitoring.dependencies

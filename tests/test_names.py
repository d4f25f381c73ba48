"""The naming object: it reproduces every physical name of each environment's templates, and
each kind's limits are the API's."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.loaders import create_loader
from botocore.model import ServiceModel

from platform_config import load_environment
from platform_config.aws_rules import DESCRIPTION_LIMITS
from platform_config.names import (
    NAME_RULES,
    BucketKind,
    MonitorKind,
    NameKind,
    delivery_names,
    derived_names,
)
from tests.conftest import ENVIRONMENTS, SynthesizedPlatform

#: Resource type -> (property holding a physical name, its kind).
NAME_PROPERTIES = {
    "AWS::S3::Bucket": [("BucketName", NameKind.BUCKET)],
    "AWS::KMS::Alias": [("AliasName", NameKind.KEY_ALIAS)],
    "AWS::SNS::Topic": [("TopicName", NameKind.TOPIC)],
    "AWS::SageMaker::Domain": [("DomainName", NameKind.DOMAIN)],
    "AWS::SageMaker::MlflowTrackingServer": [("TrackingServerName", NameKind.MLFLOW_SERVER)],
    "AWS::SageMaker::MlflowApp": [("Name", NameKind.MLFLOW_APP)],
    "AWS::SageMaker::StudioLifecycleConfig": [
        ("StudioLifecycleConfigName", NameKind.STUDIO_LIFECYCLE_CONFIG)
    ],
    "AWS::SageMaker::UserProfile": [("UserProfileName", NameKind.USER_PROFILE)],
    "AWS::SageMaker::Space": [
        ("SpaceName", NameKind.SPACE),
        ("SpaceDisplayName", NameKind.SPACE_DISPLAY_NAME),
    ],
    "AWS::SageMaker::Endpoint": [("EndpointName", NameKind.ENDPOINT)],
    "AWS::SageMaker::InferenceComponent": [
        ("InferenceComponentName", NameKind.INFERENCE_COMPONENT)
    ],
    "AWS::CloudWatch::Dashboard": [("DashboardName", NameKind.DASHBOARD)],
    "AWS::SageMaker::Pipeline": [("PipelineName", NameKind.PIPELINE)],
    "AWS::SageMaker::ModelPackageGroup": [("ModelPackageGroupName", NameKind.MODEL_PACKAGE_GROUP)],
    "AWS::SageMaker::MonitoringSchedule": [
        ("MonitoringScheduleName", NameKind.MONITORING_SCHEDULE)
    ],
    "AWS::CloudWatch::CompositeAlarm": [("AlarmName", NameKind.ALARM)],
    "AWS::CloudWatch::Alarm": [("AlarmName", NameKind.ALARM)],
    "AWS::SSM::Parameter": [("Name", NameKind.PARAMETER)],
    "AWS::SageMaker::FeatureGroup": [("FeatureGroupName", NameKind.FEATURE_GROUP)],
    "AWS::Lambda::Function": [("FunctionName", NameKind.FUNCTION)],
    "AWS::IAM::ManagedPolicy": [("ManagedPolicyName", NameKind.MANAGED_POLICY)],
    # The release records: SSM parameters the release record's custom resource creates.
    "Custom::ReleaseRecord": [("ParameterName", NameKind.PARAMETER)],
}
#: The metrics of drift alarms, named after the features (the others are SageMaker's).
_DRIFT_METRIC = "feature_baseline_drift_"


def _template_names(platform: SynthesizedPlatform) -> set[tuple[NameKind, str]]:
    """Every literal physical name of an environment's templates and stacks, with its kind."""
    found = {(NameKind.STACK, stack.stack_name) for stack in platform.platform.stacks}
    for stack in platform.platform.stacks:
        resources: dict[str, Any] = platform.template_json(stack)["Resources"]
        for resource in resources.values():
            properties = resource.get("Properties", {})
            for prop, kind in NAME_PROPERTIES.get(resource["Type"], []):
                if isinstance(properties.get(prop), str):
                    found.add((kind, properties[prop]))
            metric = properties.get("MetricName")
            if isinstance(metric, str) and metric.startswith(_DRIFT_METRIC):
                found.add((NameKind.METRIC, metric))
    return found


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_naming_object_reproduces_every_physical_name_of_the_templates(
    platforms: dict[str, SynthesizedPlatform], environment: str
) -> None:
    platform = platforms[environment]
    from_templates = _template_names(platform)
    from_config = {(kind, name) for _, _, kind, name in derived_names(platform.config)}
    assert from_templates - from_config == set(), "named in a template, not by config.names"
    assert from_config - from_templates == set(), "named by config.names, absent from templates"
    assert len(from_templates) > 40


def test_names_of_the_sandbox_read_as_today() -> None:
    names = load_environment("sandbox").names
    assert names.endpoint("churn-prediction") == "ml-platform-sandbox-churn-prediction"
    assert names.bucket(BucketKind.ARTIFACTS) == "mlp-sandbox-111111111111-eu-west-1-artifacts"
    assert names.stack("serving") == "ml-platform-sandbox-serving"
    assert (
        names.monitoring_schedule("churn-prediction", MonitorKind.MODEL_QUALITY)
        == "ml-platform-sandbox-churn-prediction-model-quality"
    )
    assert names.alarm("churn-prediction", "drift") == "ml-platform-sandbox-churn-prediction-drift"
    assert names.feature_group("customer-activity") == "ml-platform-sandbox-customer-activity"
    assert names.release_function() == "ml-platform-sandbox-release-automation"
    assert (
        delivery_names("999999999999", "eu-west-1").bucket(BucketKind.ACCESS_LOGS)
        == "mlp-delivery-999999999999-eu-west-1-access-logs"
    )


def _botocore_limits(source: str) -> dict[str, Any]:
    """``botocore:<service>:<Input shape>.<member>`` -> the member's min, max and pattern."""
    _, service, shape_member = source.split(":")
    shape, member = shape_member.split(".")
    model = ServiceModel(create_loader().load_service_model(service, "service-2"), service)
    metadata = model.shape_for(shape).members[member].metadata  # type: ignore[attr-defined]
    return dict(metadata)


@pytest.mark.parametrize("kind", list(NameKind), ids=[kind.value for kind in NameKind])
def test_each_name_rule_is_the_apis_own_where_botocore_has_it(kind: NameKind) -> None:
    rule = NAME_RULES[kind]
    assert rule.source.startswith(("botocore:", "docs:")), rule.source
    if rule.source.startswith("botocore:"):
        limits = _botocore_limits(rule.source)
        assert limits["max"] == rule.max_length
        if "pattern" in limits:
            assert limits["pattern"].strip("^$") == rule.pattern


@pytest.mark.parametrize(
    "limit", [limit for limits in DESCRIPTION_LIMITS.values() for limit in limits]
)
def test_each_description_limit_is_the_apis_own(limit: Any) -> None:
    assert _botocore_limits(limit.source)["max"] == limit.max_length

"""The workspace stack: a VPC-only Studio domain, its role, users, spaces and MLflow."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from ml_constructs import StudioDomain
from platform_config import AuthMode, StudioConfig, UserProfileSpec
from stacks.workspace_stack import LIFECYCLE_SCRIPT
from tests.conftest import SynthesizedPlatform


def _workspace(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.workspace)


def _one(template: Template, kind: str) -> dict[str, Any]:
    resources = template.find_resources(kind)
    assert len(resources) == 1, f"expected one {kind}, got {list(resources)}"
    return next(iter(resources.values()))["Properties"]  # type: ignore[no-any-return]


def test_domain_is_vpc_only_on_the_private_subnets_with_the_workload_key(
    sandbox: SynthesizedPlatform,
) -> None:
    domain = _one(_workspace(sandbox), "AWS::SageMaker::Domain")
    assert domain["DomainName"] == "ml-platform-sandbox"
    assert domain["AppNetworkAccessType"] == "VpcOnly"
    assert domain["AuthMode"] == "IAM"
    assert len(domain["SubnetIds"]) == 2
    assert "WorkloadKey" in json.dumps(domain["KmsKeyId"])
    assert "WorkloadSecurityGroup" in json.dumps(domain["DefaultUserSettings"]["SecurityGroups"])


def test_domain_has_the_environments_removal_policy(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    for env_name, expected in (("sandbox", "Delete"), ("prod", "Retain")):
        domain = _workspace(platforms[env_name]).find_resources("AWS::SageMaker::Domain")
        assert next(iter(domain.values()))["DeletionPolicy"] == expected


def test_domain_logical_id_is_pinned(sandbox: SynthesizedPlatform) -> None:
    assert set(_workspace(sandbox).find_resources("AWS::SageMaker::Domain")) == {"Studio"}
    # The sandbox's MLflow is an app (mlflow.kind: app); a tracking server would be "Mlflow" too.
    assert set(_workspace(sandbox).find_resources("AWS::SageMaker::MlflowApp")) == {"Mlflow"}


def test_idle_apps_shut_down_after_the_configured_timeout(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    staging = platforms["staging"]
    settings = _one(_workspace(staging), "AWS::SageMaker::Domain")["DefaultUserSettings"]
    for app in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        idle = settings[app]["AppLifecycleManagement"]["IdleSettings"]
        assert idle == {
            "LifecycleManagement": "ENABLED",
            "IdleTimeoutInMinutes": 120,
            "MinIdleTimeoutInMinutes": 60,
            "MaxIdleTimeoutInMinutes": 120,
        }


def test_lifecycle_configuration_is_attached_to_every_app_and_filled_at_deploy_time(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _workspace(sandbox)
    configs = template.find_resources("AWS::SageMaker::StudioLifecycleConfig")
    assert {c["Properties"]["StudioLifecycleConfigAppType"] for c in configs.values()} == {
        "JupyterLab",
        "CodeEditor",
    }
    for config in configs.values():
        content = config["Properties"]["StudioLifecycleConfigContent"]
        script, variables = content["Fn::Base64"]["Fn::Sub"]
        assert script == LIFECYCLE_SCRIPT.read_text()
        assert set(re.findall(r"\$\{(\w+)\}", script)) == set(variables)
    settings = _one(template, "AWS::SageMaker::Domain")["DefaultUserSettings"]
    jupyter = settings["JupyterLabAppSettings"]
    assert jupyter["DefaultResourceSpec"]["LifecycleConfigArn"] == jupyter["LifecycleConfigArns"][0]


def test_lifecycle_script_is_valid_bash() -> None:
    result = subprocess.run(
        ["bash", "-n", str(LIFECYCLE_SCRIPT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_user_profiles_and_shared_spaces_come_from_config(sandbox: SynthesizedPlatform) -> None:
    template = _workspace(sandbox)
    profiles = template.find_resources("AWS::SageMaker::UserProfile")
    assert sorted(p["Properties"]["UserProfileName"] for p in profiles.values()) == [
        "data-scientist",
        "ml-engineer",
    ]
    spaces = template.find_resources("AWS::SageMaker::Space")
    editor = next(s for s in spaces.values() if s["Properties"]["SpaceName"] == "team-code-editor")
    assert editor["Properties"]["SpaceSharingSettings"] == {"SharingType": "Shared"}
    assert editor["Properties"]["OwnershipSettings"] == {"OwnerUserProfileName": "ml-engineer"}
    settings = editor["Properties"]["SpaceSettings"]
    assert settings["AppType"] == "CodeEditor"
    assert settings["SpaceStorageSettings"] == {"EbsStorageSettings": {"EbsVolumeSizeInGb": 20}}
    assert "StudioUserMlEngineer2D0505E6" in editor["DependsOn"]


def test_execution_role_has_no_managed_full_access(sandbox: SynthesizedPlatform) -> None:
    template = _workspace(sandbox)
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
        statement = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if "ExecutionRole" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_execution_role_uses_only_this_environments_pipelines_and_package_groups(
    sandbox: SynthesizedPlatform,
) -> None:
    statements = {s.get("Sid"): s for s in _statements(_workspace(sandbox))}
    assert all(
        "ml-platform-sandbox-*" in json.dumps(r)
        for r in statements["UsePlatformPipelines"]["Resource"]
    )
    assert all(
        "ml-platform-sandbox-" in json.dumps(r)
        for r in statements["RegisterModelPackages"]["Resource"]
    )


def test_execution_role_cannot_approve_its_own_models(sandbox: SynthesizedPlatform) -> None:
    actions = json.dumps([s["Action"] for s in _statements(_workspace(sandbox))])
    assert "sagemaker:UpdateModelPackage" not in actions
    assert '"sagemaker:*"' not in actions and '"s3:*"' not in actions


def test_execution_role_passes_only_itself_and_only_to_sagemaker(
    sandbox: SynthesizedPlatform,
) -> None:
    passes = [s for s in _statements(_workspace(sandbox)) if s["Action"] == "iam:PassRole"]
    assert len(passes) == 1
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert "ExecutionRole" in json.dumps(passes[0]["Resource"])


def test_execution_role_reaches_the_platform_buckets_by_name(sandbox: SynthesizedPlatform) -> None:
    text = json.dumps(_statements(_workspace(sandbox)))
    for kind in ("datasets", "artifacts", "code", "capture", "reports"):
        assert f"mlp-sandbox-111111111111-eu-west-1-{kind}" in text, kind
    assert "access-logs" not in text


def test_mlflow_server_stores_artifacts_in_the_artifact_bucket(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    server = _one(_workspace(platforms["prod"]), "AWS::SageMaker::MlflowTrackingServer")
    assert server["ArtifactStoreUri"] == "s3://mlp-prod-444444444444-us-east-1-artifacts/mlflow"
    assert server["TrackingServerSize"] == "Medium"
    assert server["AutomaticModelRegistration"] is True
    assert server["TrackingServerName"] == "ml-platform-prod"


def test_execution_role_may_use_the_tracking_server(sandbox: SynthesizedPlatform) -> None:
    mlflow = [s for s in _statements(_workspace(sandbox)) if "sagemaker-mlflow:*" in s["Action"]]
    assert mlflow and mlflow[0]["Resource"] == {"Fn::GetAtt": ["Mlflow", "Arn"]}  # the app


def _bare_domain(settings: StudioConfig) -> Template:
    app = cdk.App()
    stack = cdk.Stack(app, "Bare", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="i", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    StudioDomain(
        stack,
        "Studio",
        domain_name="bare",
        settings=settings,
        vpc=vpc,
        subnets=vpc.isolated_subnets,
        security_group=ec2.SecurityGroup(stack, "Group", vpc=vpc),
        key=kms.Key(stack, "Key"),
        execution_role=iam.Role(
            stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
        ),
        lifecycle_script="#!/bin/bash\necho ${Greeting}\n",
        lifecycle_variables={"Greeting": "hello"},
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return Template.from_stack(stack)


def test_identity_center_mode_links_profiles_to_sso_users() -> None:
    template = _bare_domain(
        StudioConfig(
            auth_mode=AuthMode.SSO,
            user_profiles=(UserProfileSpec(name="ana", sso_user_name="ana@example.com"),),
        )
    )
    template.has_resource_properties("AWS::SageMaker::Domain", {"AuthMode": "SSO"})
    template.has_resource_properties(
        "AWS::SageMaker::UserProfile",
        {"SingleSignOnUserIdentifier": "UserName", "SingleSignOnUserValue": "ana@example.com"},
    )


def test_idle_shutdown_can_be_switched_off() -> None:
    template = _bare_domain(StudioConfig(idle_shutdown=False))
    template.has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "DefaultUserSettings": {
                "JupyterLabAppSettings": Match.object_like(
                    {
                        "AppLifecycleManagement": {
                            "IdleSettings": {"LifecycleManagement": "DISABLED"}
                        }
                    }
                )
            }
        },
    )


def test_oversized_lifecycle_script_is_refused_with_the_limit() -> None:
    with pytest.raises(ValueError, match="must stay under 16384"):
        StudioDomain(
            cdk.Stack(cdk.App(), "S"),
            "Studio",
            domain_name="x",
            settings=StudioConfig(),
            vpc=None,
            subnets=[None],
            security_group=None,
            key=None,  # type: ignore[arg-type]
            execution_role=None,
            lifecycle_script="x" * 13000,  # type: ignore[arg-type]
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )


def test_without_mlflow_no_server_is_created_and_studio_gets_no_tracking_uri(
    sandbox: SynthesizedPlatform, tmp_path: Any
) -> None:
    from platform_config import MlflowConfig
    from stacks import build_platform
    from tests.conftest import cdk_context

    config = sandbox.config.model_copy(update={"mlflow": MlflowConfig(enabled=False)})
    app = cdk.App(
        context=cdk_context(), outdir=str(tmp_path), builtin_cloud_formation_validation=False
    )
    platform = build_platform(app, config)
    template = Template.from_stack(platform.workspace)
    template.resource_count_is("AWS::SageMaker::MlflowTrackingServer", 0)
    config_resource = next(
        iter(template.find_resources("AWS::SageMaker::StudioLifecycleConfig").values())
    )
    _, variables = config_resource["Properties"]["StudioLifecycleConfigContent"]["Fn::Base64"][
        "Fn::Sub"
    ]
    assert variables["MlflowTrackingUri"] == ""

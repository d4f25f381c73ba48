"""MLflow of an environment: a tracking server or a serverless app, found from one place."""

from __future__ import annotations

import json
from typing import Any

from platform_config import load_environment
from stacks.mlflow_resource import mlflow_arn_parameter_name, mlflow_resource_arn
from tests.conftest import SynthesizedPlatform


def _of_type(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == rtype}


def _arn_parameter(template: dict[str, Any], name: str) -> dict[str, Any]:
    (parameter,) = [
        r["Properties"]
        for r in _of_type(template, "AWS::SSM::Parameter").values()
        if r["Properties"].get("Name") == name
    ]
    return parameter


def test_sandbox_runs_a_serverless_mlflow_app_and_no_tracking_server(
    sandbox: SynthesizedPlatform,
) -> None:
    assert sandbox.config.mlflow.kind == "app"
    workspace = sandbox.template_json(sandbox.platform.workspace)
    assert not _of_type(workspace, "AWS::SageMaker::MlflowTrackingServer")
    ((app_id, app),) = _of_type(workspace, "AWS::SageMaker::MlflowApp").items()
    props = app["Properties"]
    assert props["ModelRegistrationMode"] == "AutoModelRegistrationEnabled"
    role = workspace["Resources"][props["RoleArn"]["Fn::GetAtt"][0]]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }
    arn = {"Fn::GetAtt": [app_id, "Arn"]}
    # The one place the ARN is published, and the Studio lifecycle's tracking URI.
    parameter = _arn_parameter(workspace, mlflow_arn_parameter_name(sandbox.config))
    assert parameter["Value"] == arn
    lifecycles = _of_type(workspace, "AWS::SageMaker::StudioLifecycleConfig").values()
    assert lifecycles
    for lifecycle in lifecycles:
        content = lifecycle["Properties"]["StudioLifecycleConfigContent"]
        assert content["Fn::Base64"]["Fn::Sub"][1]["MlflowTrackingUri"] == arn
    # Users may use it: the execution role's policy names the app's actions on its ARN.
    policies = json.dumps(_of_type(workspace, "AWS::IAM::Policy"))
    assert "sagemaker:CreatePresignedMlflowAppUrl" in policies


def test_other_environments_keep_their_tracking_server(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    prod = platforms["prod"]
    workspace = prod.template_json(prod.platform.workspace)
    ((server_id, server),) = _of_type(workspace, "AWS::SageMaker::MlflowTrackingServer").items()
    assert server["Properties"]["TrackingServerSize"] == prod.config.mlflow.size == "Medium"
    assert not _of_type(workspace, "AWS::SageMaker::MlflowApp")
    parameter = _arn_parameter(workspace, mlflow_arn_parameter_name(prod.config))
    assert parameter["Value"] == {"Fn::GetAtt": [server_id, "TrackingServerArn"]}
    # A tracking server's ARN follows from its name: stacks embed it with no reference.
    name = server["Properties"]["TrackingServerName"]
    assert mlflow_resource_arn(prod.config) == (
        f"arn:aws:sagemaker:{prod.config.region}:{prod.config.account}:mlflow-tracking-server/{name}"
    )


def test_an_apps_arn_is_a_deploy_time_reference_to_the_parameter() -> None:
    config = load_environment("sandbox")
    assert mlflow_resource_arn(config) == "{{resolve:ssm:/ml-platform-sandbox/mlflow/arn}}"


def test_pipelines_track_executions_in_the_mlflow_of_their_environment(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    for name in ("sandbox", "prod"):
        platform = platforms[name]
        expected = mlflow_resource_arn(platform.config)
        assert expected is not None
        for model_name, stacks in platform.platform.models.items():
            model = platform.template_json(stacks.model)
            (pipeline,) = [
                p
                for p in _of_type(model, "AWS::SageMaker::Pipeline").values()
                if p["Properties"]["PipelineName"] == platform.config.names.pipeline(model_name)
            ]
            # The definition is embedded as text (Fn::Join of literal parts and tokens).
            body = json.dumps(pipeline["Properties"]["PipelineDefinition"])
            assert f'\\"MlflowResourceArn\\": \\"{expected}\\"' in body, stacks.model.stack_name
            depends = {dep.stack_name for dep in stacks.model.dependencies}
            assert (platform.platform.workspace.stack_name in depends) == (name == "sandbox")

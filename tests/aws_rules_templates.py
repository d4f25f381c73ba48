"""Small templates written for the tests of ``aws_rules``: one resource set per case."""

from __future__ import annotations

import json
from typing import Any

from aws_rules.cloud_assembly import StackTemplate

ACCOUNT = "111111111111"
REGION = "eu-west-1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def stack(
    resources: dict[str, dict[str, Any]],
    *,
    name: str = "test-stack",
    outputs: dict[str, dict[str, Any]] | None = None,
    parameters: dict[str, dict[str, Any]] | None = None,
    conditions: dict[str, Any] | None = None,
) -> StackTemplate:
    """A synthesized stack of ``resources``, as the assembly reader returns one."""
    return StackTemplate(
        display_name=f"Test/{name}",
        stack_name=name,
        region=REGION,
        resources=resources,
        outputs=outputs or {},
        template_bytes=0,
        acknowledgements=(),
        account=ACCOUNT,
        parameters=parameters or {},
        conditions=conditions or {},
    )


def resource(type_: str, **properties: Any) -> dict[str, Any]:
    return {"Type": type_, "Properties": properties}


def key(*statements: dict[str, Any]) -> dict[str, Any]:
    """A KMS key whose policy delegates to IAM, plus ``statements``."""
    root = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
    return resource(
        "AWS::KMS::Key", KeyPolicy={"Version": "2012-10-17", "Statement": [root, *statements]}
    )


def service_may_use_key(service: str, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    return statement


def role(*statements: dict[str, Any], service: str = "sagemaker.amazonaws.com") -> dict[str, Any]:
    """A role with one inline policy of ``statements``."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    policies = [{"PolicyName": "p", "PolicyDocument": {"Statement": list(statements)}}]
    return resource(
        "AWS::IAM::Role", AssumeRolePolicyDocument=trust, Policies=policies if statements else []
    )


def allow(actions: str | list[str], resources: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def model(
    *, image: str | None = None, package_of: str | None = None, **properties: Any
) -> dict[str, Any]:
    """A SageMaker model of ``image``, or of the latest package of a group's custom resource."""
    container: dict[str, Any] = (
        {"Image": image, "ModelDataUrl": "s3://bucket/model.tar.gz"}
        if image
        else {"ModelPackageName": {"Fn::GetAtt": [package_of, "ModelPackageArn"]}}
    )
    return resource(
        "AWS::SageMaker::Model",
        ExecutionRoleArn={"Fn::GetAtt": ["Role", "Arn"]},
        PrimaryContainer=container,
        **properties,
    )


def variant(name: str, instance_type: str = "ml.m5.large", model_id: str = "Model") -> dict:
    return {
        "VariantName": name,
        "ModelName": {"Fn::GetAtt": [model_id, "ModelName"]},
        "InstanceType": instance_type,
        "InitialInstanceCount": 1,
        "InitialVariantWeight": 1,
    }


XGBOOST = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
NEURON = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.29.0-neuronx-sdk2.19.1"
GPU = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124"


def pipeline(*steps: dict[str, Any], role_id: str = "Role") -> dict[str, Any]:
    """A pipeline whose definition is written as CDK writes it: a ``Fn::Join`` of text and
    tokens (the role ARN here)."""
    head = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": list(steps)})
    pieces = head.split('"ROLE-TOKEN"')
    parts: list[Any] = [pieces[0]]
    for piece in pieces[1:]:
        parts += ['"', {"Fn::GetAtt": [role_id, "Arn"]}, '"' + piece]
    return resource(
        "AWS::SageMaker::Pipeline",
        PipelineName="p",
        RoleArn={"Fn::GetAtt": [role_id, "Arn"]},
        PipelineDefinition={"PipelineDefinitionBody": {"Fn::Join": ["", parts]}},
    )


def training_step(name: str = "Train", **arguments: Any) -> dict[str, Any]:
    """A training step of a pipeline definition (``"ROLE-TOKEN"`` stands for the role)."""
    base: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": XGBOOST, "TrainingInputMode": "File"},
        "RoleArn": "ROLE-TOKEN",
        "OutputDataConfig": {
            "S3OutputPath": {
                "Std:Join": {
                    "On": "/",
                    "Values": ["s3://b", {"Get": "Execution.PipelineExecutionId"}],
                }
            }
        },
        "ResourceConfig": {
            "InstanceType": {"Get": "Parameters.TrainingInstanceType"},
            "InstanceCount": {"Get": "Parameters.InstanceCount"},
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    return {"Name": name, "Type": "Training", "Arguments": {**base, **arguments}}

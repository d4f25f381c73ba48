"""What the construct tests share: a bare stack in a fixed account and region, the
resources a construct is given (VPC, key, role, function placement, code), the construct's
own part of the template, and the normaliser of templates for snapshots.

Each construct of ``ml_constructs`` is built alone on a bare ``cdk.Stack`` with minimal
props (``tests/constructs/test_<construct>.py``), as construct libraries test theirs;
the environment-wide tests (``tests/test_*.py``) check how the stacks wire them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from constructs import IConstruct

from ml_constructs.model_endpoint import VariantPackage
from ml_constructs.model_monitor import MonitorJobSettings
from ml_constructs.platform_function import FunctionPlacement
from platform_config.names import ResourceNames

ACCOUNT = "111111111111"
REGION = "eu-west-1"
#: The naming object of the bare stacks' "environment".
NAMES = ResourceNames("test", ACCOUNT, REGION)
#: A handler folder for constructs that take a function's code.
FUNCTION_CODE = Path(__file__).resolve().parent / "function_code"
#: A versioned model package ARN of the bare stacks' account.
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/test-model/1"

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
#: The version of the step scripts (``pipelines/steps/<16 hex>``), a digest of their content.
_STEP_CODE_HASH = re.compile(r"(pipelines/steps/)[0-9a-f]{16}\b")
#: cdk-assets' destination ids in CDK Pipelines' publish commands end in a hash of the
#: asset's destination, which moves with the asset's content (``<account>-<region>-<hash>``).
_DESTINATION_HASH = re.compile(r"(<asset-hash>:\d{12}-[a-z0-9-]+?-)[0-9a-f]{8}\b")


def normalised(template: dict[str, Any]) -> dict[str, Any]:
    """The template with content hashes replaced (assets, the step scripts' version), so
    that a snapshot shows intent, not the bytes of the code it ships."""
    text = _ASSET_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True))
    text = _STEP_CODE_HASH.sub(r"\1<step-code-hash>", text)
    text = _DESTINATION_HASH.sub(r"\1<destination-hash>", text)
    return json.loads(text)  # type: ignore[no-any-return]


def bare_stack() -> cdk.Stack:
    """An empty stack of its own app, in :data:`ACCOUNT` and :data:`REGION`.

    CDK's template validation is off (it costs seconds a synth); the real synth runs it.
    """
    app = cdk.App(builtin_cloud_formation_validation=False)
    return cdk.Stack(app, "Bare", env=cdk.Environment(account=ACCOUNT, region=REGION))


def isolated_vpc(stack: cdk.Stack) -> ec2.Vpc:
    """A VPC of two isolated subnets (the platform's jobs and endpoints have no route out)."""
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )


def security_group(stack: cdk.Stack, vpc: ec2.IVpc) -> ec2.SecurityGroup:
    return ec2.SecurityGroup(stack, "SecurityGroup", vpc=vpc, allow_all_outbound=False)


def key(stack: cdk.Stack, key_id: str = "Key") -> kms.Key:
    return kms.Key(stack, key_id, enable_key_rotation=True)


def sagemaker_role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def provider(stack: cdk.Stack) -> lambda_.IFunction:
    """The deploy-time provider, imported by ARN."""
    return lambda_.Function.from_function_arn(
        stack, "Provider", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:provider"
    )


def function_placement(stack: cdk.Stack) -> FunctionPlacement:
    """Where a platform function runs: the VPC, a group, a key for data and one for logs."""
    vpc = isolated_vpc(stack)
    return FunctionPlacement(
        vpc=vpc,
        subnets=vpc.isolated_subnets,
        security_group=security_group(stack, vpc),
        key=key(stack),
        logs_key=key(stack, "LogsKey"),
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def template(stack: cdk.Stack) -> Template:
    return Template.from_stack(stack)


def resources(stack: cdk.Stack, kind: str) -> list[dict[str, Any]]:
    """The properties of every resource of type ``kind``."""
    found = template(stack).find_resources(kind)
    return [resource.get("Properties", {}) for resource in found.values()]


def construct_template(construct: IConstruct) -> dict[str, Any]:
    """The part of its stack's template ``construct`` makes (the resources, parameters,
    conditions and outputs under its path), normalised: what its snapshot holds."""
    stack = cdk.Stack.of(construct)
    prefix = re.sub(r"[^A-Za-z0-9]", "", construct.node.path.split("/", 1)[1])
    full = template(stack).to_json()
    own = {
        section: {key: value for key, value in full[section].items() if key.startswith(prefix)}
        for section in ("Parameters", "Conditions", "Resources", "Outputs")
        if section in full
    }
    return normalised({section: items for section, items in own.items() if items})


def serving_props(stack: cdk.Stack) -> dict[str, Any]:
    """What a serving construct is given: ``role``, ``subnets``, ``security_group`` and
    ``volume_key``."""
    vpc = isolated_vpc(stack)
    return {
        "role": sagemaker_role(stack),
        "subnets": vpc.isolated_subnets,
        "security_group": security_group(stack, vpc),
        "volume_key": key(stack),
    }


def champion(variant: str = "AllTraffic") -> dict[str, VariantPackage]:
    """The released champion's package for one variant."""
    return {variant: VariantPackage("Champion", PACKAGE_ARN)}


#: The monitored endpoint, where its reports go and its released baselines are.
MONITORED_ENDPOINT = "ml-platform-test-churn"
MONITOR_REPORTS = "s3://test-reports/monitoring/churn"
MONITOR_BASELINE = "s3://test-reports/baselines/churn/3"


def monitor_props(stack: cdk.Stack, kind: str) -> dict[str, Any]:
    """Every prop of a ``ModelMonitor`` but the type's own, for the monitor ``kind``."""
    return {
        "endpoint_name": MONITORED_ENDPOINT,
        "schedule_name": f"{MONITORED_ENDPOINT}-{kind}",
        "schedule_expression": "cron(0 * ? * * *)",
        "image_uri": "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer",
        "baseline_uri": f"{MONITOR_BASELINE}/{kind}",
        "settings": MonitorJobSettings(
            role=sagemaker_role(stack),
            subnet_ids=["subnet-0123456789abcdef0"],
            security_group_ids=["sg-0123456789abcdef0"],
            key=key(stack),
            reports_uri=MONITOR_REPORTS,
        ),
    }

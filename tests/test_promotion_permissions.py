"""A version walks from dev's approval to prod's endpoint with the permissions the templates
grant, and only those (issue 12).

The walk (``tests/promotion_walk.py``) runs the release automation's own code in moto for
dev, staging and prod, each set up from its synthesized templates; every AWS call it makes
is recorded as the role it runs as and decided against the templates' identity and
resource policies (``tests/template_access.py``): a template that stops granting what the
release flow does fails here, and so does a call this test does not know how to authorize.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from moto import mock_aws

from aws_rules.cloud_assembly import StackTemplate
from aws_rules.resolve import Resolver
from tests.conftest import SynthesizedPlatform
from tests.promotion_walk import RELEASE_AUTOMATION, PromotionWalk
from tests.recorded_calls import CallAccesses, CallRecorder
from tests.template_access import (
    Access,
    AccessModel,
    EnvironmentAccess,
    Principal,
    environment_access,
)

MODEL = "churn-prediction"  # two slots (champion and candidate), a canary endpoint
WALK = ("dev", "staging", "prod")
APPROVERS_POLICY = "/Registry/ApproversPolicy/Resource"


def version_of(arn: str) -> int:
    return int(arn.rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def access(platforms: dict[str, SynthesizedPlatform]) -> AccessModel:
    return AccessModel({name: environment_access(name, platforms[name].outdir) for name in WALK})


def approver(platform: SynthesizedPlatform, env: EnvironmentAccess) -> Principal:
    """The environment's approver (``model_registry.approvers``) with the approvers' policy."""
    (arn,) = platform.config.model_registry.approvers
    (policy,) = [
        doc for path, (_, doc) in env.managed_policies.items() if path.endswith(APPROVERS_POLICY)
    ]
    return Principal(arn, f"{env.name}'s approver (config)", (policy,))


@pytest.fixture(scope="module")
def walk(access: AccessModel, platforms: dict[str, SynthesizedPlatform]) -> Iterator[PromotionWalk]:
    """dev: trained, approved, released; staging and prod: imported, approved, released."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_LAMBDA_FUNCTION_NAME": "release-automation",
        }.items():
            patch.setenv(name, value)
        approvers = {name: approver(platforms[name], access.environments[name]) for name in WALK}
        walk = PromotionWalk(access, CallRecorder(), model_name=MODEL, approvers=approvers)
        for name in WALK:
            walk.deploy(name)
        arn = walk.train_and_register("dev")
        walk.approve("dev", arn)
        for name in WALK[1:]:
            arn = walk.import_version(name, version_of(arn))["model_package_arn"]
            walk.approve(name, arn)
        yield walk


def released(walk: PromotionWalk, name: str) -> str:
    (result,) = [r for r in walk.environments[name].results if r.get("outcome") == "released"]
    return str(result["model_package_arn"])


def test_the_version_reaches_prod_through_staging(walk: PromotionWalk) -> None:
    outcomes = {
        name: [r["outcome"] for r in env.results] for name, env in walk.environments.items()
    }
    assert outcomes == {
        "dev": ["released"],
        "staging": ["imported", "released"],
        "prod": ["imported", "released"],
    }
    for name, env in walk.environments.items():
        arn = released(walk, name)
        assert arn.startswith(f"arn:aws:sagemaker:{env.access.region}:{env.access.account}:")
        assert env.record("champion") == env.record("candidate") == arn
    for name, previous in zip(WALK[1:], WALK[:-1], strict=True):
        (imported,) = [r for r in walk.environments[name].results if r["outcome"] == "imported"]
        assert imported["source_package_arn"] == released(walk, previous)
        assert imported["model_package_arn"] == released(walk, name)


def test_every_call_of_the_walk_is_allowed_by_the_templates(
    walk: PromotionWalk, access: AccessModel
) -> None:
    accesses = CallAccesses(access, walk.object_key)
    refused: list[str] = []
    checked: set[tuple[str, str, str]] = set()  # (caller's environment, action, owner's)
    for call in walk.recorder.calls:
        caller = access.owner(call.principal.arn)
        for request in accesses(call):
            decision = access.decide(call.principal, request)
            owner = access.owner(request.resource)
            checked.add(
                (caller.name if caller else "?", request.action, owner.name if owner else "?")
            )
            if decision.allowed is not True:
                refused.append(f"{call}: {request}: {decision}")
    assert not refused, "\n".join(refused)
    for name, previous in (("staging", "dev"), ("prod", "staging")):
        assert {
            (name, "sagemaker:DescribeModelPackage", previous),
            (name, "s3:GetObject", previous),
            (name, "kms:Decrypt", previous),
            (name, "s3:PutObject", name),
            (name, "kms:GenerateDataKey", name),
            (name, "sagemaker:CreateModelPackage", name),
            (name, "sagemaker:UpdateModelPackage", name),
            (name, "ssm:PutParameter", name),
            (name, "cloudformation:UpdateStack", name),
            (name, "iam:PassRole", name),
            (name, "ssm:GetParameters", name),
        } <= checked, sorted(checked)
    assert len(walk.recorder.calls) >= 60


def model_data(walk: PromotionWalk, name: str) -> tuple[str, str]:
    """(bucket, key) of the model data of the version released in ``name``."""
    env = walk.environments[name]
    sagemaker = env.admin.client("sagemaker")
    package = sagemaker.describe_model_package(ModelPackageName=released(walk, name))
    uri = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    bucket, key = str(uri).removeprefix("s3://").split("/", 1)
    return bucket, key


def test_prod_may_not_read_dev_packages_which_name_only_staging_as_reader(
    walk: PromotionWalk, access: AccessModel
) -> None:
    describe = Access("sagemaker:DescribeModelPackage", released(walk, "dev"))
    staging, prod = (access.environments[name].principal(RELEASE_AUTOMATION) for name in WALK[1:])
    assert access.decide(staging, describe).allowed is True
    refused = access.decide(prod, describe)
    assert (refused.allowed, refused.resource) == (False, False), refused
    others = [p for name in WALK[2:] for p in access.environments[name].principals.values()]
    assert others and not any(access.decide(p, describe).resource is not False for p in others)


def test_in_staging_only_the_release_automation_may_read_dev_artifacts(
    walk: PromotionWalk, access: AccessModel
) -> None:
    bucket, key = model_data(walk, "dev")
    reading = CallAccesses(access, walk.object_key).reading
    decisions = {
        principal.label: [
            access.decide(principal, r).allowed for r in reading(bucket, key, principal)
        ]
        for principal in access.environments["staging"].principals.values()
    }
    assert len(decisions) >= 15
    assert not [label for label, d in decisions.items() if None in d], decisions
    readers = {label for label, d in decisions.items() if all(d)}
    assert readers == {access.environments["staging"].principal(RELEASE_AUTOMATION).label}


def served_packages(
    env: EnvironmentAccess, stack: StackTemplate, values: dict[str, str]
) -> tuple[bool, dict[str, str]]:
    """(the endpoint's condition, variant -> model package) of the model stack's template,
    with its parameters set to ``values`` (what CloudFormation resolved)."""
    parameters = {key: {"Type": "String", "Default": values[key]} for key in stack.parameters}
    given = dataclasses.replace(stack, parameters=parameters)
    resolver = Resolver([given if s is stack else s for s in env.resolver.stacks])
    (endpoint,) = [r for r in given.resources.values() if r["Type"] == "AWS::SageMaker::Endpoint"]
    condition = bool(resolver.resolve(given, given.conditions[endpoint["Condition"]]))
    properties = resolver.resolve(given, endpoint["Properties"])
    config = resolver.origin(properties["EndpointConfigName"])
    assert config is not None and config.resource.get("Condition") == endpoint["Condition"]
    variants = resolver.resolve(given, config.properties)
    packages = {}
    for variant in variants["ProductionVariants"] + variants.get("ShadowProductionVariants", []):
        model = resolver.origin(variant["ModelName"])
        assert model is not None and model.resource.get("Condition") == endpoint["Condition"]
        container = resolver.resolve(given, model.properties)["PrimaryContainer"]
        packages[variant["VariantName"]] = container["ModelPackageName"]
    return condition, packages


@pytest.mark.parametrize("name", WALK)
def test_the_model_stack_serves_the_released_package_once_its_record_names_it(
    walk: PromotionWalk, name: str
) -> None:
    env = walk.environments[name]
    stack = env.access.stacks[env.model_stack]
    assert env.cloudformation is not None
    update = env.cloudformation.stacks[env.model_stack]
    assert update.pending is not None  # UpdateStack resolved the records anew
    resolved = {key: update.pending[key] for key in stack.parameters}
    arn = released(walk, name)

    served, packages = served_packages(env.access, stack, resolved)

    assert served is True
    assert packages == {"champion": arn, "challenger": arn}  # the first release fills both
    unreleased = {
        key: "none" if "/releases/" in str(p["Default"]) else resolved[key]
        for key, p in stack.parameters.items()
    }
    assert served_packages(env.access, stack, unreleased)[0] is False


@pytest.mark.parametrize("name", WALK)
def test_the_endpoint_models_role_may_read_the_released_model_data(
    walk: PromotionWalk, access: AccessModel, name: str
) -> None:
    env = walk.environments[name]
    models = [
        props
        for stack, _, props in env.access.resources("AWS::SageMaker::Model")
        if stack.stack_name == env.model_stack
    ]
    (role,) = {model["ExecutionRoleArn"] for model in models}
    principal = env.access.principals[role]
    requests = CallAccesses(access, walk.object_key).reading(*model_data(walk, name), principal)
    assert [r.action for r in requests] == ["s3:GetObject", "kms:Decrypt"]
    for request in requests:
        decision = access.decide(principal, request)
        assert decision.allowed is True, f"{principal.label}: {request}: {decision}"

"""Every role of every environment has one duty, and its policies keep it to that duty (issue 14).

Each role the templates define (and each role outside them that a template gives a policy:
the CDK bootstrap's deploy role) is classified by its construct path; a role no duty
describes fails the first test, so a new role must be classified here. Each boundary is then
asked of every role with the IAM evaluator (``tests/template_access.py``), against the
templates' identity and resource policies, and compared with the duties that may cross it:

- approving or rejecting a package (``UpdateModelPackage`` with ``ModelApprovalStatus``):
  no role of the platform; only a person with the approvers' policy, and, where the
  environment names approvers, the groups' policies deny everyone else;
- registering a package: only as ``PendingManualApproval``, only by the model's pipeline,
  Studio users and (where it imports) the release automation;
- writing model artifacts, released baselines and release records; passing roles; updating
  stacks.

A role of the CDK bootstrap is known here only by the policy a template attaches to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from platform_config.names import BucketKind
from tests.conftest import ENVIRONMENTS, SynthesizedPlatform
from tests.template_access import (
    Access,
    AccessModel,
    EnvironmentAccess,
    Principal,
    environment_access,
)

#: Duty -> construct path (end) of its roles; ``model`` names the model of a per-model role.
DUTIES = {
    "studio-users": r"/Workspace/ExecutionRole/Default/Resource",
    "mlflow": r"/Workspace/Mlflow/Role/Resource",
    "pipeline-jobs": r"/Models/(?P<model>[^/]+)/Model/Pipelines/Role/Default/Resource",
    "pipeline-schedule": r"/Models/(?P<model>[^/]+)/Model/Pipelines/\w+/ScheduleRole/Resource",
    "endpoint-models": r"/Models/(?P<model>[^/]+)/Model/Serving/Role/Default/Resource",
    "monitoring-jobs": r"/Models/(?P<model>[^/]+)/Model/Monitoring/Role/Default/Resource",
    "release-automation": r"/Automation/ReleaseAutomation/Default/ServiceRole/Resource",
    "retraining-trigger": r"/Automation/RetrainingTrigger/Default/ServiceRole/Resource",
    "deploy-time-provider": r"/Automation/PackageResolver/Function/Default/ServiceRole/Resource",
    "cdk-bucket-deployment": r"/Custom::CDKBucketDeployment[0-9A-F]+/ServiceRole/Resource",
    "cdk-custom-resource-provider": r"/Custom::\w+CustomResourceProvider/Role",
    "vpc-flow-logs": r"/Network/Network/Vpc/FlowLog/IAMRole/Resource",
    "feature-store-offline-store": r"/Registry/FeatureStore/OfflineStoreRole/Resource",
    "cdk-deploy-role": r"/Automation/DeployRoleReadsReleaseRecords/Resource",
}
#: Services a role could be passed to, asked of every ``iam:PassRole`` grant.
SERVICES = (
    "sagemaker.amazonaws.com",
    "cloudformation.amazonaws.com",
    "lambda.amazonaws.com",
    "events.amazonaws.com",
    "scheduler.amazonaws.com",
    "states.amazonaws.com",
    "ec2.amazonaws.com",
)


@dataclass(frozen=True)
class Role:
    """A principal of an environment and its duty (``pipeline-jobs[churn-prediction]``)."""

    principal: Principal
    duty: str
    model: str | None

    @property
    def name(self) -> str:
        return f"{self.duty}[{self.model}]" if self.model else self.duty


def classify(principal: Principal) -> Role | None:
    for duty, pattern in DUTIES.items():
        match = re.search(pattern + "$", principal.label)
        if match:
            return Role(principal, duty, match.groupdict().get("model"))
    return None


@dataclass(frozen=True)
class Environment:
    platform: SynthesizedPlatform
    access: EnvironmentAccess
    roles: tuple[Role, ...]

    @property
    def prefix(self) -> str:
        return self.platform.config.name_prefix

    @property
    def models(self) -> list[str]:
        return [model.name for model in self.platform.config.models]

    def bucket(self, kind: BucketKind) -> str:
        name = self.platform.config.names.bucket(kind)
        assert name in self.access.buckets, name
        return name


@pytest.fixture(scope="module")
def environments(platforms: dict[str, SynthesizedPlatform]) -> dict[str, Environment]:
    found = {}
    for name in ENVIRONMENTS:
        access = environment_access(name, platforms[name].outdir)
        roles = tuple(r for r in map(classify, access.principals.values()) if r is not None)
        found[name] = Environment(platforms[name], access, roles)
    return found


@pytest.fixture(scope="module")
def model(environments: dict[str, Environment]) -> AccessModel:
    return AccessModel({name: env.access for name, env in environments.items()})


def who_may(model: AccessModel, env: Environment, *requests: Access) -> set[str]:
    """The roles of ``env`` allowed every one of ``requests`` (a role the evaluator cannot
    decide fails, naming the request)."""
    allowed, undecided = set(), []
    for role in env.roles:
        decisions = [model.decide(role.principal, request) for request in requests]
        if any(d.allowed is None for d in decisions):
            undecided.append(
                f"{role.name}: {list(map(str, requests))}: {list(map(str, decisions))}"
            )
        elif all(d.allowed for d in decisions):
            allowed.add(role.name)
    assert not undecided, "\n".join(undecided)
    return allowed


def of_duty(env: Environment, *duties: str) -> set[str]:
    return {role.name for role in env.roles if role.duty in duties}


def groups(env: Environment) -> Iterable[tuple[str, str]]:
    """(model, its package group's name) from the templates."""
    for _, _, props in env.access.resources("AWS::SageMaker::ModelPackageGroup"):
        name = str(props["ModelPackageGroupName"])
        yield name.removeprefix(f"{env.prefix}-"), name


# --- the roles -----------------------------------------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_role_of_every_environment_has_a_duty(
    environments: dict[str, Environment], env_name: str
) -> None:
    env = environments[env_name]
    unclassified = sorted(p.label for p in env.access.principals.values() if classify(p) is None)
    assert not unclassified, f"classify these roles in DUTIES: {unclassified}"
    names = {role.name for role in env.roles}
    for model in env.platform.config.models:
        assert f"pipeline-jobs[{model.name}]" in names
        assert (f"endpoint-models[{model.name}]" in names) is (model.serving is not None)
    assert len(env.roles) == len(env.access.principals) >= 15


def test_every_duty_has_a_role_somewhere(environments: dict[str, Environment]) -> None:
    found = {role.duty for env in environments.values() for role in env.roles}
    assert found == set(DUTIES)


# --- approvals and registrations ---------------------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
@pytest.mark.parametrize("status", ["Approved", "Rejected"])
def test_no_role_of_the_platform_may_approve_or_reject_a_package(
    environments: dict[str, Environment], model: AccessModel, env_name: str, status: str
) -> None:
    env = environments[env_name]
    for _, group in groups(env):
        update = Access(
            "sagemaker:UpdateModelPackage",
            env.access.package_arn(group, 1),
            {"sagemaker:ModelApprovalStatus": status},
        )
        assert who_may(model, env, update) == set(), group


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_only_the_named_approvers_may_approve_with_the_approvers_policy(
    environments: dict[str, Environment], model: AccessModel, env_name: str
) -> None:
    env = environments[env_name]
    ((policy_arn, policy),) = [
        value
        for path, value in env.access.managed_policies.items()
        if path.endswith("/Registry/ApproversPolicy/Resource")
    ]
    assert policy_arn == f"arn:aws:iam::{env.access.account}:policy/{env.prefix}-model-approvers"
    named = list(env.platform.config.model_registry.approvers)
    someone = f"arn:aws:iam::{env.access.account}:role/someone-with-the-approvers-policy"
    for _, group in groups(env):
        approve = Access(
            "sagemaker:UpdateModelPackage",
            env.access.package_arn(group, 7),
            {"sagemaker:ModelApprovalStatus": "Approved"},
        )
        for approver in named:
            assert model.decide(Principal(approver, "approver", (policy,)), approve).allowed
        other = model.decide(Principal(someone, "someone", (policy,)), approve)
        # Named approvers: the group's policy denies everyone else; none: the policy decides.
        assert (other.allowed, other.denied) == ((False, True) if named else (True, False))


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_packages_are_registered_only_pending_and_only_by_their_producers(
    environments: dict[str, Environment], model: AccessModel, env_name: str
) -> None:
    env = environments[env_name]
    importer = {"release-automation"} if env.platform.config.model_registry.promote_from else set()
    for model_name, group in groups(env):

        def create(status: str, group: str = group) -> list[Access]:
            context = {"sagemaker:ModelApprovalStatus": status}
            return [
                Access("sagemaker:CreateModelPackage", arn, context)
                for arn in (env.access.package_arn(group, 9), env.access.group_arn(group))
            ]

        assert who_may(model, env, *create("Approved")) == set(), group
        pending = who_may(model, env, *create("PendingManualApproval"))
        assert pending == {f"pipeline-jobs[{model_name}]", "studio-users", *importer}, group


# --- what is written where ----------------------------------------------------------------


def s3_object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_model_artifacts_are_written_only_by_the_jobs_and_imports_that_produce_them(
    environments: dict[str, Environment], model: AccessModel, env_name: str
) -> None:
    env = environments[env_name]
    artifacts = env.bucket(BucketKind.ARTIFACTS)
    pipelines = of_duty(env, "pipeline-jobs")
    importer = {"release-automation"} if env.platform.config.model_registry.promote_from else set()
    mlflow = of_duty(env, "mlflow", "studio-users")
    for model_name in env.models:
        keys = {
            # key -> (may put, may delete)
            f"{env.prefix}-{model_name}/run/training/job/output/model.tar.gz": (
                pipelines,
                pipelines,
            ),
            f"{model_name}/imported/ml-platform-x/v3/ModelDataUrl/model.tar.gz": (
                pipelines | importer,
                pipelines,
            ),
            f"mlflow/1/{model_name}/artifacts/model.pkl": (pipelines | mlflow, pipelines | mlflow),
        }
        for key, (put, delete) in keys.items():
            resource = s3_object(artifacts, key)
            assert who_may(model, env, Access("s3:PutObject", resource)) == put, key
            assert who_may(model, env, Access("s3:DeleteObject", resource)) == delete, key


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_released_baselines_are_written_only_by_the_release_automation(
    environments: dict[str, Environment], model: AccessModel, env_name: str
) -> None:
    env = environments[env_name]
    reports = env.bucket(BucketKind.REPORTS)
    for model_name in env.models:
        baseline = s3_object(reports, f"baselines/{model_name}/3/data-quality/constraints.json")
        assert who_may(model, env, Access("s3:PutObject", baseline)) == {"release-automation"}
        assert who_may(model, env, Access("s3:DeleteObject", baseline)) == set()


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_release_records_are_written_by_the_release_automation_and_created_by_the_provider(
    environments: dict[str, Environment], model: AccessModel, env_name: str
) -> None:
    env = environments[env_name]
    records = [
        str(props["ParameterName"]) for _, _, props in env.access.resources("Custom::ReleaseRecord")
    ]
    assert len(records) >= len(env.models)
    for record in records:
        arn = f"arn:aws:ssm:{env.access.region}:{env.access.account}:parameter{record}"

        def put(overwrite: str, arn: str = arn) -> Access:
            return Access("ssm:PutParameter", arn, {"ssm:Overwrite": overwrite})

        assert who_may(model, env, put("true")) == {"release-automation"}, record
        assert who_may(model, env, put("false")) == {
            "release-automation",
            "deploy-time-provider",
        }, record
        assert who_may(model, env, Access("ssm:DeleteParameter", arn)) == set(), record
        readers = who_may(model, env, Access("ssm:GetParameters", arn))
        assert {"release-automation", "cdk-deploy-role"} <= readers, record


# --- roles passed and stacks updated ------------------------------------------------------


def cloudformation_execution_role(env: Environment) -> str:
    """The role the release automation passes to CloudFormation (its template's setting)."""
    (function,) = [
        props
        for _, _, props in env.access.resources("AWS::Lambda::Function")
        if props.get("Handler") == "release_automation.lambda_handler"
    ]
    return str(function["Environment"]["Variables"]["CLOUDFORMATION_ROLE_ARN"])


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_each_role_may_pass_only_the_role_its_duty_hands_to_a_service(
    environments: dict[str, Environment], model: AccessModel, env_name: str
) -> None:
    env = environments[env_name]
    targets = {role.principal.arn: role.name for role in env.roles}
    targets[cloudformation_execution_role(env)] = "cdk-cfn-exec-role"
    passes = set()
    for arn, target in targets.items():
        for service in SERVICES:
            request = Access("iam:PassRole", arn, {"iam:PassedToService": service})
            passes |= {(name, target, service) for name in who_may(model, env, request)}
    itself = {
        (role.name, role.name, "sagemaker.amazonaws.com")
        for role in env.roles
        if role.duty in ("studio-users", "pipeline-jobs", "monitoring-jobs")
    }
    release = ("release-automation", "cdk-cfn-exec-role", "cloudformation.amazonaws.com")
    assert passes == itself | {release}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_only_the_release_automation_updates_stacks_and_only_the_model_stacks(
    environments: dict[str, Environment], model: AccessModel, env_name: str
) -> None:
    env = environments[env_name]
    model_stacks = [name for name in env.access.stacks if name.startswith(f"{env.prefix}-model-")]
    assert len(model_stacks) == len(env.models) < len(env.access.stacks)
    for stack in env.access.stacks:
        arn = (
            f"arn:aws:cloudformation:{env.access.region}:{env.access.account}:stack/{stack}/"
            "6f0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
        )
        expected = {"release-automation"} if stack.startswith(f"{env.prefix}-model-") else set()
        assert who_may(model, env, Access("cloudformation:UpdateStack", arn)) == expected, stack

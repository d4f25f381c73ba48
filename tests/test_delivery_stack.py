"""The delivery pipeline (config/delivery.yaml, stacks/delivery_stack.py) and its quality gates.

The delivery app synthesizes every stage it deploys: it is built once per session.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint_file
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from aws_rules.cloud_assembly import read_assembly
from ml_constructs.compliance import RULE_PACKS
from platform_config import ConfigError, available_environments
from platform_config.delivery import DeliveryConfig, load_delivery
from platform_config.loader import DEFAULT_CONFIG_DIR
from stacks.delivery_stack import SYNTH_COMMANDS, DeliveryStack, build_delivery, smoke_targets
from tests.conftest import REPO, SynthesizedPlatform, cdk_context
from tests.constructs.helpers import normalised
from tests.test_quality_gates import _without_paths


@dataclass(frozen=True)
class SynthesizedDelivery:
    """The delivery app, built and synthesized."""

    config: DeliveryConfig
    stack: DeliveryStack
    assembly: cdk.cx_api.CloudAssembly
    outdir: Path

    def template_json(self, artifact_id: str | None = None) -> dict[str, Any]:
        artifact = self.assembly.get_stack_artifact(artifact_id or self.stack.artifact_id)
        return json.loads(Path(artifact.template_full_path).read_text())  # type: ignore[no-any-return]

    @property
    def template(self) -> Template:
        return Template.from_json(self.template_json())

    @property
    def pipeline(self) -> dict[str, Any]:
        """Properties of the AWS::CodePipeline::Pipeline."""
        [resource] = [
            r
            for r in self.template_json()["Resources"].values()
            if r["Type"] == "AWS::CodePipeline::Pipeline"
        ]
        return resource["Properties"]  # type: ignore[no-any-return]

    def actions(self, stage: str) -> list[dict[str, Any]]:
        [found] = [s for s in self.pipeline["Stages"] if s["Name"] == stage]
        return found["Actions"]  # type: ignore[no-any-return]

    def support_stack_ids(self) -> list[str]:
        return [
            artifact.id
            for artifact in self.assembly.stacks_recursively
            if artifact.id.startswith("cross-region-stack-")
        ]


@pytest.fixture(scope="session")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedDelivery:
    """``app.py -c delivery=true``, in process (CDK's own validation off, as conftest does)."""
    outdir = tmp_path_factory.mktemp("cdk-delivery")
    config = load_delivery()
    app = cdk.App(
        context=cdk_context(),
        outdir=str(outdir),
        stack_traces=False,
        builtin_cloud_formation_validation=False,
    )
    stack = build_delivery(app, config)
    return SynthesizedDelivery(config, stack, app.synth(), outdir)


# --- the pipeline --------------------------------------------------------------------------


def test_pipeline_stack_is_in_the_tooling_account_and_region(delivery: SynthesizedDelivery) -> None:
    assert (delivery.stack.account, delivery.stack.region) == ("555555555555", "eu-west-1")
    assert delivery.stack.stack_name == "ml-platform-delivery"
    assert delivery.stack.termination_protection is True


def test_source_is_the_configured_connection_repository_and_branch(
    delivery: SynthesizedDelivery,
) -> None:
    [source] = delivery.actions("Source")
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {
        "ConnectionArn": delivery.config.connection_arn,
        "FullRepositoryId": "example-org/sagemaker-ml-platform",
        "BranchName": "main",
    }


def test_stages_are_source_synth_self_mutation_assets_then_environments_in_config_order(
    delivery: SynthesizedDelivery,
) -> None:
    names = [stage["Name"] for stage in delivery.pipeline["Stages"]]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "Dev", "Staging", "Prod"]
    assert [stage.stage_name for stage in delivery.stack.stages] == ["Dev", "Staging", "Prod"]


def test_synth_step_installs_tests_and_synthesizes_with_the_readme_commands(
    delivery: SynthesizedDelivery,
) -> None:
    delivery.template.has_resource_properties(
        "AWS::CodeBuild::Project",
        {
            "Source": {
                "BuildSpec": Match.serialized_json(
                    Match.object_like(
                        {
                            "phases": {
                                "install": {"commands": ["make setup"]},
                                "build": {"commands": ["make test", "make synth-delivery"]},
                            },
                            "artifacts": Match.object_like({"base-directory": "cdk.out"}),
                        }
                    )
                )
            },
            "Environment": Match.object_like(
                {"PrivilegedMode": True, "Image": "aws/codebuild/standard:7.0"}
            ),
        },
    )
    assert SYNTH_COMMANDS == ("make test", "make synth-delivery")


def test_pipeline_mutates_itself_with_the_pinned_cdk_cli(delivery: SynthesizedDelivery) -> None:
    [action] = delivery.actions("UpdatePipeline")
    assert action["Name"] == "SelfMutate"
    delivery.template.has_resource_properties(
        "AWS::CodeBuild::Project",
        {
            "Source": {
                "BuildSpec": Match.serialized_json(
                    Match.object_like(
                        {
                            "phases": {
                                "install": {
                                    "commands": [
                                        f"npm install -g aws-cdk@{delivery.config.cdk_cli_version}"
                                    ]
                                },
                                "build": {
                                    "commands": Match.array_with(
                                        [Match.string_like_regexp("cdk -a . deploy Delivery")]
                                    )
                                },
                            }
                        }
                    )
                )
            },
        },
    )


def test_cdk_cli_version_of_the_pipeline_is_package_json_s() -> None:
    package = json.loads((REPO / "package.json").read_text())
    assert load_delivery().cdk_cli_version == package["devDependencies"]["aws-cdk"]


def _deploy_role(account: str, region: str, kind: str = "deploy") -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":iam::{account}:role/cdk-hnb659fds-{kind}-role-{account}-{region}",
            ],
        ]
    }


@pytest.mark.parametrize("stage", ["Dev", "Staging", "Prod"])
def test_each_stage_deploys_through_its_target_account_s_bootstrap_roles(
    delivery: SynthesizedDelivery, stage: str
) -> None:
    index = [s.environment for s in delivery.config.stages].index(stage.lower())
    environment = delivery.config.environment_of(delivery.config.stages[index])
    account, region = environment.account, environment.region
    deploys = [a for a in delivery.actions(stage) if a["ActionTypeId"]["Category"] == "Deploy"]
    assert {a["Configuration"]["StackName"] for a in deploys} == {
        s.stack_name for s in delivery.stack.stages[index].platform.stacks
    }
    assert f"ml-platform-{environment.name}-data" in {
        a["Configuration"]["StackName"] for a in deploys
    }
    for action in deploys:
        assert action["RoleArn"] == _deploy_role(account, region), action["Name"]
        assert action.get("Region", delivery.config.region) == region
        if action["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE":
            assert action["Configuration"]["RoleArn"] == _deploy_role(account, region, "cfn-exec")


def test_artifacts_are_encrypted_with_keys_the_target_accounts_may_use(
    delivery: SynthesizedDelivery,
) -> None:
    key = delivery.template.find_resources("AWS::KMS::Key")
    [(key_id, props)] = key.items()
    assert props["DeletionPolicy"] == "Retain"
    assert props["Properties"]["EnableKeyRotation"] is True
    principals = json.dumps(props["Properties"]["KeyPolicy"])
    [support] = delivery.support_stack_ids()
    replication_key = json.dumps(delivery.template_json(support))
    for stage in delivery.config.stages:
        env = delivery.config.environment_of(stage)
        # Stages in another region read their artifacts from that region's replication bucket.
        policies = principals if env.region == delivery.config.region else replication_key
        assert f"cdk-hnb659fds-deploy-role-{env.account}-{env.region}" in policies, env.name
    delivery.template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
                                }
                            }
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LoggingConfiguration": Match.object_like({"LogFilePrefix": "artifacts/"}),
                }
            ),
        },
    )


def test_the_other_region_s_replication_bucket_is_hardened_and_retained_too(
    delivery: SynthesizedDelivery,
) -> None:
    [support] = delivery.support_stack_ids()
    template = Template.from_json(delivery.template_json(support))
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LoggingConfiguration": Match.any_value(),
                }
            ),
        },
    )


@pytest.mark.parametrize("stage", ["Staging", "Prod"])
def test_prod_like_stages_check_permissions_broadening_then_wait_for_approval(
    delivery: SynthesizedDelivery, stage: str
) -> None:
    actions = {a["Name"]: a for a in delivery.actions(stage)}
    check, confirm = (
        actions["PermissionsBroadening.Check"],
        actions["PermissionsBroadening.Confirm"],
    )
    approve = actions["Approve"]
    assert approve["ActionTypeId"]["Category"] == "Approval"
    first_deploy = min(
        a["RunOrder"] for a in actions.values() if a["ActionTypeId"]["Category"] == "Deploy"
    )
    assert check["RunOrder"] < confirm["RunOrder"] < approve["RunOrder"] < first_deploy


def test_dev_deploys_without_waiting_for_anyone(delivery: SynthesizedDelivery) -> None:
    categories = {a["ActionTypeId"]["Category"] for a in delivery.actions("Dev")}
    assert categories == {"Deploy", "Build"}


@pytest.mark.parametrize("stage", ["Dev", "Staging", "Prod"])
def test_each_stage_ends_with_a_smoke_check_in_the_target_account(
    delivery: SynthesizedDelivery, stage: str
) -> None:
    actions = delivery.actions(stage)
    last = max(actions, key=lambda a: a["RunOrder"])
    assert last["Name"] == "SmokeCheck"
    assert all(a["RunOrder"] < last["RunOrder"] for a in actions if a is not last)
    env = delivery.config.environment_of(
        next(s for s in delivery.config.stages if s.environment == stage.lower())
    )
    role = delivery.config.smoke_check_role_arn(env)
    assert role == (
        f"arn:aws:iam::{env.account}:role/cdk-hnb659fds-lookup-role-{env.account}-{env.region}"
    )
    delivery.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [{"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": role}]
                )
            }
        },
    )
    command = delivery.stack.smoke_checks[env.name].commands[0]
    assert command.startswith(
        f"python -m scripts.smoke_check --region {env.region} --role-arn {role}"
    )
    for part in ("data", "network", "registry", "workspace"):
        assert f"--stack ml-platform-{env.name}-{part}" in command
    assert f"--domain ml-platform-{env.name}" in command
    for model in env.models:
        assert f"--model-package-group ml-platform-{env.name}-{model.name}" in command


def test_smoke_targets_are_read_from_the_stage_s_constructs(delivery: SynthesizedDelivery) -> None:
    targets = smoke_targets(delivery.stack.stages[0])
    assert targets.domain == "ml-platform-dev"
    assert targets.stacks == [
        stack.stack_name for stack in delivery.stack.stages[0].platform.stacks
    ]


def test_smoke_check_expects_a_models_endpoint_only_once_its_record_names_a_package(
    delivery: SynthesizedDelivery,
) -> None:
    stage = delivery.stack.stages[0]
    targets = smoke_targets(stage)
    # From the synthesized templates: every endpoint and pipeline under a condition, with the
    # release record (SSM parameter type) the condition reads.
    expected: dict[str, str] = {}
    for stacks in stage.platform.models.values():
        template = delivery.template_json(stacks.model.artifact_id)
        for resource in template["Resources"].values():
            kinds = {"AWS::SageMaker::Endpoint": "endpoint", "AWS::SageMaker::Pipeline": "pipeline"}
            if resource["Type"] not in kinds or "Condition" not in resource:
                continue
            properties = resource["Properties"]
            name = properties.get("EndpointName") or properties["PipelineName"]
            condition = json.dumps(template["Conditions"][resource["Condition"]])
            (parameter,) = [p for p in template["Parameters"] if f'"{p}"' in condition]
            key = f"{kinds[resource['Type']]}:{name}"
            expected[key] = template["Parameters"][parameter]["Default"]
    assert targets.released_by == expected
    # No endpoint exists before a release, nor a batch pipeline; training pipelines never wait.
    assert {f"endpoint:{name}" for name in targets.endpoints} <= set(expected)
    assert "pipeline:ml-platform-dev-lead-scoring-batch" in expected
    assert "ml-platform-dev-churn-prediction" in targets.pipelines
    assert "pipeline:ml-platform-dev-churn-prediction" not in expected
    command = delivery.stack.smoke_checks["dev"].commands[0]
    assert (
        "--released-by endpoint:ml-platform-dev-churn-prediction="
        "/ml-platform-dev/releases/churn-prediction/champion"
    ) in command


def test_delivery_stages_deploy_the_same_templates_as_cdk_deploy(
    delivery: SynthesizedDelivery, platforms: dict[str, SynthesizedPlatform]
) -> None:
    for spec, stage in zip(delivery.config.stages, delivery.stack.stages, strict=True):
        by_hand = platforms[spec.environment]
        assert [s.stack_name for s in stage.platform.stacks] == [
            s.stack_name for s in by_hand.platform.stacks
        ]
        for staged, top_level in zip(stage.platform.stacks, by_hand.platform.stacks, strict=True):
            assert _without_paths(delivery.template_json(staged.artifact_id)) == _without_paths(
                by_hand.template_json(top_level)
            ), staged.stack_name


# --- quality gates -------------------------------------------------------------------------


def test_compliance_packs_leave_no_open_finding(delivery: SynthesizedDelivery) -> None:
    report = json.loads((delivery.outdir / "validation-report.json").read_text())
    assert {plugin["pluginName"] for plugin in report["pluginReports"]} == set(RULE_PACKS)
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violations == []


def _acknowledgements(outdir: Path) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of the acknowledgements of the pipeline app's stacks."""
    return [
        (ack.path, ack.rule, ack.reason)
        for stack in read_assembly(outdir, nested=False)
        for ack in stack.acknowledgements
    ]


def test_pipeline_acknowledgements_are_one_rule_each_with_a_reason(
    delivery: SynthesizedDelivery,
) -> None:
    acknowledgements = _acknowledgements(delivery.outdir)
    assert acknowledgements
    for path, rule, reason in acknowledgements:
        pack, _, rule_id = rule.partition("::")
        assert pack in {*RULE_PACKS, "Annotation", "CloudFormation-Validate"}, (path, rule)
        assert rule_id != "AwsSolutions-IAM5", (path, rule)
        assert len(reason) >= 40, (path, rule, reason)
    wildcards = {rule for _, rule, _ in acknowledgements if "IAM5[" in rule}
    assert "AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]" in wildcards


def test_a_wildcard_no_reason_covers_stays_open() -> None:
    from aws_cdk import aws_iam as iam

    from ml_constructs import acknowledge_generated_wildcards

    stack = cdk.Stack(
        cdk.App(), "S", env=cdk.Environment(account="555555555555", region="eu-west-1")
    )
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject*", "ec2:*"], resources=["*"]))
    policy = role.node.find_child("DefaultPolicy")
    left_open = acknowledge_generated_wildcards(
        policy, {r"Action::s3:GetObject\*": "a reason that is long enough to be a reason"}
    )
    assert left_open == ["Action::ec2:*", "Resource::*"]


def test_cfn_lint_finds_nothing_in_the_pipeline_s_regions(delivery: SynthesizedDelivery) -> None:
    problems = []
    for artifact_id in [delivery.stack.artifact_id, *delivery.support_stack_ids()]:
        artifact = delivery.assembly.get_stack_artifact(artifact_id)
        template = Path(artifact.template_full_path)
        matches = lint_file(template, ManualArgs(regions=[artifact.environment.region]))
        problems += [f"{template.name}: {match}" for match in matches]
    assert problems == []


def test_pipeline_stack_stays_well_under_cloudformation_limits(
    delivery: SynthesizedDelivery,
) -> None:
    from scripts.synth_report import MAX_RESOURCES, MAX_TEMPLATE_BYTES, summarize

    for summary in summarize(delivery.outdir):
        assert summary.resources <= MAX_RESOURCES, summary
        assert summary.template_bytes <= MAX_TEMPLATE_BYTES, summary


def test_pipeline_stack_matches_its_snapshot(
    delivery: SynthesizedDelivery, snapshot: SnapshotAssertion
) -> None:
    assert normalised(delivery.template_json()) == snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture(scope="module")
def two_cli_synths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``cdk synth -c delivery=true`` twice, with no network and CDK's validation on."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to prove synth is offline")
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    env.pop("CDK_VALIDATION", None)
    env["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    outdirs = (tmp_path_factory.mktemp("delivery-a"), tmp_path_factory.mktemp("delivery-b"))
    for outdir in outdirs:
        command = [
            str(REPO / "node_modules" / ".bin" / "cdk"),
            "synth",
            "-c",
            "delivery=true",
            "--quiet",
            "--output",
            str(outdir),
        ]
        result = subprocess.run(
            ["unshare", "--net", *command],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    return outdirs


def test_delivery_synth_is_offline_and_byte_identical_twice(
    two_cli_synths: tuple[Path, Path],
) -> None:
    first, second = two_cli_synths
    files = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(second)) for p in second.rglob("*") if p.is_file())
    assert any(
        name.endswith("ml-platform-delivery.template.json") or name.startswith("Delivery")
        for name in files
    )
    _, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
    assert mismatch == [] and errors == []
    manifest = json.loads((first / "manifest.json").read_text())
    assert "missing" not in manifest


# --- config/delivery.yaml ------------------------------------------------------------------


def test_delivery_file_is_not_an_environment() -> None:
    assert "delivery" not in available_environments()


def test_committed_delivery_config_promotes_dev_staging_prod() -> None:
    config = load_delivery()
    assert [stage.environment for stage in config.stages] == ["dev", "staging", "prod"]
    assert [config.is_prod_like(i) for i in range(3)] == [False, True, True]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the committed configuration, for a test to break."""
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(config_dir: Path, name: str, change: dict[str, Any]) -> None:
    path = config_dir / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    if "account" in change and "model_registry" in data:
        # Approvers are roles of the environment's own account: they move with it.
        approvers = data["model_registry"].get("approvers", [])
        data["model_registry"]["approvers"] = [
            arn.replace(f":{data['account']}:", f":{change['account']}:") for arn in approvers
        ]
    data.update(change)
    path.write_text(yaml.safe_dump(data))


def _stages(*names: str, approve: tuple[str, ...] = ("staging", "prod")) -> list[dict[str, Any]]:
    return [{"environment": n, "manual_approval": n in approve} for n in names]


BAD_DELIVERY = [
    (
        "delivery",
        {"stages": _stages("staging", "dev", "prod")},
        (
            "delivery.yaml: stages[1].environment: 'dev' comes after 'staging' but is less protected"
            " (termination_protection off, retention destroy vs termination_protection on, retention"
            " retain); order stages from the least to the most protected"
        ),
    ),
    (
        "delivery",
        {"stages": _stages("dev", "qa", "prod")},
        (
            "delivery.yaml: stages[1].environment: 'qa' is not an environment of config/ (available:"
            " dev, prod, sandbox, staging)"
        ),
    ),
    (
        "delivery",
        {"stages": _stages("dev", "dev", "prod")},
        "delivery.yaml: stages[1].environment: 'dev' is already an earlier stage",
    ),
    (
        "staging",
        {"account": "222222222222"},
        (
            "delivery.yaml: stages[1].environment: 'staging' deploys to account 222222222222 as 'dev'"
            " does (distinct_accounts is on: one account per environment)"
        ),
    ),
    (
        "delivery",
        {"account": "444444444444"},
        "delivery.yaml: account: '444444444444' is also the account of environment 'prod'",
    ),
    (
        "delivery",
        {"stages": _stages("dev", "staging", "prod", approve=("staging",))},
        (
            "delivery.yaml: stages[2].manual_approval: False must be true: 'prod' is prod-like (the"
            " last stage, or termination_protection on)"
        ),
    ),
    (
        "delivery",
        {"stages": _stages("dev", "staging", "prod", approve=("prod",))},
        "delivery.yaml: stages[1].manual_approval: False must be true: 'staging' is prod-like",
    ),
    (
        "delivery",
        {"stages": _stages("dev", approve=())},
        "delivery.yaml: stages[0].manual_approval: False must be true: 'dev' is prod-like",
    ),
    (
        "delivery",
        {"stages": []},
        "delivery.yaml: stages: [] is invalid: tuple should have at least 1 item",
    ),
    (
        "delivery",
        {"connection_arn": "arn:aws:codestar:eu-west-1:555555555555:connection/x"},
        (
            "delivery.yaml: connection_arn: 'arn:aws:codestar:eu-west-1:555555555555:connection/x' is"
            " invalid: string should match pattern"
        ),
    ),
    (
        "delivery",
        {"repository": "sagemaker-ml-platform"},
        "delivery.yaml: repository: 'sagemaker-ml-platform' is invalid: string should match pattern",
    ),
    (
        "delivery",
        {"account": 555555555555},
        "delivery.yaml: account: 555555555555 must be a string (quote it)",
    ),
    ("delivery", {"brnach": "main"}, "delivery.yaml: brnach: 'main' is not a known field"),
    (
        "delivery",
        {"environments": ["dev"]},
        "delivery.yaml: environments: ['dev'] is not a known field",
    ),
]


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    BAD_DELIVERY,
    ids=[e.split(": ", 1)[1][:60] for _, _, e in BAD_DELIVERY],
)
def test_bad_delivery_config_is_one_line_naming_file_field_value_and_allowed(
    config_dir: Path, file: str, change: dict[str, Any], expected: str
) -> None:
    _edit(config_dir, file, change)
    with pytest.raises(ConfigError) as raised:
        load_delivery(config_dir)
    message = str(raised.value)
    assert "\n" not in message
    assert expected in message, message


def test_shared_accounts_are_allowed_when_distinct_accounts_is_off(config_dir: Path) -> None:
    _edit(config_dir, "staging", {"account": "222222222222"})
    _edit(config_dir, "delivery", {"distinct_accounts": False})
    assert load_delivery(config_dir).environment_of(
        load_delivery(config_dir).stages[1]
    ).account == ("222222222222")


def test_an_invalid_environment_is_reported_with_its_own_file(config_dir: Path) -> None:
    _edit(config_dir, "prod", {"retention": "keep"})
    with pytest.raises(ConfigError, match=r"prod.yaml: retention: 'keep' is not allowed"):
        load_delivery(config_dir)


def test_missing_delivery_file_is_one_line(config_dir: Path) -> None:
    (config_dir / "delivery.yaml").unlink()
    with pytest.raises(ConfigError, match=r"delivery.yaml: cannot be read"):
        load_delivery(config_dir)


def test_app_exits_2_with_one_line_on_bad_delivery_config(config_dir: Path) -> None:
    _edit(config_dir, "delivery", {"stages": _stages("dev", "staging", "prod", approve=())})
    context = {"delivery": "true", "config_dir": str(config_dir)}
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context)}
    env["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "delivery.yaml: stages[1].manual_approval: False must be true" in result.stderr

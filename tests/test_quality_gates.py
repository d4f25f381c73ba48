"""Quality gates over every environment: compliance packs, cfn-lint, limits, stage parity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cfnlint.api import ManualArgs, lint_file

from aws_rules.cloud_assembly import read_assembly
from ml_constructs import acknowledge, add_compliance_checks
from ml_constructs.compliance import RULE_PACKS
from platform_config import load_environment
from scripts.synth_report import MAX_RESOURCES, MAX_TEMPLATE_BYTES, summarize
from stacks import PlatformStage, construct_id_of
from tests.conftest import ENVIRONMENTS, SynthesizedPlatform, cdk_context

REGIONS = sorted({load_environment(name).region for name in ENVIRONMENTS})


def _acknowledgements(platform: SynthesizedPlatform) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgement in the assembly."""
    return [
        (ack.path, ack.rule, ack.reason)
        for stack in read_assembly(platform.outdir)
        for ack in stack.acknowledgements
    ]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_compliance_packs_leave_no_open_finding(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    report = json.loads((platforms[env_name].outdir / "validation-report.json").read_text())
    assert {plugin["pluginName"] for plugin in report["pluginReports"]} <= set(RULE_PACKS)
    assert all(plugin["conclusion"] == "success" for plugin in report["pluginReports"])
    violations = [
        violation for plugin in report["pluginReports"] for violation in plugin["violations"]
    ]
    assert violations == []


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_acknowledgement_names_one_rule_of_a_pack_and_a_reason(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    acknowledgements = _acknowledgements(platforms[env_name])
    assert acknowledgements, "expected the documented acknowledgements"
    for path, rule, reason in acknowledgements:
        pack, _, rule_id = rule.partition("::")
        # CDK itself acknowledges a few CloudFormation-Validate rules on its own constructs.
        assert pack in {*RULE_PACKS, "Annotation", "CloudFormation-Validate"}, (path, rule)
        # Wildcard findings are acknowledged one by one (IAM5[Action::...]), never wholesale.
        assert rule_id != "AwsSolutions-IAM5", (path, rule)
        assert len(reason) >= 40, (path, rule, reason)
        assert path.count("/") >= 3, f"{path}: acknowledge on the resource, not the stack"


def test_compliance_gate_fails_synth_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    stack = cdk.Stack(
        app, "Careless", env=cdk.Environment(account="111111111111", region="eu-west-1")
    )
    s3.Bucket(stack, "PlainBucket")
    add_compliance_checks(app)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()


def test_acknowledge_rejects_a_rule_without_a_pack_prefix() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="does not start with a known pack prefix"):
        acknowledge(stack, "S1", reason="a reason that is long enough to be a real reason")
    with pytest.raises(ValueError, match="non-empty reason"):
        acknowledge(stack, "AwsSolutions-S1", reason=" ")


def _templates(platform: SynthesizedPlatform) -> list[Path]:
    return [
        Path(platform.assembly.get_stack_artifact(stack.artifact_id).template_full_path)
        for stack in platform.platform.stacks
    ]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_cfn_lint_finds_nothing_in_any_configured_region(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    problems = []
    for template in _templates(platforms[env_name]):
        matches = lint_file(template, ManualArgs(regions=REGIONS))
        problems += [f"{template.name}: {match}" for match in matches]
    assert problems == []


def test_cfn_lint_gate_can_fail(tmp_path: Path) -> None:
    template = tmp_path / "bad.template.json"
    template.write_text(
        json.dumps(
            {
                "Resources": {
                    "Endpoint": {
                        "Type": "AWS::SageMaker::EndpointConfig",
                        "Properties": {
                            "ProductionVariants": [
                                {
                                    "VariantName": "a",
                                    "ModelName": "m",
                                    "InitialInstanceCount": 1,
                                    "InstanceType": "ml.not.a.type",
                                }
                            ]
                        },
                    }
                }
            }
        )
    )
    assert lint_file(template, ManualArgs(regions=REGIONS))


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_stack_stays_well_under_cloudformation_limits(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    summaries = summarize(platforms[env_name].outdir)
    assert len(summaries) == len(platforms[env_name].platform.stacks)
    for summary in summaries:
        assert summary.resources <= MAX_RESOURCES, summary
        assert summary.template_bytes <= MAX_TEMPLATE_BYTES, summary


def _without_paths(template: dict[str, Any]) -> dict[str, Any]:
    for resource in template.get("Resources", {}).values():
        resource.get("Metadata", {}).pop("aws:cdk:path", None)
        if resource.get("Metadata") == {}:
            del resource["Metadata"]
    return template


def test_delivery_stage_deploys_the_same_templates_as_cdk_deploy(
    sandbox: SynthesizedPlatform, tmp_path: Path
) -> None:
    app = cdk.App(
        context=cdk_context(),
        outdir=str(tmp_path),
        stack_traces=False,
        builtin_cloud_formation_validation=False,
    )
    stage = PlatformStage(app, construct_id_of("sandbox"), config=sandbox.config)
    stage_assembly = stage.synth()
    for top_level, staged in zip(sandbox.platform.stacks, stage.platform.stacks, strict=True):
        assert staged.stack_name == top_level.stack_name
        staged_template = json.loads(
            Path(
                stage_assembly.get_stack_artifact(staged.artifact_id).template_full_path
            ).read_text()
        )
        assert _without_paths(staged_template) == _without_paths(
            sandbox.template_json(top_level)
        ), top_level.stack_name

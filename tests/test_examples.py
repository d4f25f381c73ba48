"""The extension examples of examples/: a construct changed through a hook, a team's own app."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from examples.custom_monitor import PreprocessedDataQualityMonitor
from ml_constructs import DataQualityMonitor, MonitorJobSettings
from tests.conftest import REPO

TEAM_APP = REPO / "examples" / "team_app"


def _monitor_stack(monitor_class: type[DataQualityMonitor], **extra: str) -> Template:
    stack = cdk.Stack(
        cdk.App(), "Monitoring", env=cdk.Environment(account="111111111111", region="eu-west-1")
    )
    settings = MonitorJobSettings(
        role=iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
        subnet_ids=["subnet-1"],
        security_group_ids=["sg-1"],
        key=kms.Key(stack, "Key"),
        reports_uri="s3://reports/monitoring",
    )
    monitor_class(
        stack,
        "Monitor",
        endpoint_name="claims",
        schedule_name="claims-data-quality",
        schedule_expression="cron(0 * ? * * *)",
        image_uri="analyzer:latest",
        baseline_uri="s3://reports/baseline",
        settings=settings,
        **extra,
    )
    return Template.from_stack(stack)


def test_subclass_adds_a_record_preprocessor_through_the_app_specification_hook() -> None:
    template = _monitor_stack(
        PreprocessedDataQualityMonitor, record_preprocessor_uri="s3://code/flatten.py"
    )
    template.has_resource_properties(
        "AWS::SageMaker::DataQualityJobDefinition",
        {
            "DataQualityAppSpecification": {
                "ImageUri": "analyzer:latest",
                "RecordPreprocessorSourceUri": "s3://code/flatten.py",
                # the library's own behaviour is kept
                "Environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            "DataQualityBaselineConfig": Match.object_like(
                {
                    "StatisticsResource": {"S3Uri": "s3://reports/baseline/statistics.json"},
                }
            ),
        },
    )
    template.resource_count_is("AWS::SageMaker::MonitoringSchedule", 1)


def test_the_library_monitor_has_no_preprocessor() -> None:
    template = _monitor_stack(DataQualityMonitor)
    specification = next(
        iter(template.find_resources("AWS::SageMaker::DataQualityJobDefinition").values())
    )["Properties"]
    assert "RecordPreprocessorSourceUri" not in specification["DataQualityAppSpecification"]


def test_subclass_rejects_a_preprocessor_that_is_not_in_s3() -> None:
    with pytest.raises(
        ValueError, match=re.escape("record_preprocessor_uri: 'flatten.py' is not an s3://")
    ):
        _monitor_stack(PreprocessedDataQualityMonitor, record_preprocessor_uri="flatten.py")


@pytest.fixture(scope="module")
def team_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The team app synthesized by the CDK CLI from its own folder, as the team runs it."""
    outdir = tmp_path_factory.mktemp("team-app")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "PATH": f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("CDK_VALIDATION", None)
    result = subprocess.run(
        [
            str(REPO / "node_modules" / ".bin" / "cdk"),
            "synth",
            "--quiet",
            "--output",
            str(outdir),
            "--app",
            f"{sys.executable} app.py",
        ],
        cwd=TEAM_APP,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return outdir


def test_team_app_builds_its_model_resources_from_the_library(team_assembly: Path) -> None:
    template = Template.from_json(
        json.loads((team_assembly / "ClaimsOcr.template.json").read_text())
    )
    template.has_resource_properties(
        "AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "claims-ocr"}
    )
    template.has_resource_properties(
        "AWS::SageMaker::DataQualityJobDefinition",
        {
            "DataQualityAppSpecification": Match.object_like(
                {
                    "RecordPreprocessorSourceUri": Match.any_value(),
                }
            ),
        },
    )
    template.resource_count_is("AWS::KMS::Key", 3)


def test_team_app_passes_the_same_compliance_packs(team_assembly: Path) -> None:
    report = json.loads((team_assembly / "validation-report.json").read_text())
    assert {plugin["pluginName"] for plugin in report["pluginReports"]} >= {
        "HIPAA.Security",
        "NIST.800.53.R5",
    }
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []

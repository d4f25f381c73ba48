"""ModelPackageResolver on a bare stack."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from syrupy.assertion import SnapshotAssertion

from ml_constructs.model_package_resolver import ModelPackageResolver
from platform_config.names import EVERY_MODEL
from tests.constructs.helpers import (
    FUNCTION_CODE,
    NAMES,
    bare_stack,
    construct_template,
    function_placement,
    resources,
)


def _resolver() -> ModelPackageResolver:
    stack = bare_stack()
    return ModelPackageResolver(
        stack,
        "Subject",
        code_path=str(FUNCTION_CODE),
        package_groups=NAMES.model_package_group(EVERY_MODEL),
        records_path=NAMES.release_records_path(),
        placement=function_placement(stack),
    )


def _statements(resolver: ModelPackageResolver) -> list[dict[str, Any]]:
    return [
        s
        for policy in resources(cdk.Stack.of(resolver), "AWS::IAM::Policy")
        for s in policy["PolicyDocument"]["Statement"]
    ]


def test_it_reads_only_the_environments_package_groups() -> None:
    (read,) = [
        s for s in _statements(_resolver()) if "sagemaker:DescribeModelPackage" in s["Action"]
    ]
    assert "model-package-group/ml-platform-test-*" in str(read["Resource"])
    assert "sagemaker:UpdateModelPackage" not in str(read["Action"])


def test_it_creates_records_and_may_never_overwrite_one() -> None:
    (create,) = [s for s in _statements(_resolver()) if s["Action"] == "ssm:PutParameter"]
    assert create["Condition"] == {"StringEquals": {"ssm:Overwrite": "false"}}
    assert "parameter/ml-platform-test/releases/*" in str(create["Resource"])


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_resolver()) == snapshot_json

"""ServedModel on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs.served_model import ServedModel
from tests.constructs.helpers import (
    PACKAGE_ARN,
    bare_stack,
    construct_template,
    isolated_vpc,
    provider,
    sagemaker_role,
    security_group,
    template,
)


def _model(**props: object) -> ServedModel:
    stack = bare_stack()
    vpc = isolated_vpc(stack)
    return ServedModel(
        stack,
        "Subject",
        package_arn=PACKAGE_ARN,
        role=sagemaker_role(stack),
        subnets=vpc.isolated_subnets,
        security_groups=[security_group(stack, vpc)],
        **props,  # type: ignore[arg-type]
    )


def test_model_serves_the_package_in_the_vpc_without_network() -> None:
    model = _model()
    template(cdk.Stack.of(model)).has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": {"ModelPackageName": PACKAGE_ARN},
            "EnableNetworkIsolation": True,
            "VpcConfig": Match.object_like({"Subnets": Match.any_value()}),
        },
    )


def test_an_image_override_reads_the_packages_model_data_at_deploy_time() -> None:
    stack = bare_stack()
    model = ServedModel(
        stack,
        "Subject",
        package_arn=PACKAGE_ARN,
        role=sagemaker_role(stack),
        image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/server:1",
        provider=provider(stack),
    )
    stack_template = template(stack)
    stack_template.has_resource_properties("Custom::ModelPackage", {"ModelPackageArn": PACKAGE_ARN})
    stack_template.has_resource_properties(
        "AWS::SageMaker::Model",
        {"PrimaryContainer": {"Image": Match.any_value(), "ModelDataUrl": Match.any_value()}},
    )
    assert model.lookup is not None


def test_half_a_vpc_placement_is_refused() -> None:
    stack = bare_stack()
    vpc = isolated_vpc(stack)
    with pytest.raises(ValueError, match="give both subnets and security_groups, or neither"):
        ServedModel(
            stack,
            "Subject",
            package_arn=PACKAGE_ARN,
            role=sagemaker_role(stack),
            subnets=vpc.isolated_subnets,
        )


def test_an_image_without_the_provider_is_refused() -> None:
    stack = bare_stack()
    with pytest.raises(ValueError, match="an image override needs the provider"):
        ServedModel(
            stack, "Subject", package_arn=PACKAGE_ARN, role=sagemaker_role(stack), image="x:1"
        )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_model()) == snapshot_json

"""ModelPackageLookup on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from syrupy.assertion import SnapshotAssertion

from ml_constructs.model_package_lookup import ModelPackageLookup
from tests.constructs.helpers import PACKAGE_ARN, bare_stack, construct_template, provider, template


def _lookup() -> ModelPackageLookup:
    stack = bare_stack()
    return ModelPackageLookup(stack, "Subject", provider=provider(stack), package_arn=PACKAGE_ARN)


def test_lookup_asks_the_provider_for_the_package() -> None:
    lookup = _lookup()
    template(cdk.Stack.of(lookup)).has_resource_properties(
        "Custom::ModelPackage",
        {
            "ServiceToken": "arn:aws:lambda:eu-west-1:111111111111:function:provider",
            "ModelPackageArn": PACKAGE_ARN,
        },
    )
    stack = cdk.Stack.of(lookup)
    assert stack.resolve(lookup.model_data_url) == {
        "Fn::GetAtt": [stack.get_logical_id(lookup.resource.node.default_child), "ModelDataUrl"]  # type: ignore[arg-type]
    }


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_lookup()) == snapshot_json

"""ModelExplainabilityMonitor on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import ModelExplainabilityMonitor
from tests.constructs.helpers import bare_stack, construct_template, monitor_props, template


def _monitor() -> ModelExplainabilityMonitor:
    stack = bare_stack()
    return ModelExplainabilityMonitor(
        stack, "Subject", **monitor_props(stack, "model-explainability")
    )


def test_job_has_network_access_for_clarifys_shadow_endpoint_but_stays_in_the_vpc() -> None:
    monitor = _monitor()
    template(cdk.Stack.of(monitor)).has_resource_properties(
        "AWS::SageMaker::ModelExplainabilityJobDefinition",
        {
            "NetworkConfig": Match.object_like(
                {
                    "EnableNetworkIsolation": False,
                    "VpcConfig": {
                        "SecurityGroupIds": ["sg-0123456789abcdef0"],
                        "Subnets": ["subnet-0123456789abcdef0"],
                    },
                }
            )
        },
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_monitor()) == snapshot_json

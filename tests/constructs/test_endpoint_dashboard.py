"""EndpointDashboard on a bare stack."""

from __future__ import annotations

import json

import aws_cdk as cdk
from syrupy.assertion import SnapshotAssertion

from ml_constructs.endpoint_dashboard import EndpointDashboard
from tests.constructs.helpers import bare_stack, construct_template, resources


def _body(**props: object) -> str:
    dashboard = EndpointDashboard(
        bare_stack(),
        "Subject",
        endpoint_name="ml-platform-test-churn",
        variant_names=["champion"],
        **props,  # type: ignore[arg-type]
    )
    (properties,) = resources(cdk.Stack.of(dashboard), "AWS::CloudWatch::Dashboard")
    assert properties["DashboardName"] == "ml-platform-test-churn"
    return json.dumps(properties["DashboardBody"])


def test_traffic_errors_latency_and_utilisation_are_shown() -> None:
    body = _body()
    for metric in ("Invocations", "Invocation5XXErrors", "ModelLatency", "CPUUtilization"):
        assert metric in body
    assert "GPUUtilization" not in body and "ApproximateBacklogSize" not in body


def test_gpu_and_backlog_rows_appear_when_asked() -> None:
    body = _body(gpu=True, asynchronous=True)
    assert "GPUUtilization" in body and "HasBacklogWithoutCapacity" in body


def test_serverless_endpoints_show_no_instance_metrics() -> None:
    assert "CPUUtilization" not in _body(instance_metrics=False)


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    dashboard = EndpointDashboard(
        bare_stack(), "Subject", endpoint_name="ml-platform-test-churn", variant_names=["champion"]
    )
    assert construct_template(dashboard) == snapshot_json

"""DataQualityMonitor on a bare stack (and what every ModelMonitor shares)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import DataQualityMonitor
from tests.constructs.helpers import (
    MONITOR_BASELINE,
    MONITOR_REPORTS,
    MONITORED_ENDPOINT,
    bare_stack,
    construct_template,
    monitor_props,
    resources,
    template,
)


def _monitor() -> DataQualityMonitor:
    stack = bare_stack()
    return DataQualityMonitor(stack, "Subject", **monitor_props(stack, "data-quality"))


def test_job_reads_the_endpoints_capture_against_the_baseline_in_isolation() -> None:
    monitor = _monitor()
    template(cdk.Stack.of(monitor)).has_resource_properties(
        "AWS::SageMaker::DataQualityJobDefinition",
        {
            "DataQualityJobInput": {
                "EndpointInput": Match.object_like({"EndpointName": MONITORED_ENDPOINT})
            },
            "DataQualityBaselineConfig": Match.object_like(
                {
                    "ConstraintsResource": {
                        "S3Uri": f"{MONITOR_BASELINE}/data-quality/constraints.json"
                    }
                }
            ),
            "DataQualityJobOutputConfig": Match.object_like(
                {
                    "MonitoringOutputs": [
                        Match.object_like(
                            {
                                "S3Output": Match.object_like(
                                    {"S3Uri": f"{MONITOR_REPORTS}/data-quality"}
                                )
                            }
                        )
                    ]
                }
            ),
            "NetworkConfig": Match.object_like({"EnableNetworkIsolation": True}),
        },
    )


def test_schedule_runs_the_job_definition_on_the_endpoint() -> None:
    monitor = _monitor()
    (schedule,) = resources(cdk.Stack.of(monitor), "AWS::SageMaker::MonitoringSchedule")
    assert schedule["MonitoringScheduleName"] == f"{MONITORED_ENDPOINT}-data-quality"
    config = schedule["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "DataQuality"
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert monitor.schedule_name == f"{MONITORED_ENDPOINT}-data-quality"


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_monitor()) == snapshot_json

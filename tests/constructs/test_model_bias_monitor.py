"""ModelBiasMonitor on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import ModelBiasMonitor
from tests.constructs.helpers import (
    MONITOR_BASELINE,
    bare_stack,
    construct_template,
    monitor_props,
    template,
)

LABELS = "s3://test-labels/churn/"


def _monitor() -> ModelBiasMonitor:
    stack = bare_stack()
    return ModelBiasMonitor(
        stack, "Subject", ground_truth_uri=LABELS, **monitor_props(stack, "model-bias")
    )


def test_job_reads_clarifys_analysis_configuration_and_the_labels() -> None:
    monitor = _monitor()
    template(cdk.Stack.of(monitor)).has_resource_properties(
        "AWS::SageMaker::ModelBiasJobDefinition",
        {
            "ModelBiasAppSpecification": Match.object_like(
                {"ConfigUri": f"{MONITOR_BASELINE}/model-bias/analysis_config.json"}
            ),
            "ModelBiasJobInput": Match.object_like({"GroundTruthS3Input": {"S3Uri": LABELS}}),
            "ModelBiasBaselineConfig": {
                "ConstraintsResource": {"S3Uri": f"{MONITOR_BASELINE}/model-bias/analysis.json"}
            },
        },
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_monitor()) == snapshot_json

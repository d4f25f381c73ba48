"""ModelQualityMonitor on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import ModelQualityMonitor
from tests.constructs.helpers import bare_stack, construct_template, monitor_props, template

LABELS = "s3://test-labels/churn/"


def _monitor(**props: object) -> ModelQualityMonitor:
    stack = bare_stack()
    return ModelQualityMonitor(
        stack,
        "Subject",
        ground_truth_uri=LABELS,
        problem_type="BinaryClassification",
        **props,  # type: ignore[arg-type]
        **monitor_props(stack, "model-quality"),
    )


def test_job_merges_labels_and_reads_the_probability_column() -> None:
    monitor = _monitor(ground_truth_offsets=("-PT337H", "-PT336H"))
    template(cdk.Stack.of(monitor)).has_resource_properties(
        "AWS::SageMaker::ModelQualityJobDefinition",
        {
            "ModelQualityAppSpecification": Match.object_like(
                {"ProblemType": "BinaryClassification"}
            ),
            "ModelQualityJobInput": {
                "EndpointInput": Match.object_like(
                    {"StartTimeOffset": "-PT337H", "EndTimeOffset": "-PT336H"}
                ),
                "GroundTruthS3Input": {"S3Uri": LABELS},
            },
        },
    )


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_monitor()) == snapshot_json

"""What the Model Monitor constructs' tests give them: the schedule and the job settings."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from ml_constructs import MonitorJobSettings
from tests.constructs.helpers import key, sagemaker_role

#: The monitored endpoint and where its reports and baselines are.
ENDPOINT = "ml-platform-test-churn"
REPORTS = "s3://test-reports/monitoring/churn"
BASELINE = "s3://test-reports/baselines/churn/3"
IMAGE = "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def monitor_props(stack: cdk.Stack, kind: str) -> dict[str, Any]:
    """Every prop of a :class:`ModelMonitor` but the type's own."""
    return {
        "endpoint_name": ENDPOINT,
        "schedule_name": f"{ENDPOINT}-{kind}",
        "schedule_expression": "cron(0 * ? * * *)",
        "image_uri": IMAGE,
        "baseline_uri": f"{BASELINE}/{kind}",
        "settings": MonitorJobSettings(
            role=sagemaker_role(stack),
            subnet_ids=["subnet-0123456789abcdef0"],
            security_group_ids=["sg-0123456789abcdef0"],
            key=key(stack),
            reports_uri=REPORTS,
        ),
    }

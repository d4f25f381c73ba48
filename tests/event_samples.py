"""AWS's documented sample events (``tests/events/``), filled with an environment's names.

Each file holds one sample as its documentation page publishes it (``sample``), the page
(``documentation``) and, where a field the platform relies on is documented on another
page, that page (``fields_documented_at``). The functions below copy a sample and fill only
the fields that name things (account, region, resources and the detail fields a rule or a
function reads); the rest stays AWS's.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent / "events"

#: (source, detail-type) -> the file of its sample.
SAMPLES = {
    ("aws.sagemaker", "SageMaker Processing Job State Change"): (
        "sagemaker_processing_job_state_change"
    ),
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): "cloudwatch_alarm_state_change",
    ("aws.s3", "Object Created"): "s3_object_created",
    ("aws.sagemaker", "SageMaker Model Package State Change"): (
        "sagemaker_model_package_state_change"
    ),
    ("aws.cloudformation", "CloudFormation Stack Status Change"): (
        "cloudformation_stack_status_change"
    ),
    ("aws.events", "Scheduled Event"): "scheduled_event",
}


def sample_file(name: str) -> dict[str, Any]:
    """The whole file: ``sample``, ``documentation`` and notes."""
    return json.loads((EVENTS / f"{name}.json").read_text())  # type: ignore[no-any-return]


def sample(name: str, *, account: str, region: str) -> dict[str, Any]:
    """A copy of the sample with a new id, in ``account`` and ``region``."""
    event = copy.deepcopy(sample_file(name)["sample"])
    event.update(id=str(uuid.uuid4()), account=account, region=region)
    return event


def monitoring_execution(
    *,
    account: str,
    region: str,
    schedule: str,
    endpoint: str,
    exit_message: str | None = (
        "CompletedWithViolations: Job completed successfully with 3 violations."
    ),
    status: str = "Completed",
) -> dict[str, Any]:
    """A Model Monitor execution of ``schedule`` that ended with ``status`` (a failed one
    keeps the sample's ``FailureReason``; ``exit_message`` ``None``: no ``ExitMessage``)."""
    event = sample("sagemaker_processing_job_state_change", account=account, region=region)
    job = f"model-monitoring-202611251200-{uuid.uuid4().hex[:24]}"
    job_arn = f"arn:aws:sagemaker:{region}:{account}:processing-job/{job}"
    detail = event["detail"]
    if status != "Failed":
        detail.pop("FailureReason", None)
    if exit_message is not None:
        detail["ExitMessage"] = exit_message
    detail.update(
        ProcessingJobName=job,
        ProcessingJobArn=job_arn,
        ProcessingJobStatus=status,
        MonitoringScheduleArn=(
            f"arn:aws:sagemaker:{region}:{account}:monitoring-schedule/{schedule}"
        ),
        Environment={
            "dataset_format": '{"sagemakerCaptureJson": {"captureIndexNames": '
            '["endpointInput","endpointOutput"]}}',
            "dataset_source": "/opt/ml/processing/endpointdata",
            "end_time": "2026-11-25T12:00:00Z",
            "output_path": "/opt/ml/processing/resultdata",
            "publish_cloudwatch_metrics": "Enabled",
            "sagemaker_endpoint_name": endpoint,
            "sagemaker_monitoring_schedule_name": schedule,
            "start_time": "2026-11-25T11:00:00Z",
        },
    )
    event["resources"] = [job_arn]
    return event


def alarm_state_change(
    *, account: str, region: str, alarm: str, state: str = "ALARM"
) -> dict[str, Any]:
    """Composite alarm ``alarm`` changed to ``state``."""
    event = sample("cloudwatch_alarm_state_change", account=account, region=region)
    event["resources"] = [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}"]
    event["detail"]["alarmName"] = alarm
    event["detail"]["state"]["value"] = state
    return event


def object_created(*, account: str, region: str, bucket: str, key: str) -> dict[str, Any]:
    """Object ``key`` was written to ``bucket``."""
    event = sample("s3_object_created", account=account, region=region)
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = key
    event["detail"]["requester"] = account
    return event


def package_state_change(
    *, account: str, region: str, group: str, version: int, status: str
) -> dict[str, Any]:
    """Version ``version`` of ``group`` changed to ``status``."""
    event = sample("sagemaker_model_package_state_change", account=account, region=region)
    arn = f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/{version}"
    event["resources"] = [arn]
    event["detail"].update(
        ModelPackageGroupName=group,
        ModelPackageVersion=version,
        ModelPackageArn=arn,
        ModelApprovalStatus=status,
    )
    return event


def stack_status_change(
    *, account: str, region: str, stack_id: str, status: str, token: str = ""
) -> dict[str, Any]:
    """Stack ``stack_id`` reached ``status`` (after the request ``token``)."""
    event = sample("cloudformation_stack_status_change", account=account, region=region)
    event["resources"] = [stack_id]
    event["detail"]["stack-id"] = stack_id
    event["detail"]["status-details"]["status"] = status
    event["detail"]["client-request-token"] = token
    return event


def scheduled_event(*, account: str, region: str, rule_arn: str) -> dict[str, Any]:
    """The event schedule rule ``rule_arn`` sends its targets."""
    event = sample("scheduled_event", account=account, region=region)
    event["resources"] = [rule_arn]
    return event


def sqs_event(*, body: str, queue_arn: str, region: str) -> dict[str, Any]:
    """Lambda's SQS event of one message with ``body`` from ``queue_arn``."""
    event = copy.deepcopy(sample_file("sqs_message")["sample"])
    record = event["Records"][0]
    record.update(
        messageId=str(uuid.uuid4()), body=body, eventSourceARN=queue_arn, awsRegion=region
    )
    return event

"""What every Model Monitor type shares: a job definition and its schedule on one endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_cdk import CfnResource, Fn
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

#: Where the monitor container reads captured requests and writes its report.
ENDPOINT_INPUT_PATH = "/opt/ml/processing/input/endpoint"
OUTPUT_PATH = "/opt/ml/processing/output"


@dataclass(frozen=True, kw_only=True)
class MonitorJobSettings:
    """How the monitoring jobs of an endpoint run.

    Attributes
    ----------
    role:
        Role the jobs act as: reads the capture data, baselines and ground truth, writes
        reports.
    subnet_ids, security_group_ids:
        The VPC the jobs run in (with network isolation, but for the monitor types that
        call AWS themselves: see ``ModelMonitor.NETWORK_ISOLATION``).
    key:
        KMS key of job volumes and reports.
    reports_uri:
        ``s3://`` prefix under which each monitor type writes its reports.
    instance_type, instance_count, volume_size_gb, max_runtime_seconds:
        The job's cluster and time limit (default one ``ml.m5.large``, 20 GB, one hour).
    """

    role: iam.IRole
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    key: kms.IKey
    reports_uri: str
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    volume_size_gb: int = 20
    max_runtime_seconds: int = 3600


class ModelMonitor(Construct):
    """A monitoring job definition of one type and the schedule running it on an endpoint.

    Subclasses name the CloudFormation type and fill the type-specific parts through the
    hooks :meth:`app_specification`, :meth:`endpoint_input`, :meth:`extra_job_input` and
    :meth:`baseline_config`; a platform team adds a monitor type the same way.

    Attributes
    ----------
    job_definition:
        The job definition (no physical name: a change replaces it, and the schedule
        follows the new one).
    schedule:
        The ``AWS::SageMaker::MonitoringSchedule``, named ``schedule_name``.
    schedule_name:
        Its name.

    Parameters
    ----------
    endpoint_name:
        The monitored endpoint (it must capture data).
    schedule_name:
        Physical name of the schedule.
    schedule_expression:
        ``cron(...)`` expression.
    image_uri:
        The monitor container (Model Monitor analyzer or Clarify), for the region.
    baseline_uri:
        ``s3://`` prefix of the baseline files the type reads (``constraints.json``, ...).
    settings:
        :class:`MonitorJobSettings`.
    """

    #: The CloudFormation type of the job definition, e.g. ``AWS::SageMaker::DataQualityJobDefinition``.
    RESOURCE_TYPE: ClassVar[str]
    #: The prefix of the type's property names and its ``MonitoringType``, e.g. ``DataQuality``.
    KIND: ClassVar[str]
    #: The folder of its reports under ``settings.reports_uri``.
    REPORT_FOLDER: ClassVar[str]
    #: Whether the job runs without network access (a type whose container calls AWS
    #: APIs itself turns it off; it still runs in the VPC).
    NETWORK_ISOLATION: ClassVar[bool] = True

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        schedule_name: str,
        schedule_expression: str,
        image_uri: str,
        baseline_uri: str,
        settings: MonitorJobSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedule_name = schedule_name
        kind = self.KIND
        properties = self._job_properties(endpoint_name, image_uri, baseline_uri, settings)
        self.job_definition = CfnResource(
            self, "JobDefinition", type=self.RESOURCE_TYPE, properties=properties
        )
        # The job definition's only attribute is its ARN: its name is the ARN's last part.
        definition_name = Fn.select(1, Fn.split("/", self.job_definition.ref))
        self.schedule = CfnResource(
            self,
            "Schedule",
            type="AWS::SageMaker::MonitoringSchedule",
            properties={
                "MonitoringScheduleName": schedule_name,
                "EndpointName": endpoint_name,
                "MonitoringScheduleConfig": {
                    "MonitoringJobDefinitionName": definition_name,
                    "MonitoringType": kind,
                    "ScheduleConfig": {"ScheduleExpression": schedule_expression},
                },
            },
        )

    def _job_properties(
        self, endpoint_name: str, image_uri: str, baseline_uri: str, settings: MonitorJobSettings
    ) -> dict[str, Any]:
        """The job definition's properties: the type's container, input, output, baseline."""
        kind = self.KIND
        properties: dict[str, Any] = {
            f"{kind}AppSpecification": self.app_specification(image_uri, baseline_uri),
            f"{kind}JobInput": {
                "EndpointInput": {
                    "EndpointName": endpoint_name,
                    "LocalPath": ENDPOINT_INPUT_PATH,
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                    **self.endpoint_input(),
                },
                **self.extra_job_input(),
            },
            f"{kind}JobOutputConfig": {
                "KmsKeyId": settings.key.key_arn,
                "MonitoringOutputs": [
                    {
                        "S3Output": {
                            "LocalPath": OUTPUT_PATH,
                            "S3Uri": f"{settings.reports_uri}/{self.REPORT_FOLDER}",
                            "S3UploadMode": "EndOfJob",
                        }
                    }
                ],
            },
            **self._job_run(settings),
            "EndpointName": endpoint_name,
        }
        baseline = self.baseline_config(baseline_uri)
        if baseline:
            properties[f"{kind}BaselineConfig"] = baseline
        return properties

    def _job_run(self, settings: MonitorJobSettings) -> dict[str, Any]:
        """Where and as whom the job runs: cluster, network, role, time limit."""
        return {
            "JobResources": {
                "ClusterConfig": {
                    "InstanceCount": settings.instance_count,
                    "InstanceType": settings.instance_type,
                    "VolumeSizeInGB": settings.volume_size_gb,
                    "VolumeKmsKeyId": settings.key.key_arn,
                }
            },
            "NetworkConfig": {
                "EnableNetworkIsolation": self.NETWORK_ISOLATION,
                "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": {
                    "SecurityGroupIds": list(settings.security_group_ids),
                    "Subnets": list(settings.subnet_ids),
                },
            },
            "RoleArn": settings.role.role_arn,
            "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
        }

    # The hook's signature is ModelMonitor's documented extension interface (overridden
    # outside the library, examples/custom_monitor): the bias and explainability monitors
    # read baseline_uri, this default does not.
    def app_specification(self, image_uri: str, baseline_uri: str) -> dict[str, Any]:  # noqa: ARG002
        """``<Kind>AppSpecification``: the container and its settings."""
        return {"ImageUri": image_uri}

    def endpoint_input(self) -> dict[str, Any]:
        """Extra keys of ``EndpointInput`` (which output columns hold what)."""
        return {}

    def extra_job_input(self) -> dict[str, Any]:
        """Extra keys of ``<Kind>JobInput`` (ground truth)."""
        return {}

    def baseline_config(self, baseline_uri: str) -> dict[str, Any]:
        """``<Kind>BaselineConfig``; empty for none."""
        return {"ConstraintsResource": {"S3Uri": f"{baseline_uri}/constraints.json"}}


def time_offsets(offsets: tuple[str, str] | None) -> dict[str, str]:
    """``EndpointInput``'s ``StartTimeOffset`` and ``EndTimeOffset`` (none without offsets)."""
    if offsets is None:
        return {}
    start, end = offsets
    return {"StartTimeOffset": start, "EndTimeOffset": end}

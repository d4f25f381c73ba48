"""``processing_only``: one processing job that prepares a model's data, nothing else.

The job runs the platform's own ``preprocess.py`` step script (scikit-learn container) on
the model's input prefix and writes the splits under
``s3://<artifacts bucket>/<pipeline>/<execution id>/prepare/<split>/``: a team that
refreshes a feature set on a schedule, and trains elsewhere, needs no more. Like the
built-in kinds, it is built offline with the SDK (``pipeline_definitions.offline_sdk``),
runs as the execution role in the VPC with the workload key, and its instance type is
checked against the SageMaker API's list of processing instance types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from pipeline_definitions.pipeline_kinds import PipelineKindPlugin
from platform_config.pipeline_spec import ProcessingInstanceType

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pipeline_definitions.pipeline_arguments import FeatureGroupSource, ServingInstanceTypes
    from pipeline_definitions.training_pipeline import StepCodeUris
    from platform_config.monitoring_spec import MonitoringSpec
    from platform_config.pipeline_spec import RegisteredPipelineSpec

#: The splits ``preprocess.py`` writes, one output each.
SPLITS = ("train", "validation", "test", "baseline")


class ProcessingOnlySettings(BaseModel):
    """The kind's own fields, under ``pipeline.settings``.

    Attributes
    ----------
    instance_type:
        Instance of the processing job (default ``ml.m5.xlarge``).
    target_column:
        The label column of the raw data (default ``target``).
    max_run_seconds:
        Longest run of the job (default 3600; 60 s to 1 day).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The configuration's own type: checked as a built-in kind's processing instance is.
    instance_type: ProcessingInstanceType = "ml.m5.xlarge"
    target_column: str = "target"
    max_run_seconds: int = Field(default=3600, ge=60, le=86400)


# The DefinitionBuilder protocol's arguments this kind does not use are marked noqa: ARG001.
def build_processing_only_pipeline(
    spec: RegisteredPipelineSpec,
    *,
    pipeline_name: str,
    region: str,
    role_arn: str,
    default_bucket: str,
    input_data_uri: str,
    model_package_group_name: str,  # noqa: ARG001
    kms_key_arn: str,
    subnet_ids: tuple[str, ...],
    security_group_ids: tuple[str, ...],
    code_uris: StepCodeUris,
    serving: ServingInstanceTypes | None = None,  # noqa: ARG001
    monitoring: MonitoringSpec | None = None,  # noqa: ARG001
    mlflow_tracking_server_arn: str | None = None,
    feature_groups: Mapping[str, FeatureGroupSource] | None = None,  # noqa: ARG001
) -> str:
    """Return the definition JSON of the one-step pipeline ``Prepare``, built offline.

    It registers no model, so ``serving`` and ``monitoring`` do not apply and its kind
    declares no baseline (its models get no monitor); it reads no feature group. Each
    execution is tracked in the environment's MLflow server, as every pipeline's. The SDK
    is imported here, when a definition is built, not when the catalogue is validated.
    """
    from examples.custom_pipeline_kind.processing_only_definition import prepare_pipeline

    settings: ProcessingOnlySettings = spec.settings
    return prepare_pipeline(
        settings,
        pipeline_name=pipeline_name,
        region=region,
        role_arn=role_arn,
        output_root=f"s3://{default_bucket}/{pipeline_name}",
        default_bucket=default_bucket,
        input_data_uri=input_data_uri,
        kms_key_arn=kms_key_arn,
        subnet_ids=subnet_ids,
        security_group_ids=security_group_ids,
        preprocess_uri=code_uris.preprocess,
        mlflow_tracking_server_arn=mlflow_tracking_server_arn,
    )


#: The plugin: no extra IAM statements (a processing job is what the execution role runs).
PROCESSING_ONLY = PipelineKindPlugin(
    name="processing_only",
    build=build_processing_only_pipeline,
    settings_model=ProcessingOnlySettings,
)

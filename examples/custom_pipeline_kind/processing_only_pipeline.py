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

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from pipeline_definitions.pipeline_kinds import PipelineKindPlugin
from platform_config.aws_facts import has_local_storage
from platform_config.pipeline_spec import ProcessingInstanceType

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pipeline_definitions.pipeline_arguments import FeatureGroupSource, ServingInstanceTypes
    from pipeline_definitions.training_pipeline import StepCodeUris
    from platform_config.monitoring_spec import MonitoringSpec
    from platform_config.pipeline_spec import RegisteredPipelineSpec

_PROCESSING = "/opt/ml/processing"
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


def build_processing_only_pipeline(
    spec: RegisteredPipelineSpec,
    *,
    pipeline_name: str,
    region: str,
    role_arn: str,
    default_bucket: str,
    input_data_uri: str,
    model_package_group_name: str,
    kms_key_arn: str,
    subnet_ids: tuple[str, ...],
    security_group_ids: tuple[str, ...],
    code_uris: StepCodeUris,
    serving: ServingInstanceTypes | None = None,
    monitoring: MonitoringSpec | None = None,
    mlflow_tracking_server_arn: str | None = None,
    feature_groups: Mapping[str, FeatureGroupSource] | None = None,
) -> str:
    """Return the definition JSON of the one-step pipeline ``Prepare``, built offline.

    It registers no model, so ``serving`` and ``monitoring`` do not apply and its kind
    declares no baseline (its models get no monitor); it reads no feature group. Each
    execution is tracked in the environment's MLflow server, as every pipeline's.
    """
    from pipeline_definitions import offline_sdk
    from pipeline_definitions.mlflow_tracking import mlflow_config

    offline_sdk.import_sdk()
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.mlops.workflow import Pipeline, ProcessingStep

    settings: ProcessingOnlySettings = spec.settings
    with offline_sdk.offline_pipeline_session(
        region=region, default_bucket=default_bucket
    ) as session:
        input_uri = ParameterString(name="InputDataUri", default_value=input_data_uri)
        processor = ScriptProcessor(
            role=role_arn,
            image_uri=offline_sdk.image_uri(
                framework="sklearn",
                region=region,
                version="1.2-1",
                image_scope="training",
                py_version="py3",
            ),
            command=["python3"],
            instance_type=settings.instance_type,
            instance_count=1,
            volume_size_in_gb=30,
            volume_kms_key=None if has_local_storage(settings.instance_type) else kms_key_arn,
            output_kms_key=kms_key_arn,
            max_runtime_in_seconds=settings.max_run_seconds,
            base_job_name="prepare",
            sagemaker_session=session,
            network_config=NetworkConfig(
                enable_network_isolation=True,
                security_group_ids=list(security_group_ids) or None,
                subnets=list(subnet_ids) or None,
                encrypt_inter_container_traffic=True,
            ),
        )
        outputs: list[Any] = [
            ProcessingOutput(
                output_name=split,
                s3_output=ProcessingS3Output(
                    s3_uri=Join(
                        on="/",
                        values=[
                            f"s3://{default_bucket}/{pipeline_name}",
                            ExecutionVariables.PIPELINE_EXECUTION_ID,
                            "prepare",
                            split,
                        ],
                    ),
                    local_path=f"{_PROCESSING}/output/{split}",
                    s3_upload_mode="EndOfJob",
                ),
            )
            for split in SPLITS
        ]
        step_args = processor.run(
            code=code_uris.preprocess,
            inputs=[
                ProcessingInput(
                    input_name="raw",
                    s3_input=ProcessingS3Input(
                        s3_uri=input_uri,
                        local_path=f"{_PROCESSING}/input/raw",
                        s3_data_type="S3Prefix",
                        s3_input_mode="File",
                        s3_data_distribution_type="FullyReplicated",
                    ),
                )
            ],
            outputs=outputs,
            arguments=[
                "--input-dir",
                f"{_PROCESSING}/input/raw",
                "--output-dir",
                f"{_PROCESSING}/output",
                "--target-column",
                settings.target_column,
                "--train-shards",
                "1",
            ],
        )
        pipeline = Pipeline(
            name=pipeline_name,
            parameters=[input_uri],
            steps=[ProcessingStep(name="Prepare", step_args=step_args)],
            sagemaker_session=session,
            pipeline_experiment_config=None,
            mlflow_config=mlflow_config(mlflow_tracking_server_arn, pipeline_name),
        )
        return str(pipeline.definition())


#: The plugin: no extra IAM statements (a processing job is what the execution role runs).
PROCESSING_ONLY = PipelineKindPlugin(
    name="processing_only",
    build=build_processing_only_pipeline,
    settings_model=ProcessingOnlySettings,
)

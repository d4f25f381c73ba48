"""The ``processing_only`` definition: the ``Prepare`` job, built offline with the SDK.

Imported by the kind's builder only, so that validating a catalogue that lists the plugin
does not import the ``sagemaker`` SDK.
"""

from __future__ import annotations

from collections.abc import Sequence

from examples.custom_pipeline_kind.processing_only_pipeline import SPLITS, ProcessingOnlySettings
from pipeline_definitions import offline_sdk
from pipeline_definitions.mlflow_tracking import mlflow_config
from platform_config.aws_facts import has_local_storage

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
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

_PROCESSING = "/opt/ml/processing"


def prepare_pipeline(
    settings: ProcessingOnlySettings,
    *,
    pipeline_name: str,
    region: str,
    role_arn: str,
    output_root: str,
    default_bucket: str,
    input_data_uri: str,
    kms_key_arn: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    preprocess_uri: str,
    mlflow_tracking_server_arn: str | None,
) -> str:
    """The pipeline ``Prepare``: ``preprocess.py`` over ``InputDataUri``, one output per split."""
    with offline_sdk.offline_pipeline_session(
        region=region, default_bucket=default_bucket
    ) as session:
        input_uri = ParameterString(name="InputDataUri", default_value=input_data_uri)
        processor = _processor(
            settings,
            session=session,
            region=region,
            role_arn=role_arn,
            kms_key_arn=kms_key_arn,
            network=NetworkConfig(
                enable_network_isolation=True,
                security_group_ids=list(security_group_ids) or None,
                subnets=list(subnet_ids) or None,
                encrypt_inter_container_traffic=True,
            ),
        )
        step_args = processor.run(
            code=preprocess_uri,
            inputs=[_raw_input(input_uri)],
            outputs=[_split_output(output_root, split) for split in SPLITS],
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


def _processor(
    settings: ProcessingOnlySettings,
    *,
    session: object,
    region: str,
    role_arn: str,
    kms_key_arn: str,
    network: NetworkConfig,
) -> ScriptProcessor:
    """The job: the platform's scikit-learn image, the workload key where the API takes it."""
    return ScriptProcessor(
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
        network_config=network,
    )


def _raw_input(input_uri: ParameterString) -> ProcessingInput:
    return ProcessingInput(
        input_name="raw",
        s3_input=ProcessingS3Input(
            s3_uri=input_uri,
            local_path=f"{_PROCESSING}/input/raw",
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        ),
    )


def _split_output(output_root: str, split: str) -> ProcessingOutput:
    """``<output root>/<execution id>/prepare/<split>``: one prefix per run."""
    uri = Join(
        on="/", values=[output_root, ExecutionVariables.PIPELINE_EXECUTION_ID, "prepare", split]
    )
    return ProcessingOutput(
        output_name=split,
        s3_output=ProcessingS3Output(
            s3_uri=uri, local_path=f"{_PROCESSING}/output/{split}", s3_upload_mode="EndOfJob"
        ),
    )

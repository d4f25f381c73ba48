"""The ``processing_only`` definition: the ``Prepare`` job, built offline with the SDK.

Imported by the kind's builder only, so that validating a catalogue that lists the plugin
does not import the ``sagemaker`` SDK.
"""

from __future__ import annotations

from collections.abc import Sequence

from examples.custom_pipeline_kind.processing_only_pipeline import SPLITS, ProcessingOnlySettings
from pipeline_definitions import offline_sdk
from pipeline_definitions.definition_parts import (
    PROCESSING_DIR,
    pipeline_definition,
    processing_network,
    run_output_uri,
    s3_input,
    s3_output,
    volume_kms_key,
)
from pipeline_definitions.pipeline_arguments import NetworkPlacement
from pipeline_definitions.training_pipeline import preprocess_command_line

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.network import NetworkConfig
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.mlops.workflow import ProcessingStep


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
            network=processing_network(
                NetworkPlacement(
                    subnet_ids=tuple(subnet_ids), security_group_ids=tuple(security_group_ids)
                ),
                isolated=True,
            ),
        )
        step_args = processor.run(
            code=preprocess_uri,
            inputs=[s3_input("raw", input_uri, f"{PROCESSING_DIR}/input/raw")],
            # One prefix per run: <output root>/<execution id>/prepare/<split>.
            outputs=[
                s3_output(
                    split,
                    f"{PROCESSING_DIR}/output/{split}",
                    run_output_uri(output_root, "prepare", split),
                )
                for split in SPLITS
            ],
            arguments=preprocess_command_line(settings.target_column, train_shards=1),
        )
        return pipeline_definition(
            name=pipeline_name,
            parameters=[input_uri],
            steps=[ProcessingStep(name="Prepare", step_args=step_args)],
            session=session,
            mlflow_tracking_server_arn=mlflow_tracking_server_arn,
        )


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
        volume_kms_key=volume_kms_key(settings.instance_type, kms_key_arn),
        output_kms_key=kms_key_arn,
        max_runtime_in_seconds=settings.max_run_seconds,
        base_job_name="prepare",
        sagemaker_session=session,
        network_config=network,
    )

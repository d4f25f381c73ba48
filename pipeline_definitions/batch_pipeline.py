"""The batch inference pipeline: one transform job over a data set, with a deployed model.

:func:`build_batch_pipeline` returns the JSON definition of a SageMaker pipeline with a
single ``BatchTransform`` step, built offline (see :mod:`pipeline_definitions.offline_sdk`)
for the CDK stacks to embed in ``AWS::SageMaker::Pipeline``. The same arguments always
give the same bytes.

The model is a SageMaker *model* named by the ``ModelName`` parameter: the deployment
workflow creates it from the approved model package, and whoever starts the pipeline
(a schedule, the arrival of new data) may name another one. The transform job runs with
the model's execution role, VPC configuration and network isolation:
``CreateTransformJob`` has none of its own, so the definition holds no role (the
pipeline's own role is a property of the ``AWS::SageMaker::Pipeline`` resource). The built-in XGBoost container answers ``text/csv`` rows
with one probability per line.

Predictions are written, encrypted with the KMS key, under
``s3://<output_bucket>/<pipeline_name>/<execution id>/predictions/``, one ``.out`` file
per input file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline_definitions import offline_sdk
from pipeline_definitions.definition_parts import (
    pipeline_definition,
    run_output_uri,
    volume_kms_key,
)
from pipeline_definitions.pipeline_arguments import (
    check_common_arguments,
    check_instance_type,
    check_int_range,
    check_pattern,
    check_s3_uri,
)
from pipeline_definitions.retry_policies import job_retry_policies
from platform_config.aws_facts import JobKind

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.transformer import Transformer
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.mlops.workflow import TransformStep

STEP_NAME = "BatchTransform"

_MODEL_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_CONTENT_TYPES = ("text/csv", "application/json", "application/jsonlines")


@dataclass(frozen=True, kw_only=True)
class BatchPipelineSettings:
    """Size and record handling of the batch transform job, checked on creation.

    Parameters
    ----------
    transform_instance_type:
        Default of the ``TransformInstanceType`` parameter; a batch transform instance
        type (Inferentia ``ml.inf2.*`` included). Default ``"ml.m5.xlarge"``.
    transform_instance_count:
        Instances of the transform job (1-100). Default ``1``.
    content_type:
        MIME type of the input records, one of ``text/csv``, ``application/json``,
        ``application/jsonlines``. Default ``"text/csv"``.
    accept:
        MIME type of the predictions, same choices. Default ``"text/csv"``.
    max_payload_mb:
        Largest mini-batch sent to the container, in MB (1-100). Default ``6``.
    max_concurrent_transforms:
        Parallel requests per instance (0 lets SageMaker choose, up to 100).
        Default ``0``.
    join_input_to_output:
        Write each input record followed by its prediction, instead of the prediction
        alone. Default ``False``.
    job_max_attempts:
        Attempts of the transform step on throttling, service faults and SageMaker
        capacity, resource-limit or internal errors (1-20). Default ``3``.
    """

    transform_instance_type: str = "ml.m5.xlarge"
    transform_instance_count: int = 1
    content_type: str = "text/csv"
    accept: str = "text/csv"
    max_payload_mb: int = 6
    max_concurrent_transforms: int = 0
    join_input_to_output: bool = False
    job_max_attempts: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_instance_type(
            f"{name}.transform_instance_type",
            self.transform_instance_type,
            JobKind.BATCH_TRANSFORM,
        )
        check_int_range(f"{name}.transform_instance_count", self.transform_instance_count, 1, 100)
        for field in ("content_type", "accept"):
            value = getattr(self, field)
            if value not in _CONTENT_TYPES:
                raise ValueError(
                    f"{name}.{field}={value!r} is not allowed; allowed: one of "
                    f"{', '.join(_CONTENT_TYPES)}"
                )
        check_int_range(f"{name}.max_payload_mb", self.max_payload_mb, 1, 100)
        check_int_range(f"{name}.max_concurrent_transforms", self.max_concurrent_transforms, 0, 100)
        check_int_range(f"{name}.job_max_attempts", self.job_max_attempts, 1, 20)


def build_batch_pipeline(
    *,
    pipeline_name: str,
    region: str,
    output_bucket: str,
    input_data_uri: str,
    model_name: str,
    kms_key_arn: str,
    settings: BatchPipelineSettings | None = None,
) -> str:
    """Return the batch inference pipeline's definition JSON, built offline.

    Parameters
    ----------
    pipeline_name:
        Name of the ``AWS::SageMaker::Pipeline``; also the S3 prefix of its outputs.
    region:
        Region the pipeline runs in.
    output_bucket:
        The data bucket that receives the predictions.
    input_data_uri:
        Default of the ``InputDataUri`` parameter: the ``s3://`` prefix of the records
        to score.
    model_name:
        Default of the ``ModelName`` parameter: the SageMaker model to run.
    kms_key_arn:
        KMS key (in ``region``) for the predictions and the instances' volumes.
    settings:
        Size and record handling. Default ``BatchPipelineSettings()``.

    Raises
    ------
    ValueError
        An argument is not allowed; the message names it, its value and what is.
    """
    settings = settings if settings is not None else BatchPipelineSettings()
    check_common_arguments(
        pipeline_name=pipeline_name,
        region=region,
        bucket=output_bucket,
        kms_key_arn=kms_key_arn,
        bucket_field="output_bucket",
    )
    check_s3_uri("input_data_uri", input_data_uri)
    check_pattern("model_name", model_name, _MODEL_NAME, "1-63 letters, digits and inner hyphens")

    with offline_sdk.offline_pipeline_session(
        region=region, default_bucket=output_bucket
    ) as session:
        input_data = ParameterString(name="InputDataUri", default_value=input_data_uri)
        model = ParameterString(name="ModelName", default_value=model_name)
        instance_type = ParameterString(
            name="TransformInstanceType", default_value=settings.transform_instance_type
        )
        transformer = _transformer(
            settings,
            model=model,
            instance_type=instance_type,
            output_root=f"s3://{output_bucket}/{pipeline_name}",
            kms_key_arn=kms_key_arn,
            session=session,
        )
        step_args = transformer.transform(
            data=input_data,
            data_type="S3Prefix",
            content_type=settings.content_type,
            split_type="Line" if settings.content_type != "application/json" else "None",
            join_source="Input" if settings.join_input_to_output else None,
        )
        # Not cached: the data behind the URI and the model behind the name both change.
        transform = TransformStep(
            name=STEP_NAME,
            step_args=step_args,
            retry_policies=job_retry_policies(settings.job_max_attempts),
        )
        return pipeline_definition(
            name=pipeline_name,
            parameters=[input_data, model, instance_type],
            steps=[transform],
            session=session,
        )


def _transformer(
    settings: BatchPipelineSettings,
    *,
    model: ParameterString,
    instance_type: ParameterString,
    output_root: str,
    kms_key_arn: str,
    session: object,
) -> Transformer:
    """The transform job: records in mini-batches, predictions under the run's prefix."""
    return Transformer(
        model_name=model,
        instance_count=settings.transform_instance_count,
        instance_type=instance_type,
        strategy="MultiRecord",
        assemble_with="Line",
        output_path=run_output_uri(output_root, "predictions"),
        output_kms_key=kms_key_arn,
        volume_kms_key=volume_kms_key(settings.transform_instance_type, kms_key_arn),
        accept=settings.accept,
        max_payload=settings.max_payload_mb,
        max_concurrent_transforms=settings.max_concurrent_transforms or None,
        base_transform_job_name="batch-transform",
        sagemaker_session=session,
    )

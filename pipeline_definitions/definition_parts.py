"""SDK pieces the pipeline builders share.

Where a run's outputs go (one prefix per execution), which volumes take the KMS key, the
training job of the kinds that train (fleet, placement, spot limits and checkpoints), the
network configuration the check steps must serialize themselves, and the pipeline's
definition JSON. A plugin's builder may use them too (``examples/custom_pipeline_kind``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pipeline_definitions import offline_sdk
from pipeline_definitions.mlflow_tracking import mlflow_config
from platform_config.aws_facts import has_local_storage

if TYPE_CHECKING:
    from pipeline_definitions.pipeline_arguments import NetworkPlacement

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.network import NetworkConfig
from sagemaker.core.shapes import (
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.mlops.workflow import Pipeline
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import (
    CheckpointConfig,
    Compute,
    Networking,
    OutputDataConfig,
    StoppingCondition,
)

#: The processing jobs' directory: their inputs and outputs are under it.
PROCESSING_DIR = "/opt/ml/processing"


class TrainingJobSpec(Protocol):
    """What a model's ``pipeline:`` section says of its training job (the training and
    fine-tuning kinds' specs)."""

    @property
    def training_instance_count(self) -> int: ...

    @property
    def use_spot(self) -> bool: ...

    @property
    def max_run_seconds(self) -> int: ...

    @property
    def max_wait_seconds(self) -> int: ...


def run_output_uri(output_root: str, *parts: str) -> Join:
    """``<output_root>/<execution id>/<parts>``: one prefix per run."""
    return Join(on="/", values=[output_root, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])


def s3_input(name: str, source: object, destination: str) -> ProcessingInput:
    """The processing job's input ``name``: the ``s3://`` prefix ``source`` (a value or an
    expression), copied whole to every instance's ``destination`` before the job starts."""
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source,
            local_path=destination,
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        ),
    )


def s3_output(name: str, source: str, destination: object) -> ProcessingOutput:
    """The processing job's output ``name``: its directory ``source``, uploaded to the
    ``s3://`` prefix ``destination`` when the job ends."""
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=destination, local_path=source, s3_upload_mode="EndOfJob"
        ),
    )


def volume_kms_key(instance_type: str, kms_key_arn: str) -> str | None:
    """The key of a job's volume; none on instance storage, which the hardware encrypts
    and where the API refuses a key."""
    return None if has_local_storage(instance_type) else kms_key_arn


def processing_network(network: NetworkPlacement, *, isolated: bool) -> NetworkConfig:
    """A processing job's placement, its traffic between instances encrypted."""
    return NetworkConfig(
        enable_network_isolation=isolated,
        security_group_ids=network.security_groups_or_none,
        subnets=network.subnets_or_none,
        encrypt_inter_container_traffic=True,
    )


def serializable_network(request: dict[str, object]) -> dict[str, object]:
    """``request`` with its ``NetworkConfig`` as the API's dictionary.

    The SDK's check steps (sagemaker 3.27) put the ``NetworkConfig`` object itself in the
    job's request, and ``Pipeline.definition()`` fails with "Object of type NetworkConfig
    is not JSON serializable"; the processing jobs convert it this way.
    """
    network = request.get("NetworkConfig")
    if isinstance(network, NetworkConfig):
        request["NetworkConfig"] = network._to_request_dict()
    return request


def training_compute(
    spec: TrainingJobSpec, *, instance_type: object, volume_size_gb: int, volume_key: str | None
) -> Compute:
    """The spec's fleet of ``instance_type`` (a type, or a pipeline parameter), with the
    volume key if there is one (see :func:`volume_kms_key`)."""
    compute = Compute(
        instance_type=instance_type,
        instance_count=spec.training_instance_count,
        volume_size_in_gb=volume_size_gb,
        enable_managed_spot_training=spec.use_spot,
    )
    if volume_key is not None:
        compute.volume_kms_key_id = volume_key
    return compute


def model_trainer(
    spec: TrainingJobSpec,
    *,
    session: object,
    role_arn: str,
    job: str,
    image: str,
    compute: Compute,
    network: NetworkPlacement,
    isolated: bool,
    output_root: str,
    output: str,
    kms_key_arn: str,
    hyperparameters: dict[str, object],
) -> ModelTrainer:
    """The training job: on spot with checkpoints if the spec says so, within its run
    limits, its model under ``<output_root>/<execution id>/<output>`` with the key."""
    return ModelTrainer(
        sagemaker_session=session,
        role=role_arn,
        base_job_name=job,
        training_image=image,
        compute=compute,
        networking=Networking(
            subnets=network.subnets_or_none,
            security_group_ids=network.security_groups_or_none,
            enable_network_isolation=isolated,
            enable_inter_container_traffic_encryption=True,
        ),
        stopping_condition=(
            StoppingCondition(
                max_runtime_in_seconds=spec.max_run_seconds,
                max_wait_time_in_seconds=spec.max_wait_seconds,
            )
            if spec.use_spot
            else StoppingCondition(max_runtime_in_seconds=spec.max_run_seconds)
        ),
        output_data_config=OutputDataConfig(
            s3_output_path=run_output_uri(output_root, output), kms_key_id=kms_key_arn
        ),
        # One checkpoint prefix per run: a run must never resume from the checkpoints of
        # an earlier run.
        checkpoint_config=(
            CheckpointConfig(
                s3_uri=run_output_uri(output_root, "checkpoints"),
                local_path="/opt/ml/checkpoints",
            )
            if spec.use_spot
            else None
        ),
        hyperparameters=hyperparameters,
    )


def pipeline_definition(
    *,
    name: str,
    parameters: Sequence[object],
    steps: Sequence[object],
    session: object,
    mlflow_tracking_server_arn: str | None = None,
) -> str:
    """The definition JSON of the pipeline ``name``, tracked in MLflow if a server is given.

    Build it inside the ``offline_pipeline_session`` block that gave ``session``.
    """
    pipeline = Pipeline(
        name=name,
        parameters=list(parameters),
        steps=list(steps),
        sagemaker_session=session,
        # The default creates an Experiments trial per run, in some regions only: the
        # definition would depend on the region for no benefit here.
        pipeline_experiment_config=None,
        mlflow_config=mlflow_config(mlflow_tracking_server_arn, name),
    )
    definition: str = pipeline.definition()
    return definition

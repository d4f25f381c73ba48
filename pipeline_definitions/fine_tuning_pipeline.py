"""The fine-tuning pipeline: a pinned foundation model fine-tuned on GPU or Trainium.

:func:`build_fine_tuning_pipeline` returns the JSON definition of a SageMaker pipeline,
built offline (see :mod:`pipeline_definitions.offline_sdk`), for the CDK stacks to embed in
``AWS::SageMaker::Pipeline``. The same arguments always give the same bytes.

The DAG::

    FineTune ──► RegisterModel (PendingManualApproval)

``FineTune`` is one training job that runs the base model's own JumpStart training script
(``entry_point`` of the archive ``source_key``) in the training image pinned for it, on
NVIDIA GPUs (``ml.g*``/``ml.p*``) or AWS Trainium (``ml.trn*``, Neuron image). Its
channels: ``training`` (the ``InputDataUri`` parameter: the fine-tuning data set in the
layout the JumpStart script documents), ``model`` (the base model's weights from the
region's JumpStart bucket; for gated models with ``ModelAccessConfig.AcceptEula``, which
records that the licence was accepted in the configuration) and ``code`` (the script
archive). The job runs with network isolation, so its container cannot reach S3: SageMaker
copies every channel in before the container starts ("Run Training and Inference
Containers in Internet-Free Mode", SageMaker developer guide), and the training toolkit
unpacks ``sagemaker_submit_directory`` from the ``code`` channel's local path, as
JumpStart's own training specs set it (:data:`SUBMIT_DIRECTORY`). Epochs and batch size are
hyperparameters under the names the script reads. With ``torchrun`` the SageMaker training
toolkit launches one process per GPU or NeuronCore on every instance
(``sagemaker_torch_distributed_enabled``), which Neuron training requires.

Everything that identifies the base model is pinned in ``foundation_models.json``:
nothing fetches JumpStart metadata at synth. There is no metric gate: a fine-tuned
language model is judged by people (and offline evaluations) before approval, so every
version is registered pending manual approval, with the serving image pinned for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline_definitions import offline_sdk
from pipeline_definitions.job_instance_types import (
    JobKind,
    check_instance_type,
    has_instance_storage,
)
from pipeline_definitions.mlflow_tracking import mlflow_config, package_metadata
from pipeline_definitions.pipeline_arguments import (
    ServingInstanceTypes,
    check_int_range,
    check_mlflow_tracking_server_arn,
    check_registering_pipeline,
)
from pipeline_definitions.retry_policies import job_retry_policies, step_retry_policy
from platform_config.foundation_models import FoundationModel, foundation_models

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.shapes import Channel, DataSource, ModelAccessConfig, S3DataSource
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.mlops.workflow import ModelStep, Pipeline, TrainingStep
from sagemaker.serve import ModelBuilder
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import (
    CheckpointConfig,
    Compute,
    Networking,
    OutputDataConfig,
    StoppingCondition,
)

APPROVAL_STATUS = "PendingManualApproval"
"""Every model version is registered pending a person's approval."""

STEP_NAMES = ("FineTune", "RegisterModel")
"""The pipeline's step names."""

CODE_CHANNEL = "code"
"""The input channel of the script archive."""

SUBMIT_DIRECTORY = f"/opt/ml/input/data/{CODE_CHANNEL}/sourcedir.tar.gz"
"""Where the container finds the script archive: the ``code`` channel, copied in by
SageMaker (a network-isolated container cannot download an ``s3://`` URI itself)."""

_MAX_RUN_SECONDS = 28 * 24 * 3600


@dataclass(frozen=True, kw_only=True)
class FineTuningPipelineSettings:
    """The base model, the fleet and the training loop, checked on creation.

    Parameters
    ----------
    base_model:
        A JumpStart model id pinned in ``foundation_models.json`` (required).
    accept_eula:
        The base model's licence was accepted; required for gated models. Default
        ``False``.
    training_instance_type:
        One of the base model's supported training types. Default: its first one.
    training_instance_count:
        Instances of the training job (1-100). Default ``1``.
    torchrun:
        One process per GPU or NeuronCore on each instance; required on Trainium.
        Default ``False``.
    epochs:
        Passes over the data set (1-100). Default ``1``.
    batch_size:
        Per-device batch size (1-1024). Default ``4``.
    volume_size_gb:
        EBS volume of the job, in GB (1-16384); ignored on instance storage. Default
        ``200``.
    use_spot_training:
        Managed spot capacity, with checkpoints. Default ``False``.
    max_run_seconds, max_wait_seconds:
        ``MaxRuntimeInSeconds`` (1 s to 28 days; default ``36000``) and, with spot,
        ``MaxWaitTimeInSeconds`` (greater; default ``72000``).
    job_max_attempts:
        Attempts of the training step on throttling, service faults and SageMaker
        capacity, resource-limit or internal errors (1-20). Default ``3``.
    """

    base_model: str
    accept_eula: bool = False
    training_instance_type: str | None = None
    training_instance_count: int = 1
    torchrun: bool = False
    epochs: int = 1
    batch_size: int = 4
    volume_size_gb: int = 200
    use_spot_training: bool = False
    max_run_seconds: int = 36000
    max_wait_seconds: int = 72000
    job_max_attempts: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        models = foundation_models()
        if self.base_model not in models:
            raise ValueError(
                f"{name}.base_model={self.base_model!r} is not allowed; allowed: one of "
                f"{', '.join(models)} (foundation_models.json)"
            )
        model = models[self.base_model]
        if model.gated and self.accept_eula is not True:
            raise ValueError(
                f"{name}.accept_eula={self.accept_eula!r} is not allowed for the gated model "
                f"{self.base_model}; allowed: True, once its licence is accepted"
            )
        check_instance_type(
            field=f"{name}.training_instance_type", value=self.instance_type, kind=JobKind.TRAINING
        )
        if self.instance_type not in model.instance_types:
            raise ValueError(
                f"{name}.training_instance_type={self.instance_type!r} is not allowed for "
                f"{self.base_model}; allowed: {', '.join(model.instance_types)}"
            )
        if model.accelerator == "neuron" and not self.torchrun:
            raise ValueError(
                f"{name}.torchrun=False is not allowed on Trainium; allowed: True (Neuron "
                "training runs one process per NeuronCore)"
            )
        check_int_range(f"{name}.training_instance_count", self.training_instance_count, 1, 100)
        check_int_range(f"{name}.epochs", self.epochs, 1, 100)
        check_int_range(f"{name}.batch_size", self.batch_size, 1, 1024)
        check_int_range(f"{name}.volume_size_gb", self.volume_size_gb, 1, 16384)
        check_int_range(f"{name}.max_run_seconds", self.max_run_seconds, 1, _MAX_RUN_SECONDS)
        check_int_range(f"{name}.job_max_attempts", self.job_max_attempts, 1, 20)
        if self.use_spot_training and not (
            isinstance(self.max_wait_seconds, int)
            and self.max_run_seconds < self.max_wait_seconds <= _MAX_RUN_SECONDS
        ):
            raise ValueError(
                f"{name}.max_wait_seconds={self.max_wait_seconds!r} is not allowed with "
                f"use_spot_training=True; allowed: an integer greater than max_run_seconds="
                f"{self.max_run_seconds}, at most {_MAX_RUN_SECONDS}"
            )

    @property
    def model(self) -> FoundationModel:
        return foundation_models()[self.base_model]

    @property
    def instance_type(self) -> str:
        return self.training_instance_type or self.model.instance_types[0]


def build_fine_tuning_pipeline(
    *,
    pipeline_name: str,
    region: str,
    role_arn: str,
    default_bucket: str,
    model_package_group_name: str,
    kms_key_arn: str,
    settings: FineTuningPipelineSettings,
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
    input_data_uri: str | None = None,
    serving: ServingInstanceTypes = ServingInstanceTypes(),
    mlflow_tracking_server_arn: str | None = None,
) -> str:
    """Return the fine-tuning pipeline's definition JSON, built offline.

    Parameters
    ----------
    pipeline_name:
        Name of the ``AWS::SageMaker::Pipeline``; also the S3 prefix of its outputs.
    region:
        Region the pipeline runs in; the images and the JumpStart bucket depend on it.
    role_arn:
        Execution role of the training job and of the model (a full IAM role ARN).
    default_bucket:
        Bucket of every output, under ``s3://<bucket>/<pipeline_name>/<execution id>/``.
    model_package_group_name:
        Model package group the fine-tuned model is registered in, pending approval.
    kms_key_arn:
        KMS key (in ``region``) for the job's volume and outputs.
    settings:
        :class:`FineTuningPipelineSettings`.
    subnet_ids, security_group_ids:
        VPC placement of the job: both given, or both empty. Default ``()``.
    input_data_uri:
        Default of the ``InputDataUri`` parameter. Default
        ``s3://<default_bucket>/<pipeline_name>/input/``.
    serving:
        The instance types the model is served on, in every environment, recorded on each
        package. Default: none recorded.
    mlflow_tracking_server_arn:
        The environment's MLflow tracking server: each execution is tracked there
        (:mod:`pipeline_definitions.mlflow_tracking`). Default ``None``.

    Raises
    ------
    ValueError
        An argument is not allowed, or an image or the JumpStart bucket is not published
        in ``region``; the message says which.
    """
    network, input_data_uri = check_registering_pipeline(
        pipeline_name=pipeline_name,
        region=region,
        default_bucket=default_bucket,
        kms_key_arn=kms_key_arn,
        role_arn=role_arn,
        model_package_group_name=model_package_group_name,
        subnet_ids=subnet_ids,
        security_group_ids=security_group_ids,
        input_data_uri=input_data_uri,
    )
    check_mlflow_tracking_server_arn(mlflow_tracking_server_arn)
    model = settings.model
    training_image = model.training_image.uri(region)
    inference_image = model.inference_image.uri(region)

    with offline_sdk.offline_pipeline_session(
        region=region, default_bucket=default_bucket
    ) as session:
        input_data = ParameterString(name="InputDataUri", default_value=input_data_uri)

        def output_uri(part: str) -> Join:
            return Join(
                on="/",
                values=[
                    f"s3://{default_bucket}/{pipeline_name}",
                    ExecutionVariables.PIPELINE_EXECUTION_ID,
                    part,
                ],
            )

        compute = Compute(
            instance_type=settings.instance_type,
            instance_count=settings.training_instance_count,
            volume_size_in_gb=settings.volume_size_gb,
            enable_managed_spot_training=settings.use_spot_training,
        )
        # Instance storage is encrypted by the hardware; the API refuses a key there.
        if not has_instance_storage(settings.instance_type):
            compute.volume_kms_key_id = kms_key_arn
        hyperparameters: dict[str, object] = {
            model.epochs_hyperparameter: settings.epochs,
            model.batch_size_hyperparameter: settings.batch_size,
            "sagemaker_program": model.entry_point,
            "sagemaker_submit_directory": SUBMIT_DIRECTORY,
        }
        if settings.torchrun:
            hyperparameters["sagemaker_torch_distributed_enabled"] = "true"
        trainer = ModelTrainer(
            sagemaker_session=session,
            role=role_arn,
            base_job_name="fine-tune",
            training_image=training_image,
            compute=compute,
            networking=Networking(
                subnets=network.subnets_or_none,
                security_group_ids=network.security_groups_or_none,
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
            ),
            stopping_condition=(
                StoppingCondition(
                    max_runtime_in_seconds=settings.max_run_seconds,
                    max_wait_time_in_seconds=settings.max_wait_seconds,
                )
                if settings.use_spot_training
                else StoppingCondition(max_runtime_in_seconds=settings.max_run_seconds)
            ),
            output_data_config=OutputDataConfig(
                s3_output_path=output_uri("fine-tuning"), kms_key_id=kms_key_arn
            ),
            checkpoint_config=(
                CheckpointConfig(s3_uri=output_uri("checkpoints"), local_path="/opt/ml/checkpoints")
                if settings.use_spot_training
                else None
            ),
            hyperparameters=hyperparameters,
        )
        step_args = trainer.train(input_data_config=_channels(model, region, input_data))
        # Not cached: the data behind InputDataUri changes between runs.
        fine_tune = TrainingStep(
            name="FineTune",
            step_args=step_args,
            retry_policies=job_retry_policies(settings.job_max_attempts),
        )
        builder = ModelBuilder(
            image_uri=inference_image,
            s3_model_data_url=fine_tune.properties.ModelArtifacts.S3ModelArtifacts,
            role_arn=role_arn,
            sagemaker_session=session,
            dependencies={},
        )
        register = ModelStep(
            name="RegisterModel",
            step_args=builder.register(
                model_package_group_name=model_package_group_name,
                content_types=["application/json"],
                response_types=["application/json"],
                inference_instances=list(serving.real_time) or None,
                transform_instances=list(serving.transform) or None,
                customer_metadata_properties=package_metadata(mlflow_tracking_server_arn),
                approval_status=APPROVAL_STATUS,
            ),
            retry_policies=[step_retry_policy(settings.job_max_attempts)],
        )
        pipeline = Pipeline(
            name=pipeline_name,
            parameters=[input_data],
            steps=[fine_tune, register],
            sagemaker_session=session,
            pipeline_experiment_config=None,
            mlflow_config=mlflow_config(mlflow_tracking_server_arn, pipeline_name),
        )
        return pipeline.definition()


def _channels(model: FoundationModel, region: str, input_data: ParameterString) -> list[Channel]:
    """``training`` (the data set), ``model`` (the base weights) and ``code`` (the script)."""

    def s3_prefix(uri: str | ParameterString) -> S3DataSource:
        return S3DataSource(
            s3_data_type="S3Prefix", s3_uri=uri, s3_data_distribution_type="FullyReplicated"
        )

    weights = s3_prefix(model.artifacts_uri(region))
    if model.gated:
        weights.model_access_config = ModelAccessConfig(accept_eula=True)
    sources = {
        "training": s3_prefix(input_data),
        "model": weights,
        # The archive itself: SageMaker copies it to SUBMIT_DIRECTORY.
        CODE_CHANNEL: s3_prefix(model.source_uri(region)),
    }
    return [
        Channel(channel_name=name, data_source=DataSource(s3_data_source=source), input_mode="File")
        for name, source in sources.items()
    ]

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
from pipeline_definitions.definition_parts import (
    model_trainer,
    pipeline_definition,
    training_compute,
    volume_kms_key,
)
from pipeline_definitions.model_registration import register_step
from pipeline_definitions.pipeline_arguments import (
    NetworkPlacement,
    ServingInstanceTypes,
    check_int_range,
    check_registering_pipeline,
)
from pipeline_definitions.retry_policies import job_retry_policies
from platform_config.foundation_models import FoundationModel
from platform_config.pipeline_spec import Distribution, FineTuningPipelineSpec

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.shapes import Channel, DataSource, ModelAccessConfig, S3DataSource
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.mlops.workflow import TrainingStep
from sagemaker.train import ModelTrainer

STEP_NAMES = ("FineTune", "RegisterModel")
"""The pipeline's step names."""

CODE_CHANNEL = "code"
"""The input channel of the script archive."""

SUBMIT_DIRECTORY = f"/opt/ml/input/data/{CODE_CHANNEL}/sourcedir.tar.gz"
"""Where the container finds the script archive: the ``code`` channel, copied in by
SageMaker (a network-isolated container cannot download an ``s3://`` URI itself)."""


@dataclass(frozen=True, kw_only=True)
class FineTuningPipelineSettings:
    """What the fine-tuning pipeline fixes beyond the model's configuration, checked on
    creation.

    The model's own settings (base model, licence, fleet, distribution, epochs, batch size,
    spot and run limits) are its validated
    :class:`~platform_config.pipeline_spec.FineTuningPipelineSpec`.

    Parameters
    ----------
    volume_size_gb:
        EBS volume of the job, in GB (1-16384); ignored on instance storage. Default
        ``200``.
    job_max_attempts:
        Attempts of the training step on throttling, service faults and SageMaker
        capacity, resource-limit or internal errors (1-20). Default ``3``.
    """

    volume_size_gb: int = 200
    job_max_attempts: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_int_range(f"{name}.volume_size_gb", self.volume_size_gb, 1, 16384)
        check_int_range(f"{name}.job_max_attempts", self.job_max_attempts, 1, 20)


def build_fine_tuning_pipeline(
    *,
    spec: FineTuningPipelineSpec,
    pipeline_name: str,
    region: str,
    role_arn: str,
    default_bucket: str,
    model_package_group_name: str,
    kms_key_arn: str,
    settings: FineTuningPipelineSettings = FineTuningPipelineSettings(),
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
    input_data_uri: str | None = None,
    serving: ServingInstanceTypes = ServingInstanceTypes(),
    mlflow_tracking_server_arn: str | None = None,
) -> str:
    """Return the fine-tuning pipeline's definition JSON, built offline.

    Parameters
    ----------
    spec:
        The model's validated ``pipeline:`` section (base model, fleet, distribution,
        epochs, batch size, spot and run limits), used as it is.
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
        What the builder fixes beyond the spec. Default ``FineTuningPipelineSettings()``.
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
        mlflow_tracking_server_arn=mlflow_tracking_server_arn,
    )
    model = spec.foundation_model
    # Raised here, before the session: an image not published in the region.
    training_image = model.training_image.uri(region)
    inference_image = model.inference_image.uri(region)
    with offline_sdk.offline_pipeline_session(
        region=region, default_bucket=default_bucket
    ) as session:
        input_data = ParameterString(name="InputDataUri", default_value=input_data_uri)
        job = _Job(
            spec=spec,
            settings=settings,
            output_root=f"s3://{default_bucket}/{pipeline_name}",
            kms_key_arn=kms_key_arn,
            network=network,
        )
        trainer = job.trainer(session=session, role_arn=role_arn, image=training_image)
        step_args = trainer.train(input_data_config=_channels(model, region, input_data))
        # Not cached: the data behind InputDataUri changes between runs.
        fine_tune = TrainingStep(
            name="FineTune",
            step_args=step_args,
            retry_policies=job_retry_policies(settings.job_max_attempts),
        )
        register = register_step(
            session=session,
            role_arn=role_arn,
            image_uri=inference_image,
            model_data_url=fine_tune.properties.ModelArtifacts.S3ModelArtifacts,
            model_package_group_name=model_package_group_name,
            content_type="application/json",
            serving=serving,
            mlflow_tracking_server_arn=mlflow_tracking_server_arn,
            max_attempts=settings.job_max_attempts,
        )
        return pipeline_definition(
            name=pipeline_name,
            parameters=[input_data],
            steps=[fine_tune, register],
            session=session,
            mlflow_tracking_server_arn=mlflow_tracking_server_arn,
        )


@dataclass(frozen=True, kw_only=True)
class _Job:
    """The fine-tuning job of one definition: fleet, limits, outputs, hyperparameters."""

    spec: FineTuningPipelineSpec
    settings: FineTuningPipelineSettings
    output_root: str
    kms_key_arn: str
    network: NetworkPlacement

    def trainer(self, *, session: object, role_arn: str, image: str) -> ModelTrainer:
        """The base model's own training script in its pinned image."""
        spec = self.spec
        return model_trainer(
            spec,
            session=session,
            role_arn=role_arn,
            job="fine-tune",
            image=image,
            compute=training_compute(
                spec,
                instance_type=spec.training_instance_type,
                volume_size_gb=self.settings.volume_size_gb,
                volume_key=volume_kms_key(spec.training_instance_type, self.kms_key_arn),
            ),
            network=self.network,
            isolated=True,
            output_root=self.output_root,
            output="fine-tuning",
            kms_key_arn=self.kms_key_arn,
            hyperparameters=self.hyperparameters(),
        )

    def hyperparameters(self) -> dict[str, object]:
        """Epochs and batch size under the script's names; the script and its archive."""
        spec, model = self.spec, self.spec.foundation_model
        hyperparameters: dict[str, object] = {
            model.epochs_hyperparameter: spec.epochs,
            model.batch_size_hyperparameter: spec.batch_size,
            "sagemaker_program": model.entry_point,
            "sagemaker_submit_directory": SUBMIT_DIRECTORY,
        }
        if spec.distribution is Distribution.TORCHRUN:
            hyperparameters["sagemaker_torch_distributed_enabled"] = "true"
        return hyperparameters


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

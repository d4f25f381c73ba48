"""The training pipeline: preprocess, train (managed spot), evaluate, gate, register.

:func:`build_training_pipeline` returns the JSON definition of a SageMaker pipeline, built
offline with the ``sagemaker`` SDK v3 (see :mod:`pipeline_definitions.offline_sdk`), for
the CDK stacks to embed in ``AWS::SageMaker::Pipeline``. The same arguments always give
the same bytes: no clock, no random value, no user name, no AWS call.

The DAG::

    Preprocess ──► Train ──► Evaluate ──► CheckAucThreshold
    (cached)       (spot,                  ├─ AUC >= threshold:
                   checkpoints)            │    DataQualityBaseline ─┐
                                           │    ModelQualityBaseline ┴► RegisterModel
                                           └─ otherwise: AucBelowThreshold (FailStep)

Contract with the step scripts (``pipeline_definitions/steps/``), by container path:

``preprocess.py`` (scikit-learn container), run as ``python3 preprocess.py
--input-dir /opt/ml/processing/input/raw --output-dir /opt/ml/processing/output
--target-column <settings.target_column>``
    reads the raw CSVs; writes headerless CSVs, label first (the XGBoost layout), to
    ``<output-dir>/{train,validation,test}/`` and the data-quality baseline (features
    only, header row) to ``<output-dir>/baseline/``.
``evaluate.py`` (XGBoost container), run as ``python3 evaluate.py --model-dir
/opt/ml/processing/model --test-dir /opt/ml/processing/test --evaluation-dir
/opt/ml/processing/evaluation --predictions-dir /opt/ml/processing/predictions``
    writes ``evaluation.json`` with ``binary_classification_metrics.auc.value`` (read by
    the gate, attached to the model package) and ``predictions.csv`` with the header
    ``label,probability,prediction`` (the model-quality baseline).

Training uses the built-in XGBoost *algorithm* (``objective=binary:logistic``), configured
by hyperparameters only; the container itself writes and resumes from checkpoints in
``/opt/ml/checkpoints``. ``train.py`` and ``inference.py`` (script mode) are not used:
``ModelTrainer`` runs a script by packaging a drivers directory and uploading it to S3
while the definition is generated, which cannot be done offline, and the XGBoost
container's own script mode needs a ``sourcedir.tar.gz`` in S3, not a ``.py`` URI. The
registered model is the built-in XGBoost inference container over the trained
artifact, which serves ``text/csv`` without an inference script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline_definitions import offline_sdk
from pipeline_definitions.job_instance_types import (
    JobKind,
    check_instance_type,
    check_xgboost_training_instance_type,
    has_instance_storage,
)

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.drift_check_baselines import DriftCheckBaselines  # noqa: E402
from sagemaker.core.model_metrics import MetricsSource, ModelMetrics  # noqa: E402
from sagemaker.core.model_monitor.dataset_format import DatasetFormat  # noqa: E402
from sagemaker.core.network import NetworkConfig  # noqa: E402
from sagemaker.core.processing import ScriptProcessor  # noqa: E402
from sagemaker.core.shapes import (  # noqa: E402
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo  # noqa: E402
from sagemaker.core.workflow.execution_variables import ExecutionVariables  # noqa: E402
from sagemaker.core.workflow.functions import Join, JsonGet  # noqa: E402
from sagemaker.core.workflow.parameters import (  # noqa: E402
    ParameterBoolean,
    ParameterFloat,
    ParameterString,
)
from sagemaker.core.workflow.pipeline_context import PipelineSession  # noqa: E402
from sagemaker.core.workflow.properties import PropertyFile  # noqa: E402
from sagemaker.mlops.workflow import (  # noqa: E402
    CacheConfig,
    CheckJobConfig,
    ConditionStep,
    FailStep,
    ModelStep,
    Pipeline,
    ProcessingStep,
    QualityCheckStep,
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
    TrainingStep,
)
from sagemaker.mlops.workflow.quality_check_step import (  # noqa: E402
    DataQualityCheckConfig,
    ModelQualityCheckConfig,
)
from sagemaker.serve import ModelBuilder  # noqa: E402
from sagemaker.train import ModelTrainer  # noqa: E402
from sagemaker.train.configs import (  # noqa: E402
    CheckpointConfig,
    Compute,
    InputData,
    Networking,
    OutputDataConfig,
    StoppingCondition,
)

APPROVAL_STATUS = "PendingManualApproval"
"""Every model version is registered pending a person's approval."""

AUC_JSON_PATH = "binary_classification_metrics.auc.value"
"""Where the AUC sits in ``evaluation.json``."""

EVALUATION_REPORT_NAME = "evaluation.json"

_PROCESSING_ROOT = "/opt/ml/processing"
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/[a-zA-Z0-9\-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
_MAX_TRAINING_SECONDS = 28 * 24 * 3600


@dataclass(frozen=True, kw_only=True)
class StepCodeUris:
    """Where the step scripts are in S3 (uploaded by the CDK app as assets).

    Parameters
    ----------
    preprocess:
        ``s3://`` URI of ``preprocess.py``, run in the scikit-learn container.
    evaluate:
        ``s3://`` URI of ``evaluate.py``, run in the XGBoost container.
    """

    preprocess: str
    evaluate: str

    def __post_init__(self) -> None:
        for name in ("preprocess", "evaluate"):
            _check_s3_uri(f"StepCodeUris.{name}", getattr(self, name), suffix=".py")


@dataclass(frozen=True, kw_only=True)
class TrainingPipelineSettings:
    """Sizes, limits and thresholds of the training pipeline, validated on creation.

    Every field has a default; a bad value raises ``ValueError`` naming the field, the
    value and what is allowed.

    Parameters
    ----------
    processing_instance_type:
        Default of the ``ProcessingInstanceType`` parameter, used by preprocess and
        evaluate. Default ``"ml.m5.xlarge"``.
    processing_instance_count:
        Instances per processing job. Default ``1``.
    training_instance_type:
        Default of the ``TrainingInstanceType`` parameter; a CPU or NVIDIA GPU training
        type, not burstable. Default ``"ml.m5.xlarge"``.
    training_instance_count:
        Instances in the training job. Default ``1``.
    quality_check_instance_type:
        Instance type of the data- and model-quality baseline jobs. Default
        ``"ml.m5.xlarge"``.
    volume_size_gb:
        EBS volume of every job, in GB (1 to 16384). Default ``30``.
    use_spot_training:
        Train on managed spot capacity, resuming from checkpoints. Default ``True``.
    max_run_seconds:
        ``MaxRuntimeInSeconds`` of the training job (1 to 28 days). Default ``3600``.
    max_wait_seconds:
        ``MaxWaitTimeInSeconds`` (spot only): run time plus time waiting for spot
        capacity; must exceed ``max_run_seconds``. Default ``7200``.
    processing_max_run_seconds:
        ``MaxRuntimeInSeconds`` of each processing job. Default ``3600``.
    auc_threshold:
        Default of the ``AucThreshold`` parameter: the minimum test AUC, in [0, 1], for
        a model to be registered. Default ``0.75``.
    xgboost_version:
        Version of the built-in XGBoost container (training, evaluation, inference).
        Default ``"1.7-1"``.
    sklearn_version:
        Version of the scikit-learn processing container. Default ``"1.2-1"``.
    num_round, max_depth, eta, subsample, min_child_weight:
        XGBoost hyperparameters. Defaults ``100``, ``5``, ``0.2``, ``0.8``, ``1.0``.
    inference_instance_types:
        Real-time instance types recorded on the model package. Default
        ``("ml.m5.large", "ml.m5.xlarge")``.
    transform_instance_types:
        Batch transform instance types recorded on the model package. Default
        ``("ml.m5.xlarge",)``.
    enable_network_isolation:
        Run every job without outbound network access. Default ``True``.
    cache_preprocessing_for:
        ISO 8601 duration for which a preprocess run with identical arguments is reused,
        or ``None`` for no caching. The cache key is the step's arguments, not the
        data: point ``InputDataUri`` at an immutable, versioned prefix. Default
        ``"P30D"``.
    job_max_attempts:
        Attempts of each job step on throttling, service faults and SageMaker capacity,
        limit or internal errors (1 to 20). Default ``3``.
    """

    processing_instance_type: str = "ml.m5.xlarge"
    processing_instance_count: int = 1
    training_instance_type: str = "ml.m5.xlarge"
    training_instance_count: int = 1
    quality_check_instance_type: str = "ml.m5.xlarge"
    volume_size_gb: int = 30
    use_spot_training: bool = True
    max_run_seconds: int = 3600
    max_wait_seconds: int = 7200
    processing_max_run_seconds: int = 3600
    auc_threshold: float = 0.75
    xgboost_version: str = "1.7-1"
    sklearn_version: str = "1.2-1"
    num_round: int = 100
    max_depth: int = 5
    eta: float = 0.2
    subsample: float = 0.8
    min_child_weight: float = 1.0
    inference_instance_types: tuple[str, ...] = ("ml.m5.large", "ml.m5.xlarge")
    transform_instance_types: tuple[str, ...] = ("ml.m5.xlarge",)
    enable_network_isolation: bool = True
    cache_preprocessing_for: str | None = "P30D"
    job_max_attempts: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_instance_type(
            field=f"{name}.processing_instance_type",
            value=self.processing_instance_type,
            kind=JobKind.PROCESSING,
        )
        check_xgboost_training_instance_type(
            field=f"{name}.training_instance_type", value=self.training_instance_type
        )
        check_instance_type(
            field=f"{name}.quality_check_instance_type",
            value=self.quality_check_instance_type,
            kind=JobKind.PROCESSING,
        )
        for value in self.inference_instance_types:
            check_instance_type(
                field=f"{name}.inference_instance_types",
                value=value,
                kind=JobKind.REAL_TIME_INFERENCE,
            )
        for value in self.transform_instance_types:
            check_instance_type(
                field=f"{name}.transform_instance_types", value=value, kind=JobKind.TRANSFORM
            )
        _check_range(f"{name}.processing_instance_count", self.processing_instance_count, 1, 100)
        _check_range(f"{name}.training_instance_count", self.training_instance_count, 1, 100)
        _check_range(f"{name}.volume_size_gb", self.volume_size_gb, 1, 16384)
        _check_range(f"{name}.max_run_seconds", self.max_run_seconds, 1, _MAX_TRAINING_SECONDS)
        _check_range(
            f"{name}.processing_max_run_seconds",
            self.processing_max_run_seconds,
            1,
            5 * 24 * 3600,
        )
        if self.use_spot_training:
            if not self.max_wait_seconds > self.max_run_seconds:
                raise ValueError(
                    f"{name}.max_wait_seconds={self.max_wait_seconds!r} must be greater than "
                    f"max_run_seconds={self.max_run_seconds!r} when use_spot_training is on "
                    "(it is run time plus time waiting for spot capacity); allowed: "
                    f"{self.max_run_seconds + 1} to {_MAX_TRAINING_SECONDS}"
                )
            _check_range(
                f"{name}.max_wait_seconds", self.max_wait_seconds, 1, _MAX_TRAINING_SECONDS
            )
        _check_unit_interval(f"{name}.auc_threshold", self.auc_threshold, closed=True)
        _check_unit_interval(f"{name}.eta", self.eta, closed=False)
        _check_unit_interval(f"{name}.subsample", self.subsample, closed=False)
        _check_range(f"{name}.num_round", self.num_round, 1, 100_000)
        _check_range(f"{name}.max_depth", self.max_depth, 1, 64)
        if not (isinstance(self.min_child_weight, int | float) and self.min_child_weight >= 0):
            raise ValueError(
                f"{name}.min_child_weight={self.min_child_weight!r} is not allowed; "
                "allowed: a number >= 0"
            )
        _check_range(f"{name}.job_max_attempts", self.job_max_attempts, 1, 20)
        if self.cache_preprocessing_for is not None and not _ISO_DURATION.match(
            self.cache_preprocessing_for
        ):
            raise ValueError(
                f"{name}.cache_preprocessing_for={self.cache_preprocessing_for!r} is not an "
                "ISO 8601 duration; allowed: e.g. 'P30D', 'PT12H', or None for no caching"
            )


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """VPC placement of the pipeline's jobs; both lists empty means no VPC.

    Parameters
    ----------
    subnet_ids:
        Private subnets for the jobs. Default ``()``.
    security_group_ids:
        Security groups for the jobs. Default ``()``.
    """

    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            raise ValueError(
                f"NetworkSettings: subnet_ids={list(self.subnet_ids)!r} and "
                f"security_group_ids={list(self.security_group_ids)!r}: allowed: both "
                "non-empty (jobs in a VPC) or both empty (no VPC)"
            )
        for value in self.subnet_ids:
            _check_pattern("NetworkSettings.subnet_ids", value, _SUBNET, "subnet-<hex>")
        for value in self.security_group_ids:
            _check_pattern("NetworkSettings.security_group_ids", value, _SECURITY_GROUP, "sg-<hex>")

    @property
    def in_vpc(self) -> bool:
        """Whether the jobs run in a VPC."""
        return bool(self.subnet_ids)


@dataclass(frozen=True)
class _Context:
    """What every step builder needs: the session, the identity and where to write."""

    session: PipelineSession
    region: str
    role_arn: str
    kms_key_arn: str
    settings: TrainingPipelineSettings
    network: NetworkSettings
    output_root: str
    retry_policies: list[object] = field(default_factory=list)

    def output_uri(self, *parts: str) -> Join:
        """``s3://<bucket>/<pipeline>/<execution id>/<parts...>``: one prefix per run."""
        return Join(on="/", values=[self.output_root, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def volume_kms_key(self, instance_type: str) -> str | None:
        """The KMS key for a job's EBS volume; none for instance storage (the API refuses it)."""
        return None if has_instance_storage(instance_type) else self.kms_key_arn

    def processing_network(self) -> NetworkConfig:
        return NetworkConfig(
            enable_network_isolation=self.settings.enable_network_isolation,
            security_group_ids=list(self.network.security_group_ids) or None,
            subnets=list(self.network.subnet_ids) or None,
            encrypt_inter_container_traffic=True,
        )


def build_training_pipeline(
    *,
    pipeline_name: str,
    region: str,
    role_arn: str,
    default_bucket: str,
    code_uris: StepCodeUris,
    model_package_group_name: str,
    kms_key_arn: str,
    network: NetworkSettings | None = None,
    settings: TrainingPipelineSettings | None = None,
    input_data_uri: str | None = None,
) -> str:
    """Return the training pipeline's definition JSON, built offline.

    Parameters
    ----------
    pipeline_name:
        Name of the ``AWS::SageMaker::Pipeline``; also the S3 prefix of every output.
    region:
        Region the pipeline runs in; image URIs depend on it.
    role_arn:
        Execution role of the pipeline's jobs and of the model (a full IAM role ARN).
    default_bucket:
        Bucket for every output: ``s3://<bucket>/<pipeline_name>/<execution id>/...``.
    code_uris:
        ``s3://`` URIs of the step scripts.
    model_package_group_name:
        Model package group the model is registered in, ``PendingManualApproval``.
    kms_key_arn:
        KMS key for job volumes and outputs.
    network:
        VPC placement of the jobs. Default: no VPC.
    settings:
        Sizes, limits and thresholds. Default: ``TrainingPipelineSettings()``.
    input_data_uri:
        Default of the ``InputDataUri`` parameter. Default
        ``s3://<bucket>/<pipeline_name>/input/``.

    Raises
    ------
    ValueError
        An argument is malformed; the message names it, its value and what is allowed.
    """
    settings = settings if settings is not None else TrainingPipelineSettings()
    network = network if network is not None else NetworkSettings()
    _check_pattern("pipeline_name", pipeline_name, _PIPELINE_NAME, "1-256 letters, digits, hyphens")
    _check_pattern("region", region, _REGION, "an AWS region name such as 'eu-west-1'")
    _check_pattern("role_arn", role_arn, _ROLE_ARN, "arn:aws:iam::<account>:role/<name>")
    _check_pattern("default_bucket", default_bucket, _BUCKET, "an S3 bucket name")
    _check_pattern("model_package_group_name", model_package_group_name, _PIPELINE_NAME, "1-63 letters, digits, hyphens")
    _check_pattern("kms_key_arn", kms_key_arn, _KMS_KEY_ARN, "arn:aws:kms:<region>:<account>:key/<id>")
    if input_data_uri is None:
        input_data_uri = f"s3://{default_bucket}/{pipeline_name}/input/"
    _check_s3_uri("input_data_uri", input_data_uri)

    with offline_sdk.offline_pipeline_session(region=region, default_bucket=default_bucket) as session:
        ctx = _Context(
            session=session,
            region=region,
            role_arn=role_arn,
            kms_key_arn=kms_key_arn,
            settings=settings,
            network=network,
            output_root=f"s3://{default_bucket}/{pipeline_name}",
        )
        params = _Parameters(settings, input_data_uri)
        preprocess = _preprocess_step(ctx, params, code_uris)
        train = _train_step(ctx, params, preprocess)
        evaluation_report = PropertyFile(
            name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT_NAME
        )
        evaluate = _evaluate_step(ctx, params, code_uris, preprocess, train, evaluation_report)
        auc = JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=AUC_JSON_PATH)
        data_quality = _data_quality_step(ctx, params, preprocess, model_package_group_name)
        model_quality = _model_quality_step(ctx, params, evaluate, model_package_group_name)
        register = _register_step(
            ctx, train, evaluate, data_quality, model_quality, model_package_group_name
        )
        below_threshold = FailStep(
            name="AucBelowThreshold",
            error_message=Join(
                on=" ",
                values=[
                    f"Model not registered: test AUC ({AUC_JSON_PATH} in {EVALUATION_REPORT_NAME}) =",
                    auc,
                    "is below the AucThreshold parameter =",
                    params.auc_threshold,
                ],
            ),
        )
        gate = ConditionStep(
            name="CheckAucThreshold",
            conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=params.auc_threshold)],
            if_steps=[data_quality, model_quality, register],
            else_steps=[below_threshold],
        )
        pipeline = Pipeline(
            name=pipeline_name,
            parameters=params.all(),
            steps=[preprocess, train, evaluate, gate],
            sagemaker_session=session,
            pipeline_experiment_config=None,
        )
        return pipeline.definition()


class _Parameters:
    """The pipeline parameters a run can override, with defaults from the settings."""

    def __init__(self, settings: TrainingPipelineSettings, input_data_uri: str) -> None:
        self.input_data_uri = ParameterString(name="InputDataUri", default_value=input_data_uri)
        self.processing_instance_type = ParameterString(
            name="ProcessingInstanceType", default_value=settings.processing_instance_type
        )
        self.training_instance_type = ParameterString(
            name="TrainingInstanceType", default_value=settings.training_instance_type
        )
        self.auc_threshold = ParameterFloat(name="AucThreshold", default_value=settings.auc_threshold)
        # First run of a model package group: no approved baseline to check against yet,
        # so start it with SkipDriftCheck=true and RegisterNewBaseline=true.
        self.skip_drift_check = ParameterBoolean(name="SkipDriftCheck", default_value=False)
        self.register_new_baseline = ParameterBoolean(name="RegisterNewBaseline", default_value=False)

    def all(self) -> list[object]:
        return [
            self.input_data_uri,
            self.processing_instance_type,
            self.training_instance_type,
            self.auc_threshold,
            self.skip_drift_check,
            self.register_new_baseline,
        ]


def _job_retry_policies(settings: TrainingPipelineSettings) -> list[object]:
    """Retry on throttling and service faults, and on SageMaker capacity, limit and internal errors."""
    return [
        StepRetryPolicy(
            exception_types=[StepExceptionTypeEnum.THROTTLING, StepExceptionTypeEnum.SERVICE_FAULT],
            interval_seconds=10,
            backoff_rate=2.0,
            max_attempts=settings.job_max_attempts,
        ),
        SageMakerJobStepRetryPolicy(
            exception_types=[
                SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT,
                SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
            ],
            interval_seconds=60,
            backoff_rate=2.0,
            max_attempts=settings.job_max_attempts,
        ),
    ]


def _s3_input(name: str, source: object, destination: str) -> ProcessingInput:
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


def _s3_output(name: str, source: str, destination: object) -> ProcessingOutput:
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(s3_uri=destination, local_path=source, s3_upload_mode="EndOfJob"),
    )


def _preprocess_step(ctx: _Context, params: _Parameters, code_uris: StepCodeUris) -> ProcessingStep:
    settings = ctx.settings
    processor = ScriptProcessor(
        role=ctx.role_arn,
        image_uri=offline_sdk.image_uri(
            framework="sklearn",
            region=ctx.region,
            version=settings.sklearn_version,
            image_scope="training",
            py_version="py3",
            instance_type=settings.processing_instance_type,
        ),
        command=["python3"],
        instance_type=params.processing_instance_type,
        instance_count=settings.processing_instance_count,
        volume_size_in_gb=settings.volume_size_gb,
        volume_kms_key=ctx.volume_kms_key(settings.processing_instance_type),
        output_kms_key=ctx.kms_key_arn,
        max_runtime_in_seconds=settings.processing_max_run_seconds,
        base_job_name="preprocess",
        sagemaker_session=ctx.session,
        network_config=ctx.processing_network(),
    )
    step_args = processor.run(
        code=code_uris.preprocess,
        inputs=[_s3_input("raw", params.input_data_uri, f"{_PROCESSING_ROOT}/input/raw")],
        outputs=[
            _s3_output(split, f"{_PROCESSING_ROOT}/output/{split}", ctx.output_uri("preprocess", split))
            for split in ("train", "validation", "test", "baseline")
        ],
    )
    cache = (
        CacheConfig(enable_caching=True, expire_after=settings.cache_preprocessing_for)
        if settings.cache_preprocessing_for
        else None
    )
    return ProcessingStep(
        name="Preprocess",
        step_args=step_args,
        cache_config=cache,
        retry_policies=_job_retry_policies(settings),
    )


def _split_uri(step: ProcessingStep, split: str) -> object:
    return step.properties.ProcessingOutputConfig.Outputs[split].S3Output.S3Uri


def _train_step(ctx: _Context, params: _Parameters, preprocess: ProcessingStep) -> TrainingStep:
    settings = ctx.settings
    stopping = (
        StoppingCondition(
            max_runtime_in_seconds=settings.max_run_seconds,
            max_wait_time_in_seconds=settings.max_wait_seconds,
        )
        if settings.use_spot_training
        else StoppingCondition(max_runtime_in_seconds=settings.max_run_seconds)
    )
    compute_args: dict[str, object] = {
        "instance_type": params.training_instance_type,
        "instance_count": settings.training_instance_count,
        "volume_size_in_gb": settings.volume_size_gb,
        "enable_managed_spot_training": settings.use_spot_training,
    }
    volume_key = ctx.volume_kms_key(settings.training_instance_type)
    if volume_key is not None:
        compute_args["volume_kms_key_id"] = volume_key
    trainer = ModelTrainer(
        sagemaker_session=ctx.session,
        role=ctx.role_arn,
        base_job_name="train",
        training_image=offline_sdk.image_uri(
            framework="xgboost",
            region=ctx.region,
            version=settings.xgboost_version,
            image_scope="training",
        ),
        compute=Compute(**compute_args),
        networking=Networking(
            subnets=list(ctx.network.subnet_ids) or None,
            security_group_ids=list(ctx.network.security_group_ids) or None,
            enable_network_isolation=settings.enable_network_isolation,
            enable_inter_container_traffic_encryption=True,
        ),
        stopping_condition=stopping,
        output_data_config=OutputDataConfig(
            s3_output_path=ctx.output_uri("training"), kms_key_id=ctx.kms_key_arn
        ),
        # One checkpoint prefix per execution: a new run must never resume from the
        # checkpoints of an earlier one.
        checkpoint_config=(
            CheckpointConfig(s3_uri=ctx.output_uri("checkpoints"), local_path="/opt/ml/checkpoints")
            if settings.use_spot_training
            else None
        ),
        hyperparameters={
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "num_round": settings.num_round,
            "max_depth": settings.max_depth,
            "eta": settings.eta,
            "subsample": settings.subsample,
            "min_child_weight": settings.min_child_weight,
        },
        environment={},
        tags=[],
    )
    step_args = trainer.train(
        input_data_config=[
            InputData(channel_name="train", data_source=_split_uri(preprocess, "train"), content_type="text/csv"),
            InputData(
                channel_name="validation",
                data_source=_split_uri(preprocess, "validation"),
                content_type="text/csv",
            ),
        ]
    )
    # Not cached: a cache hit would skip training on data that changed at the same URI.
    return TrainingStep(name="Train", step_args=step_args, retry_policies=_job_retry_policies(settings))


def _evaluate_step(
    ctx: _Context,
    params: _Parameters,
    code_uris: StepCodeUris,
    preprocess: ProcessingStep,
    train: TrainingStep,
    evaluation_report: PropertyFile,
) -> ProcessingStep:
    settings = ctx.settings
    processor = ScriptProcessor(
        role=ctx.role_arn,
        image_uri=offline_sdk.image_uri(
            framework="xgboost",
            region=ctx.region,
            version=settings.xgboost_version,
            image_scope="training",
        ),
        command=["python3"],
        instance_type=params.processing_instance_type,
        instance_count=1,
        volume_size_in_gb=settings.volume_size_gb,
        volume_kms_key=ctx.volume_kms_key(settings.processing_instance_type),
        output_kms_key=ctx.kms_key_arn,
        max_runtime_in_seconds=settings.processing_max_run_seconds,
        base_job_name="evaluate",
        sagemaker_session=ctx.session,
        network_config=ctx.processing_network(),
    )
    step_args = processor.run(
        code=code_uris.evaluate,
        inputs=[
            _s3_input("model", train.properties.ModelArtifacts.S3ModelArtifacts, f"{_PROCESSING_ROOT}/model"),
            _s3_input("test", _split_uri(preprocess, "test"), f"{_PROCESSING_ROOT}/test"),
        ],
        outputs=[
            _s3_output("evaluation", f"{_PROCESSING_ROOT}/evaluation", ctx.output_uri("evaluation")),
            _s3_output("predictions", f"{_PROCESSING_ROOT}/predictions", ctx.output_uri("predictions")),
        ],
    )
    # Not cached: its inputs are this run's model, so a hit is impossible anyway.
    return ProcessingStep(
        name="Evaluate",
        step_args=step_args,
        property_files=[evaluation_report],
        retry_policies=_job_retry_policies(settings),
    )


def _check_job_config(ctx: _Context, base_job_name: str) -> CheckJobConfig:
    instance_type = ctx.settings.quality_check_instance_type
    return CheckJobConfig(
        role=ctx.role_arn,
        instance_count=1,
        instance_type=instance_type,
        volume_size_in_gb=ctx.settings.volume_size_gb,
        volume_kms_key=ctx.volume_kms_key(instance_type),
        output_kms_key=ctx.kms_key_arn,
        max_runtime_in_seconds=ctx.settings.processing_max_run_seconds,
        base_job_name=base_job_name,
        sagemaker_session=ctx.session,
        network_config=ctx.processing_network(),
    )


class _QualityCheckStep(QualityCheckStep):
    """``QualityCheckStep`` whose job's ``NetworkConfig`` serializes.

    In sagemaker 3.27 ``_build_check_job_request`` puts the ``NetworkConfig`` object
    itself in the request, and ``Pipeline.definition()`` fails with "Object of type
    NetworkConfig is not JSON serializable"; convert it as the processing jobs do.
    """

    @property
    def arguments(self) -> dict[str, object]:
        request: dict[str, object] = super().arguments
        network = request.get("NetworkConfig")
        if isinstance(network, NetworkConfig):
            request["NetworkConfig"] = network._to_request_dict()  # noqa: SLF001
        return request


def _data_quality_step(
    ctx: _Context, params: _Parameters, preprocess: ProcessingStep, model_package_group_name: str
) -> QualityCheckStep:
    return _QualityCheckStep(
        name="DataQualityBaseline",
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=_split_uri(preprocess, "baseline"),
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=ctx.output_uri("data-quality-baseline"),
        ),
        check_job_config=_check_job_config(ctx, "data-quality-baseline"),
        skip_check=params.skip_drift_check,
        register_new_baseline=params.register_new_baseline,
        model_package_group_name=model_package_group_name,
    )


def _model_quality_step(
    ctx: _Context, params: _Parameters, evaluate: ProcessingStep, model_package_group_name: str
) -> QualityCheckStep:
    return _QualityCheckStep(
        name="ModelQualityBaseline",
        quality_check_config=ModelQualityCheckConfig(
            baseline_dataset=evaluate.properties.ProcessingOutputConfig.Outputs["predictions"].S3Output.S3Uri,
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=ctx.output_uri("model-quality-baseline"),
            problem_type="BinaryClassification",
            inference_attribute="prediction",
            probability_attribute="probability",
            ground_truth_attribute="label",
        ),
        check_job_config=_check_job_config(ctx, "model-quality-baseline"),
        skip_check=params.skip_drift_check,
        register_new_baseline=params.register_new_baseline,
        model_package_group_name=model_package_group_name,
    )


def _register_step(
    ctx: _Context,
    train: TrainingStep,
    evaluate: ProcessingStep,
    data_quality: QualityCheckStep,
    model_quality: QualityCheckStep,
    model_package_group_name: str,
) -> ModelStep:
    settings = ctx.settings
    evaluation_uri = Join(
        on="/",
        values=[
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
            EVALUATION_REPORT_NAME,
        ],
    )
    model_metrics = ModelMetrics(
        model_statistics=MetricsSource(s3_uri=evaluation_uri, content_type="application/json"),
        model_data_statistics=MetricsSource(
            s3_uri=data_quality.properties.CalculatedBaselineStatistics, content_type="application/json"
        ),
        model_data_constraints=MetricsSource(
            s3_uri=data_quality.properties.CalculatedBaselineConstraints, content_type="application/json"
        ),
        model_constraints=MetricsSource(
            s3_uri=model_quality.properties.CalculatedBaselineConstraints, content_type="application/json"
        ),
    )
    drift_check_baselines = DriftCheckBaselines(
        model_data_statistics=MetricsSource(
            s3_uri=data_quality.properties.BaselineUsedForDriftCheckStatistics,
            content_type="application/json",
        ),
        model_data_constraints=MetricsSource(
            s3_uri=data_quality.properties.BaselineUsedForDriftCheckConstraints,
            content_type="application/json",
        ),
        model_statistics=MetricsSource(
            s3_uri=model_quality.properties.BaselineUsedForDriftCheckStatistics,
            content_type="application/json",
        ),
        model_constraints=MetricsSource(
            s3_uri=model_quality.properties.BaselineUsedForDriftCheckConstraints,
            content_type="application/json",
        ),
    )
    builder = ModelBuilder(
        image_uri=offline_sdk.image_uri(
            framework="xgboost",
            region=ctx.region,
            version=settings.xgboost_version,
            image_scope="inference",
        ),
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=ctx.role_arn,
        sagemaker_session=ctx.session,
    )
    step_args = builder.register(
        model_package_group_name=model_package_group_name,
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=list(settings.inference_instance_types),
        transform_instances=list(settings.transform_instance_types),
        model_metrics=model_metrics,
        drift_check_baselines=drift_check_baselines,
        approval_status=APPROVAL_STATUS,
    )
    # ModelStep takes no SageMakerJobStepRetryPolicy (it runs no job), only step retries.
    return ModelStep(
        name="RegisterModel",
        step_args=step_args,
        retry_policies=_job_retry_policies(settings)[:1],
    )


def _check_range(field_name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{field_name}={value!r} is not allowed; allowed: an integer from {low} to {high}")


def _check_unit_interval(field_name: str, value: object, *, closed: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = 0.0 <= number <= 1.0 if closed else 0.0 < number <= 1.0
    if not ok:
        allowed = "a number in [0, 1]" if closed else "a number in (0, 1]"
        raise ValueError(f"{field_name}={value!r} is not allowed; allowed: {allowed}")


def _check_pattern(field_name: str, value: object, pattern: re.Pattern[str], allowed: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{field_name}={value!r} is not allowed; allowed: {allowed}")


def _check_s3_uri(field_name: str, value: object, *, suffix: str = "") -> None:
    if not isinstance(value, str) or not _S3_URI.match(value) or not value.endswith(suffix):
        what = f"an s3:// URI of a {suffix} file" if suffix else "an s3://<bucket>/<key> URI"
        raise ValueError(f"{field_name}={value!r} is not allowed; allowed: {what}")

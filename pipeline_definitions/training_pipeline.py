"""The training pipeline: preprocess, train (managed spot), evaluate, gate, register.

:func:`build_training_pipeline` returns the JSON definition of a SageMaker pipeline, built
offline with the ``sagemaker`` SDK v3 (see :mod:`pipeline_definitions.offline_sdk`), for
the CDK stacks to embed in ``AWS::SageMaker::Pipeline``. The same arguments always give
the same bytes: no clock, no random value, no user name, no AWS call.

The DAG::

    [FeatureStoreDataset] ──► Preprocess ──► Train ──► Evaluate ──► CheckAucThreshold
    (only with a feature      (cached)       (spot,                  ├─ AUC >= threshold:
     group as the source)                    checkpoints)            │    DataQualityBaseline ──┐
                                                                     │    ModelQualityBaseline ─┤
                                                                     │    CreateModel ──► ModelBiasCheck ─┤
                                                                     │                └► ModelExplainabilityCheck
                                                                     │    ──► RegisterModel
                                                                     └─ otherwise: AucBelowThreshold (FailStep)

The check steps (data quality, model quality and, when the model's monitors need them,
Clarify model bias and explainability) take ``SkipDriftCheck`` and ``RegisterNewBaseline``,
whose meaning, default and per-trigger values are those of
``platform_contracts/retraining.py`` (see ``docs/retraining.md``). Every check's result is
registered with the package (``ModelMetrics``), and the baselines the monitors compare live
traffic with are its ``DriftCheckBaselines``.

With ``mlflow_tracking_server_arn``, each execution is tracked by SageMaker Pipelines in
the MLflow experiment named after the pipeline (the definition's ``MlflowConfig``), and the
package records the server, the experiment and the execution in its
``CustomerMetadataProperties``. The jobs themselves log nothing to MLflow: they run with
network isolation (no route to the tracking server) and the built-in XGBoost algorithm has
no MLflow client.

Contract with the step scripts (``pipeline_definitions/steps/``), by container path:

``feature_store_dataset.py`` (scikit-learn container, network isolation off), with a
feature group as the training source: reads the labels under ``InputDataUri`` and the
group's offline store (Athena), writes ``dataset.csv`` (features then label), which
Preprocess reads instead of ``InputDataUri``.
``preprocess.py`` (scikit-learn container), run as ``python3 preprocess.py
--input-dir /opt/ml/processing/input/raw --output-dir /opt/ml/processing/output
--target-column <spec.target_column> --train-shards <n>`` (n is the training instance
count when ``spec.distribution`` is ``sharded_by_s3_key``, else 1), plus the Clarify options of
:meth:`ClarifyChecks.preprocess_arguments`
    reads the raw CSVs; writes headerless CSVs, label first (the XGBoost layout), to
    ``<output-dir>/{train,validation,test}/``, the data-quality baseline (features
    only, header row) to ``<output-dir>/baseline/``, the feature schema to
    ``<output-dir>/schema/`` and the Clarify analysis configurations to
    ``<output-dir>/clarify-*/``.
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline_definitions import offline_sdk
from pipeline_definitions.clarify_checks import (
    BIAS_CONFIG_OUTPUT,
    BIAS_MONITOR_CONFIG,
    EXPLAINABILITY_CONFIG_OUTPUT,
    EXPLAINABILITY_MONITOR_CONFIG,
    MONITOR_CONFIG_OUTPUT,
    ClarifyChecks,
    RuntimeConfigClarifyCheckStep,
    data_config,
)
from pipeline_definitions.definition_parts import (
    PROCESSING_DIR,
    model_trainer,
    pipeline_definition,
    processing_network,
    run_output_uri,
    s3_input,
    s3_output,
    serializable_network,
    training_compute,
    volume_kms_key,
)
from pipeline_definitions.model_registration import register_step
from pipeline_definitions.pipeline_arguments import (
    ISO_DURATION,
    FeatureGroupSource,
    NetworkPlacement,
    ServingInstanceTypes,
    check_fraction,
    check_instance_type,
    check_int_range,
    check_pattern,
    check_registering_pipeline,
    check_s3_uri,
)
from pipeline_definitions.retry_policies import job_retry_policies, step_retry_policy
from platform_config.aws_facts import JobKind
from platform_config.pipeline_spec import Distribution, TrainingPipelineSpec
from platform_contracts.retraining import (
    DEFAULT_RUN,
    INPUT_DATA_URI,
    REGISTER_NEW_BASELINE,
    SKIP_DRIFT_CHECK,
)

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.clarify import BiasConfig, SHAPConfig
from sagemaker.core.drift_check_baselines import DriftCheckBaselines
from sagemaker.core.model_metrics import FileSource, MetricsSource, ModelMetrics
from sagemaker.core.model_monitor.dataset_format import DatasetFormat
from sagemaker.core.network import NetworkConfig
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import (
    Channel,
    DataSource,
    S3DataSource,
)
from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import (
    ParameterBoolean,
    ParameterFloat,
    ParameterString,
)
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow import (
    CacheConfig,
    CheckJobConfig,
    ConditionStep,
    FailStep,
    ModelStep,
    ProcessingStep,
    QualityCheckStep,
    TrainingStep,
)
from sagemaker.mlops.workflow.clarify_check_step import (
    ClarifyCheckStep,
    ModelBiasCheckConfig,
    ModelExplainabilityCheckConfig,
)
from sagemaker.mlops.workflow.quality_check_step import (
    DataQualityCheckConfig,
    ModelQualityCheckConfig,
)
from sagemaker.serve import ModelBuilder
from sagemaker.train.configs import (
    InputData,
    Networking,
)

AUC_JSON_PATH = "binary_classification_metrics.auc.value"
"""Where the test AUC sits in the evaluation report."""

EVALUATION_REPORT = "evaluation.json"
"""File name of the evaluation report written by ``evaluate.py``."""

STEP_NAMES = (
    "FeatureStoreDataset",
    "Preprocess",
    "Train",
    "Evaluate",
    "CheckAucThreshold",
    "DataQualityBaseline",
    "ModelQualityBaseline",
    "CreateModel",
    "ModelBiasCheck",
    "ModelExplainabilityCheck",
    "RegisterModel",
    "AucBelowThreshold",
)
"""The pipeline's step names (FeatureStoreDataset only with a feature group source;
CreateModel and the Clarify checks only when the model's monitors need them); they appear
in execution history and alarms."""

_MAX_PROCESSING_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, kw_only=True)
class StepCodeUris:
    """Where the step scripts the jobs run are in S3 (uploaded by the CDK app).

    Parameters
    ----------
    preprocess:
        ``s3://`` URI of ``preprocess.py``.
    evaluate:
        ``s3://`` URI of ``evaluate.py``.
    feature_store_dataset:
        ``s3://`` URI of ``feature_store_dataset.py``; needed by a pipeline whose training
        source is a feature group. Default ``None``.
    """

    preprocess: str
    evaluate: str
    feature_store_dataset: str | None = None

    def __post_init__(self) -> None:
        check_s3_uri("StepCodeUris.preprocess", self.preprocess, suffix=".py")
        check_s3_uri("StepCodeUris.evaluate", self.evaluate, suffix=".py")
        if self.feature_store_dataset is not None:
            check_s3_uri(
                "StepCodeUris.feature_store_dataset", self.feature_store_dataset, suffix=".py"
            )

    @classmethod
    def under(cls, prefix: str) -> StepCodeUris:
        """The scripts of ``pipeline_definitions/steps`` as uploaded under ``prefix``."""
        return cls(
            preprocess=f"{prefix}/preprocess.py",
            evaluate=f"{prefix}/evaluate.py",
            feature_store_dataset=f"{prefix}/feature_store_dataset.py",
        )


def preprocess_command_line(target_column: str, *, train_shards: int) -> list[str]:
    """The arguments of ``preprocess.py`` in its processing job: the raw data's and the
    outputs' directories (the job's input ``raw``, one output per split under
    ``output/``), the label column and the number of shards of the ``train`` split."""
    return [
        "--input-dir",
        f"{PROCESSING_DIR}/input/raw",
        "--output-dir",
        f"{PROCESSING_DIR}/output",
        "--target-column",
        target_column,
        "--train-shards",
        str(train_shards),
    ]


@dataclass(frozen=True, kw_only=True)
class TrainingPipelineSettings:
    """What the training pipeline fixes beyond the model's configuration, checked on creation.

    The model's own settings (instance types and counts, spot, run limits, the AUC
    threshold, the target column, the distribution) are its validated
    :class:`~platform_config.pipeline_spec.TrainingPipelineSpec`; these are the builder's:
    every field has a default, and a bad value raises ``ValueError`` naming the field, the
    value and what is allowed.

    Parameters
    ----------
    processing_instance_count:
        Instances of the preprocess job (1-100). Default ``1``.
    quality_check_instance_type:
        Instance type of the data- and model-quality baseline jobs. Default
        ``"ml.m5.xlarge"``.
    volume_size_gb:
        EBS volume of each job, in GB (1-16384). Default ``30``.
    processing_max_run_seconds:
        ``MaxRuntimeInSeconds`` of each processing job (1 s to 7 days). Default ``3600``.
    xgboost_version:
        Version of the SageMaker XGBoost container (training, evaluation, inference),
        as listed in the SDK's image URI table. Default ``"1.7-1"``.
    sklearn_version:
        Version of the scikit-learn processing container. Default ``"1.2-1"``.
    num_round, max_depth, eta, subsample, min_child_weight:
        XGBoost hyperparameters. Defaults ``100``, ``5``, ``0.2``, ``0.8``, ``1.0``.
    clarify:
        The Clarify checks (model bias, explainability) whose baselines the model's
        monitors read. Default: none.
    enable_network_isolation:
        Run every job without outbound network access. Default ``True``.
    cache_preprocessing_for:
        ISO 8601 duration for which a preprocess run with the same arguments is reused,
        or ``None`` for no caching. The cache key is the step's arguments, not the
        data: give ``InputDataUri`` immutable, versioned prefixes. Default ``"P30D"``.
    job_max_attempts:
        Attempts of each job step on throttling, service faults and SageMaker capacity,
        resource-limit or internal errors (1-20). Default ``3``.
    """

    processing_instance_count: int = 1
    quality_check_instance_type: str = "ml.m5.xlarge"
    volume_size_gb: int = 30
    processing_max_run_seconds: int = 3600
    xgboost_version: str = "1.7-1"
    sklearn_version: str = "1.2-1"
    num_round: int = 100
    max_depth: int = 5
    eta: float = 0.2
    subsample: float = 0.8
    min_child_weight: float = 1.0
    clarify: ClarifyChecks = field(default_factory=ClarifyChecks)
    enable_network_isolation: bool = True
    cache_preprocessing_for: str | None = "P30D"
    job_max_attempts: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_instance_type(
            f"{name}.quality_check_instance_type",
            self.quality_check_instance_type,
            JobKind.PROCESSING,
        )
        for setting, low, high in _INT_RANGES:
            check_int_range(f"{name}.{setting}", getattr(self, setting), low, high)
        check_fraction(f"{name}.eta", self.eta, allow_zero=False)
        check_fraction(f"{name}.subsample", self.subsample, allow_zero=False)
        if (
            isinstance(self.min_child_weight, bool)
            or not isinstance(self.min_child_weight, int | float)
            or self.min_child_weight < 0
        ):
            raise ValueError(
                f"{name}.min_child_weight={self.min_child_weight!r} is not allowed; "
                "allowed: a number >= 0"
            )
        if self.cache_preprocessing_for is not None:
            check_pattern(
                f"{name}.cache_preprocessing_for",
                self.cache_preprocessing_for,
                ISO_DURATION,
                "an ISO 8601 duration such as 'P30D' or 'PT12H', or None for no caching",
            )


#: The integer settings of :class:`TrainingPipelineSettings` and their allowed ranges.
_INT_RANGES = (
    ("processing_instance_count", 1, 100),
    ("volume_size_gb", 1, 16384),
    ("processing_max_run_seconds", 1, _MAX_PROCESSING_SECONDS),
    ("num_round", 1, 100_000),
    ("max_depth", 1, 64),
    ("job_max_attempts", 1, 20),
)


def build_training_pipeline(
    *,
    spec: TrainingPipelineSpec,
    pipeline_name: str,
    region: str,
    role_arn: str,
    default_bucket: str,
    code_uris: StepCodeUris,
    model_package_group_name: str,
    kms_key_arn: str,
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
    settings: TrainingPipelineSettings = TrainingPipelineSettings(),
    input_data_uri: str | None = None,
    serving: ServingInstanceTypes = ServingInstanceTypes(),
    mlflow_tracking_server_arn: str | None = None,
    feature_group: FeatureGroupSource | None = None,
) -> str:
    """Return the training pipeline's definition JSON, built offline.

    Parameters
    ----------
    spec:
        The model's validated ``pipeline:`` section (fleet, spot, limits, threshold, target
        column, distribution), used as it is.
    pipeline_name:
        Name of the ``AWS::SageMaker::Pipeline``; also the S3 prefix of its outputs.
    region:
        Region the pipeline runs in; image URIs depend on it.
    role_arn:
        Execution role of the jobs and of the model (a full IAM role ARN).
    default_bucket:
        Bucket of every output, under ``s3://<bucket>/<pipeline_name>/<execution id>/``.
    code_uris:
        ``s3://`` URIs of the step scripts.
    model_package_group_name:
        Model package group the model version is registered in, pending approval.
    kms_key_arn:
        KMS key (in ``region``) for job volumes and outputs.
    subnet_ids, security_group_ids:
        VPC placement of every job: both given, or both empty for no VPC. Default
        ``()``.
    settings:
        What the builder fixes beyond the spec. Default ``TrainingPipelineSettings()``.
    input_data_uri:
        Default of the ``InputDataUri`` parameter (an ``s3://`` prefix: the raw CSVs, or
        the label files with a feature group source). Default
        ``s3://<default_bucket>/<pipeline_name>/input/``.
    serving:
        The instance types the model is served on, in every environment, recorded on each
        package as its supported real-time and transform types. Default: none recorded.
    mlflow_tracking_server_arn:
        The environment's MLflow tracking server: each execution is tracked there.
        Default ``None`` (no tracking).
    feature_group:
        Read the features from this group's offline store, point in time, for the labels
        under ``InputDataUri`` (needs ``code_uris.feature_store_dataset``). Default
        ``None``: ``InputDataUri`` holds the training data itself.

    Raises
    ------
    ValueError
        An argument is not allowed; the message names it, its value and what is.
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
    if feature_group is not None and code_uris.feature_store_dataset is None:
        raise ValueError(
            "code_uris.feature_store_dataset=None is not allowed with a feature_group source;"
            " allowed: the s3:// URI of feature_store_dataset.py"
        )
    with offline_sdk.offline_pipeline_session(
        region=region, default_bucket=default_bucket
    ) as session:
        build = _Build(
            session=session,
            region=region,
            role_arn=role_arn,
            kms_key_arn=kms_key_arn,
            spec=spec,
            settings=settings,
            network=network,
            output_root=f"s3://{default_bucket}/{pipeline_name}",
            model_package_group_name=model_package_group_name,
        )
        params = _Parameters(spec, input_data_uri)
        return pipeline_definition(
            name=pipeline_name,
            parameters=params.all(),
            steps=_steps(
                build, params, code_uris, feature_group, serving, mlflow_tracking_server_arn
            ),
            session=session,
            mlflow_tracking_server_arn=mlflow_tracking_server_arn,
        )


def _steps(
    build: _Build,
    params: _Parameters,
    code_uris: StepCodeUris,
    feature_group: FeatureGroupSource | None,
    serving: ServingInstanceTypes,
    mlflow_tracking_server_arn: str | None,
) -> list[object]:
    """The DAG (see the module's docstring); the top-level steps, in order."""
    first: list[object] = []
    raw_data: object = params.input_data_uri
    if feature_group is not None:
        assert code_uris.feature_store_dataset is not None  # checked by the builder
        dataset = build.feature_store_step(params, code_uris.feature_store_dataset, feature_group)
        first.append(dataset)
        raw_data = _output_uri(dataset, "dataset")
    preprocess = build.preprocess_step(params, code_uris.preprocess, raw_data)
    train = build.train_step(params, preprocess)
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT)
    evaluate = build.evaluate_step(params, code_uris.evaluate, preprocess, train, report)
    checks = _Checks(
        data_quality=build.data_quality_step(params, preprocess),
        model_quality=build.model_quality_step(params, evaluate),
    )
    if build.settings.clarify.any:
        checks.create_model = build.create_model_step(train)
        if build.settings.clarify.bias:
            checks.bias = build.bias_check_step(params, preprocess, checks.create_model)
        if build.settings.clarify.explainability:
            checks.explainability = build.explainability_check_step(
                params, preprocess, checks.create_model
            )
    register = build.register_step(train, evaluate, checks, serving, mlflow_tracking_server_arn)
    gate = _quality_gate(params, evaluate, report, [*checks.steps(), register])
    return [*first, preprocess, train, evaluate, gate]


def _quality_gate(
    params: _Parameters, evaluate: ProcessingStep, report: PropertyFile, if_steps: list[object]
) -> ConditionStep:
    """Register (after the checks) when the test AUC reaches the threshold, else fail."""
    auc = JsonGet(step_name=evaluate.name, property_file=report, json_path=AUC_JSON_PATH)
    below_threshold = FailStep(
        name="AucBelowThreshold",
        error_message=Join(
            on=" ",
            values=[
                f"Model not registered: test AUC ({AUC_JSON_PATH} in {EVALUATION_REPORT})",
                auc,
                "is below the AucThreshold",
                params.auc_threshold,
            ],
        ),
    )
    return ConditionStep(
        name="CheckAucThreshold",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=params.auc_threshold)],
        if_steps=if_steps,
        else_steps=[below_threshold],
    )


@dataclass
class _Checks:
    """The check steps of one definition (the Clarify ones only when configured)."""

    data_quality: QualityCheckStep
    model_quality: QualityCheckStep
    create_model: ModelStep | None = None
    bias: ClarifyCheckStep | None = None
    explainability: ClarifyCheckStep | None = None

    def steps(self) -> list[object]:
        optional = (self.create_model, self.bias, self.explainability)
        return [self.data_quality, self.model_quality, *(s for s in optional if s is not None)]


class _Parameters:
    """The parameters a pipeline run can override, with defaults from the spec.

    ``SkipDriftCheck`` and ``RegisterNewBaseline`` mean what
    ``platform_contracts.retraining`` says; their defaults are its ``DEFAULT_RUN`` row
    (what a run started without parameters, e.g. by the schedule, does).
    """

    def __init__(self, spec: TrainingPipelineSpec, input_data_uri: str) -> None:
        self.input_data_uri = ParameterString(name=INPUT_DATA_URI, default_value=input_data_uri)
        self.processing_instance_type = ParameterString(
            name="ProcessingInstanceType", default_value=spec.processing_instance_type
        )
        self.training_instance_type = ParameterString(
            name="TrainingInstanceType", default_value=spec.training_instance_type
        )
        self.auc_threshold = ParameterFloat(
            name="AucThreshold", default_value=spec.quality_threshold
        )
        self.skip_drift_check = ParameterBoolean(
            name=SKIP_DRIFT_CHECK, default_value=DEFAULT_RUN.skip_drift_check
        )
        self.register_new_baseline = ParameterBoolean(
            name=REGISTER_NEW_BASELINE, default_value=DEFAULT_RUN.register_new_baseline
        )

    def all(self) -> list[ParameterString | ParameterFloat | ParameterBoolean]:
        return [
            self.input_data_uri,
            self.processing_instance_type,
            self.training_instance_type,
            self.auc_threshold,
            self.skip_drift_check,
            self.register_new_baseline,
        ]


def _output_uri(step: ProcessingStep, output_name: str) -> object:
    return step.properties.ProcessingOutputConfig.Outputs[output_name].S3Output.S3Uri


class _QualityCheckStep(QualityCheckStep):  # type: ignore[misc]  # untyped SDK
    """``QualityCheckStep`` whose job's ``NetworkConfig`` serializes (sagemaker 3.27's
    ``_build_check_job_request`` does not convert it: see :func:`serializable_network`)."""

    @property
    def arguments(self) -> dict[str, object]:
        return serializable_network(super().arguments)


@dataclass(frozen=True)
class _Build:
    """Builds the steps of one definition: session, identity, placement, output root."""

    session: PipelineSession
    region: str
    role_arn: str
    kms_key_arn: str
    spec: TrainingPipelineSpec
    settings: TrainingPipelineSettings
    network: NetworkPlacement
    output_root: str
    model_package_group_name: str

    def output_uri(self, *parts: str) -> Join:
        """``s3://<bucket>/<pipeline>/<execution id>/<parts>``: one prefix per run."""
        return run_output_uri(self.output_root, *parts)

    def volume_kms_key(self, instance_type: str) -> str | None:
        """The volume key; none on instance storage, where the API refuses one."""
        return volume_kms_key(instance_type, self.kms_key_arn)

    def processing_network(self, *, isolated: bool = True) -> NetworkConfig:
        """The jobs' placement; ``isolated=False`` for a job that calls AWS APIs itself."""
        return processing_network(
            self.network, isolated=self.settings.enable_network_isolation and isolated
        )

    def image(self, framework: str, scope: str) -> str:
        """The region's image of ``framework`` at the version the settings give."""
        setting = f"{framework}_version"
        version = getattr(self.settings, setting)
        try:
            return offline_sdk.image_uri(
                framework=framework,
                region=self.region,
                version=version,
                image_scope=scope,
                py_version="py3" if framework == "sklearn" else None,
            )
        except ValueError as error:
            raise ValueError(
                f"TrainingPipelineSettings.{setting}={version!r} is not allowed in region "
                f"{self.region!r}: {error}"
            ) from error

    def script_processor(
        self,
        *,
        image_uri: str,
        instance_type: ParameterString,
        instance_count: int,
        job: str,
        isolated: bool = True,
    ) -> ScriptProcessor:
        settings = self.settings
        return ScriptProcessor(
            role=self.role_arn,
            image_uri=image_uri,
            command=["python3"],
            instance_type=instance_type,
            instance_count=instance_count,
            volume_size_in_gb=settings.volume_size_gb,
            volume_kms_key=self.volume_kms_key(self.spec.processing_instance_type),
            output_kms_key=self.kms_key_arn,
            max_runtime_in_seconds=settings.processing_max_run_seconds,
            base_job_name=job,
            sagemaker_session=self.session,
            network_config=self.processing_network(isolated=isolated),
        )

    def feature_store_step(
        self, params: _Parameters, code_uri: str, group: FeatureGroupSource
    ) -> ProcessingStep:
        """Labels under ``InputDataUri`` joined point in time with the group's records.

        The one job without network isolation: it calls Athena and SageMaker itself.
        """
        processor = self.script_processor(
            image_uri=self.image("sklearn", "training"),
            instance_type=params.processing_instance_type,
            instance_count=1,
            job="feature-store-dataset",
            isolated=False,
        )
        step_args = processor.run(
            code=code_uri,
            inputs=[s3_input("labels", params.input_data_uri, f"{PROCESSING_DIR}/input/labels")],
            outputs=[
                s3_output(
                    "dataset", f"{PROCESSING_DIR}/output", self.output_uri("feature-store-dataset")
                )
            ],
            arguments=_feature_store_arguments(
                group,
                target_column=self.spec.target_column,
                results_uri=self.output_uri("athena-results"),
                kms_key_arn=self.kms_key_arn,
            ),
        )
        # Not cached: the offline store changes under the same arguments.
        return ProcessingStep(
            name="FeatureStoreDataset",
            step_args=step_args,
            retry_policies=job_retry_policies(self.settings.job_max_attempts),
        )

    def preprocess_step(
        self, params: _Parameters, code_uri: str, raw_data: object
    ) -> ProcessingStep:
        settings, spec = self.settings, self.spec
        processor = self.script_processor(
            image_uri=self.image("sklearn", "training"),
            instance_type=params.processing_instance_type,
            instance_count=settings.processing_instance_count,
            job="preprocess",
        )
        splits = (
            "train",
            "validation",
            "test",
            "baseline",
            "schema",
            *settings.clarify.preprocess_outputs(),
        )
        step_args = processor.run(
            code=code_uri,
            inputs=[s3_input("raw", raw_data, f"{PROCESSING_DIR}/input/raw")],
            outputs=[
                s3_output(
                    split, f"{PROCESSING_DIR}/output/{split}", self.output_uri("preprocess", split)
                )
                for split in splits
            ],
            arguments=[
                *preprocess_command_line(
                    spec.target_column,
                    train_shards=spec.training_instance_count if self.sharded else 1,
                ),
                *settings.clarify.preprocess_arguments(),
            ],
        )
        cache = (
            CacheConfig(enable_caching=True, expire_after=settings.cache_preprocessing_for)
            if settings.cache_preprocessing_for is not None
            else None
        )
        return ProcessingStep(
            name="Preprocess",
            step_args=step_args,
            cache_config=cache,
            retry_policies=job_retry_policies(self.settings.job_max_attempts),
        )

    @property
    def sharded(self) -> bool:
        """Each training instance reads its own share of the ``train`` files."""
        return self.spec.distribution is Distribution.SHARDED_BY_S3_KEY

    def train_step(self, params: _Parameters, preprocess: ProcessingStep) -> TrainingStep:
        """XGBoost on the preprocessed splits, on spot with checkpoints if the spec says."""
        spec, settings = self.spec, self.settings
        trainer = model_trainer(
            spec,
            session=self.session,
            role_arn=self.role_arn,
            job="train",
            image=self.image("xgboost", "training"),
            compute=training_compute(
                spec,
                instance_type=params.training_instance_type,
                volume_size_gb=settings.volume_size_gb,
                volume_key=self.volume_kms_key(spec.training_instance_type),
            ),
            network=self.network,
            isolated=settings.enable_network_isolation,
            output_root=self.output_root,
            output="training",
            kms_key_arn=self.kms_key_arn,
            hyperparameters={
                "objective": "binary:logistic",
                "eval_metric": "auc",
                "num_round": settings.num_round,
                "max_depth": settings.max_depth,
                "eta": settings.eta,
                "subsample": settings.subsample,
                "min_child_weight": settings.min_child_weight,
            },
        )
        step_args = trainer.train(input_data_config=self.training_channels(preprocess))
        # Not cached: a hit would skip training when new data arrives at the same URI,
        # and the per-run checkpoint prefix would make hits impossible anyway.
        return TrainingStep(
            name="Train",
            step_args=step_args,
            retry_policies=job_retry_policies(self.settings.job_max_attempts),
        )

    def training_channels(self, preprocess: ProcessingStep) -> list[Channel | InputData]:
        """``train`` (sharded by S3 key when distributed) and ``validation``, as CSV."""
        distribution = {
            "train": "ShardedByS3Key" if self.sharded else "FullyReplicated",
            "validation": "FullyReplicated",
        }
        return [
            (
                Channel(
                    channel_name=channel,
                    data_source=DataSource(
                        s3_data_source=S3DataSource(
                            s3_data_type="S3Prefix",
                            s3_uri=_output_uri(preprocess, channel),
                            s3_data_distribution_type=distribution[channel],
                        )
                    ),
                    content_type="text/csv",
                    input_mode="File",
                )
                if distribution[channel] == "ShardedByS3Key"
                else InputData(
                    channel_name=channel,
                    data_source=_output_uri(preprocess, channel),
                    content_type="text/csv",
                )
            )
            for channel in ("train", "validation")
        ]

    def evaluate_step(
        self,
        params: _Parameters,
        code_uri: str,
        preprocess: ProcessingStep,
        train: TrainingStep,
        evaluation_report: PropertyFile,
    ) -> ProcessingStep:
        processor = self.script_processor(
            image_uri=self.image("xgboost", "training"),
            instance_type=params.processing_instance_type,
            instance_count=1,
            job="evaluate",
        )
        step_args = processor.run(
            code=code_uri,
            inputs=[
                s3_input(
                    "model",
                    train.properties.ModelArtifacts.S3ModelArtifacts,
                    f"{PROCESSING_DIR}/model",
                ),
                s3_input("test", _output_uri(preprocess, "test"), f"{PROCESSING_DIR}/test"),
            ],
            outputs=[
                s3_output(
                    "evaluation", f"{PROCESSING_DIR}/evaluation", self.output_uri("evaluation")
                ),
                s3_output(
                    "predictions", f"{PROCESSING_DIR}/predictions", self.output_uri("predictions")
                ),
            ],
            arguments=[
                "--model-dir",
                f"{PROCESSING_DIR}/model",
                "--test-dir",
                f"{PROCESSING_DIR}/test",
                "--evaluation-dir",
                f"{PROCESSING_DIR}/evaluation",
                "--predictions-dir",
                f"{PROCESSING_DIR}/predictions",
            ],
        )
        # Not cached: it scores this run's model, so it could never hit.
        return ProcessingStep(
            name="Evaluate",
            step_args=step_args,
            property_files=[evaluation_report],
            retry_policies=job_retry_policies(self.settings.job_max_attempts),
        )

    def check_job_config(self, job: str, *, isolated: bool = True) -> CheckJobConfig:
        instance_type = self.settings.quality_check_instance_type
        return CheckJobConfig(
            role=self.role_arn,
            instance_count=1,
            instance_type=instance_type,
            volume_size_in_gb=self.settings.volume_size_gb,
            volume_kms_key=self.volume_kms_key(instance_type),
            output_kms_key=self.kms_key_arn,
            max_runtime_in_seconds=self.settings.processing_max_run_seconds,
            base_job_name=job,
            sagemaker_session=self.session,
            network_config=self.processing_network(isolated=isolated),
        )

    def check_step_arguments(
        self, params: _Parameters, job: str, *, isolated: bool = True
    ) -> dict[str, object]:
        """What every check step takes besides its name and configuration: its job, the
        pipeline's drift-check switches, and the group whose approved package holds the
        baselines it checks against."""
        return {
            "check_job_config": self.check_job_config(job, isolated=isolated),
            "skip_check": params.skip_drift_check,
            "register_new_baseline": params.register_new_baseline,
            "model_package_group_name": self.model_package_group_name,
        }

    # QualityCheckStep takes no retry policies (nor did it in SDK v2), and is not
    # cached: each run must compute the baseline of its own data and model.

    def data_quality_step(
        self, params: _Parameters, preprocess: ProcessingStep
    ) -> QualityCheckStep:
        return _QualityCheckStep(
            name="DataQualityBaseline",
            quality_check_config=DataQualityCheckConfig(
                baseline_dataset=_output_uri(preprocess, "baseline"),
                dataset_format=DatasetFormat.csv(header=True),
                output_s3_uri=self.output_uri("data-quality-baseline"),
            ),
            **self.check_step_arguments(params, "data-quality-baseline"),
        )

    def model_quality_step(self, params: _Parameters, evaluate: ProcessingStep) -> QualityCheckStep:
        return _QualityCheckStep(
            name="ModelQualityBaseline",
            quality_check_config=ModelQualityCheckConfig(
                baseline_dataset=_output_uri(evaluate, "predictions"),
                dataset_format=DatasetFormat.csv(header=True),
                output_s3_uri=self.output_uri("model-quality-baseline"),
                problem_type="BinaryClassification",
                inference_attribute="prediction",
                probability_attribute="probability",
                ground_truth_attribute="label",
            ),
            **self.check_step_arguments(params, "model-quality-baseline"),
        )

    def create_model_step(self, train: TrainingStep) -> ModelStep:
        """The trained model as a SageMaker model: Clarify scores it on a shadow endpoint."""
        builder = ModelBuilder(
            image_uri=self.image("xgboost", "inference"),
            s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
            role_arn=self.role_arn,
            sagemaker_session=self.session,
            dependencies={},
            network=Networking(
                subnets=self.network.subnets_or_none,
                security_group_ids=self.network.security_groups_or_none,
                enable_network_isolation=self.settings.enable_network_isolation,
            ),
        )
        return ModelStep(
            name="CreateModel",
            step_args=builder.build(),
            retry_policies=[step_retry_policy(self.settings.job_max_attempts)],
        )

    def clarify_check(
        self,
        params: _Parameters,
        *,
        name: str,
        config: object,
        preprocess: ProcessingStep,
        config_output: str,
        monitor_config: str,
    ) -> ClarifyCheckStep:
        """A Clarify check reading its configuration from the preprocessing job's outputs.

        Its job runs without network isolation (in the VPC): Clarify creates, calls and
        deletes the shadow endpoint itself, through the SageMaker API and runtime.
        """
        return RuntimeConfigClarifyCheckStep(
            name=name,
            clarify_check_config=config,
            **self.check_step_arguments(params, name, isolated=False),
            config_uri=_output_uri(preprocess, config_output),
            monitor_config_uri=Join(
                on="/", values=[_output_uri(preprocess, MONITOR_CONFIG_OUTPUT), monitor_config]
            ),
        )

    def clarify_data(self, preprocess: ProcessingStep, job: str) -> object:
        """Clarify's data: the test split, label first, with the run's output prefix."""
        return data_config(
            dataset_uri=_output_uri(preprocess, "test"),
            output_uri=self.output_uri(job),
            label=self.spec.target_column,
            unused_root=f"{self.output_root}/clarify-config-not-uploaded",
        )

    def bias_check_step(
        self, params: _Parameters, preprocess: ProcessingStep, model: ModelStep
    ) -> ClarifyCheckStep:
        """Post-training bias of the model on the test split, for the bias monitor."""
        clarify = self.settings.clarify
        values = clarify.bias_facet_threshold
        config = ModelBiasCheckConfig(
            data_config=self.clarify_data(preprocess, "model-bias-check"),
            # The facet's values as the configuration gives them; preprocess.py writes the
            # job's own configuration with a categorical facet's codes instead.
            data_bias_config=BiasConfig(
                label_values_or_threshold=[1],
                facet_name=clarify.bias_facet,
                facet_values_or_threshold=list(clarify.bias_facet_values)
                if values is None
                else values,
            ),
            model_config=clarify.model_config(model.properties.ModelName),
            model_predicted_label_config=clarify.predicted_label(),
        )
        return self.clarify_check(
            params,
            name="ModelBiasCheck",
            config=config,
            preprocess=preprocess,
            config_output=BIAS_CONFIG_OUTPUT,
            monitor_config=BIAS_MONITOR_CONFIG,
        )

    def explainability_check_step(
        self, params: _Parameters, preprocess: ProcessingStep, model: ModelStep
    ) -> ClarifyCheckStep:
        """SHAP attributions of the model on the test split, for the explainability monitor."""
        clarify = self.settings.clarify
        config = ModelExplainabilityCheckConfig(
            data_config=self.clarify_data(preprocess, "model-explainability-check"),
            model_config=clarify.model_config(model.properties.ModelName),
            # The baseline row (the training medians) is only known at run time:
            # preprocess.py puts it in the job's configuration.
            explainability_config=SHAPConfig(
                num_samples=clarify.shap_samples, agg_method="mean_abs"
            ),
        )
        return self.clarify_check(
            params,
            name="ModelExplainabilityCheck",
            config=config,
            preprocess=preprocess,
            config_output=EXPLAINABILITY_CONFIG_OUTPUT,
            monitor_config=EXPLAINABILITY_MONITOR_CONFIG,
        )

    def register_step(
        self,
        train: TrainingStep,
        evaluate: ProcessingStep,
        checks: _Checks,
        serving: ServingInstanceTypes,
        mlflow_tracking_server_arn: str | None,
    ) -> ModelStep:
        """The model version, pending approval, with every check's results and baselines."""
        return register_step(
            session=self.session,
            role_arn=self.role_arn,
            image_uri=self.image("xgboost", "inference"),
            model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
            model_package_group_name=self.model_package_group_name,
            content_type="text/csv",
            serving=serving,
            mlflow_tracking_server_arn=mlflow_tracking_server_arn,
            max_attempts=self.settings.job_max_attempts,
            model_metrics=_model_metrics(evaluate, checks),
            drift_check_baselines=_drift_check_baselines(checks),
        )


def _json_source(uri: object) -> MetricsSource:
    return MetricsSource(s3_uri=uri, content_type="application/json")


class _ModelMetrics(ModelMetrics):  # type: ignore[misc]  # untyped SDK
    """``ModelMetrics`` without the empty ``Bias`` and ``Explainability`` sections the SDK
    (3.27) writes when there is no such report: an empty section reads as a check that
    produced nothing."""

    def _to_request_dict(self) -> dict[str, Any]:
        return {key: value for key, value in super()._to_request_dict().items() if value}


def _model_metrics(evaluate: ProcessingStep, checks: _Checks) -> ModelMetrics:
    """This run's results: the evaluation report and each check's calculated baseline."""
    evaluation_uri = Join(on="/", values=[_output_uri(evaluate, "evaluation"), EVALUATION_REPORT])
    dq, mq = checks.data_quality.properties, checks.model_quality.properties
    return _ModelMetrics(
        model_statistics=_json_source(evaluation_uri),
        model_constraints=_json_source(mq.CalculatedBaselineConstraints),
        model_data_statistics=_json_source(dq.CalculatedBaselineStatistics),
        model_data_constraints=_json_source(dq.CalculatedBaselineConstraints),
        bias_post_training=(
            _json_source(checks.bias.properties.CalculatedBaselineConstraints)
            if checks.bias is not None
            else None
        ),
        explainability=(
            _json_source(checks.explainability.properties.CalculatedBaselineConstraints)
            if checks.explainability is not None
            else None
        ),
    )


def _drift_check_baselines(checks: _Checks) -> DriftCheckBaselines:
    """What the monitors compare with: per check, this run's or the approved version's
    baseline (``RegisterNewBaseline``), and the Clarify monitors' analysis configurations."""
    dq, mq = checks.data_quality.properties, checks.model_quality.properties
    clarify: dict[str, object] = {}
    if checks.bias is not None:
        clarify["bias_config_file"] = _file_source(checks.bias)
        clarify["bias_post_training_constraints"] = _json_source(
            checks.bias.properties.BaselineUsedForDriftCheckConstraints
        )
    if checks.explainability is not None:
        clarify["explainability_config_file"] = _file_source(checks.explainability)
        clarify["explainability_constraints"] = _json_source(
            checks.explainability.properties.BaselineUsedForDriftCheckConstraints
        )
    return DriftCheckBaselines(
        model_statistics=_json_source(mq.BaselineUsedForDriftCheckStatistics),
        model_constraints=_json_source(mq.BaselineUsedForDriftCheckConstraints),
        model_data_statistics=_json_source(dq.BaselineUsedForDriftCheckStatistics),
        model_data_constraints=_json_source(dq.BaselineUsedForDriftCheckConstraints),
        **clarify,
    )


def _file_source(check: ClarifyCheckStep) -> FileSource:
    return FileSource(
        s3_uri=check.clarify_check_config.monitoring_analysis_config_uri,
        content_type="application/json",
    )


def _feature_store_arguments(
    group: FeatureGroupSource, *, target_column: str, results_uri: object, kms_key_arn: str
) -> list[object]:
    """``feature_store_dataset.py``'s command line."""
    return [
        "--feature-group",
        group.name,
        "--record-identifier",
        group.record_identifier,
        "--event-time",
        group.event_time,
        "--event-time-type",
        group.event_time_type,
        "--features",
        ",".join(name for name, _ in group.features),
        "--target-column",
        target_column,
        "--labels-dir",
        f"{PROCESSING_DIR}/input/labels",
        "--output-dir",
        f"{PROCESSING_DIR}/output",
        "--query-results-uri",
        results_uri,
        "--kms-key-arn",
        kms_key_arn,
    ]

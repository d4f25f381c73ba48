"""The AutoML pipeline: Autopilot trains and ensembles candidates, the best is registered.

:func:`build_automl_pipeline` returns the JSON definition of a SageMaker pipeline, built
offline (see :mod:`pipeline_definitions.offline_sdk`), for the CDK stacks to embed in
``AWS::SageMaker::Pipeline``. The same arguments always give the same bytes.

The DAG::

    AutoML ──► CheckAucThreshold ─┬─ best candidate's AUC >= threshold: RegisterModel
    (Autopilot,                   └─ otherwise: AucBelowThreshold (FailStep)
     ENSEMBLING)

The AutoML step runs one Autopilot job (``CreateAutoMLJob``) over the CSV files under
``InputDataUri`` (with a header row, the label in ``target_column``), for binary
classification with the AUC as objective, in the VPC, with its volumes, outputs and
inter-container traffic encrypted. SageMaker Pipelines runs the AutoML step in
``ENSEMBLING`` mode only (the SDK refuses any other), which suits data sets up to a few
hundred MB; the best candidate is one inference container (AutoGluon ensemble).

The SDK's ``AutoMLStep`` takes its arguments from ``AutoML.fit()``, a class that SDK v3
no longer has; :class:`_AutoMLStep` is the same step (type ``AutoML``, properties of
``DescribeAutoMLJobResponse``) built from the request directly. Registration reads the
best candidate's image, artifact and environment from the step's properties, as the
SDK's ``get_best_auto_ml_model_builder`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline_definitions import offline_sdk
from pipeline_definitions.definition_parts import pipeline_definition
from pipeline_definitions.model_registration import register_step
from pipeline_definitions.pipeline_arguments import (
    NetworkPlacement,
    ServingInstanceTypes,
    check_int_range,
    check_registering_pipeline,
)
from pipeline_definitions.retry_policies import job_retry_policies
from platform_config.pipeline_spec import AutoMlPipelineSpec

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.core.workflow.properties import Properties
from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep, RetryPolicy
from sagemaker.mlops.workflow.steps import ConfigurableRetryStep, StepTypeEnum

OBJECTIVE_METRIC = "AUC"
"""Autopilot's objective: the candidates are ranked by their validation AUC."""

STEP_NAMES = ("AutoML", "CheckAucThreshold", "RegisterModel", "AucBelowThreshold")
"""The pipeline's step names."""

#: Environment variables of Autopilot's inference container, copied to the package.
INFERENCE_ENVIRONMENT = (
    "MODEL_NAME",
    "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
    "SAGEMAKER_SUBMIT_DIRECTORY",
    "SAGEMAKER_INFERENCE_SUPPORTED",
    "SAGEMAKER_INFERENCE_OUTPUT",
    "SAGEMAKER_PROGRAM",
)


@dataclass(frozen=True, kw_only=True)
class AutoMlPipelineSettings:
    """What the AutoML pipeline fixes beyond the model's configuration, checked on creation.

    The model's own settings (target column, run limit, AUC threshold) are its validated
    :class:`~platform_config.pipeline_spec.AutoMlPipelineSpec`.

    Parameters
    ----------
    max_candidates:
        Most candidates Autopilot trains (1-750). Default ``100``.
    job_max_attempts:
        Attempts of the AutoML step on throttling, service faults and SageMaker capacity,
        resource-limit or internal errors (1-20). Default ``3``.
    """

    max_candidates: int = 100
    job_max_attempts: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_int_range(f"{name}.max_candidates", self.max_candidates, 1, 750)
        check_int_range(f"{name}.job_max_attempts", self.job_max_attempts, 1, 20)


class _AutoMLStep(ConfigurableRetryStep):  # type: ignore[misc]  # untyped SDK
    """An ``AutoML`` step from a ``CreateAutoMLJob`` request (see the module docstring)."""

    def __init__(
        self, *, name: str, request: dict[str, object], retry_policies: list[RetryPolicy]
    ) -> None:
        super().__init__(name, StepTypeEnum.AUTOML, None, None, None, retry_policies)
        self._request = request
        root = Properties(step_name=name, step=self, shape_name="DescribeAutoMLJobResponse")
        self._properties = root

    @property
    def arguments(self) -> dict[str, object]:
        return dict(self._request)

    @property
    def properties(self) -> Properties:
        return self._properties


def build_automl_pipeline(
    *,
    spec: AutoMlPipelineSpec,
    pipeline_name: str,
    region: str,
    role_arn: str,
    default_bucket: str,
    model_package_group_name: str,
    kms_key_arn: str,
    settings: AutoMlPipelineSettings = AutoMlPipelineSettings(),
    subnet_ids: Sequence[str] = (),
    security_group_ids: Sequence[str] = (),
    input_data_uri: str | None = None,
    serving: ServingInstanceTypes = ServingInstanceTypes(),
    mlflow_tracking_server_arn: str | None = None,
) -> str:
    """Return the AutoML pipeline's definition JSON, built offline.

    Parameters
    ----------
    spec:
        The model's validated ``pipeline:`` section (target column, run limit, AUC
        threshold), used as it is.
    pipeline_name:
        Name of the ``AWS::SageMaker::Pipeline``; also the S3 prefix of its outputs.
    region:
        Region the pipeline runs in.
    role_arn:
        Execution role of the Autopilot job and of the model (a full IAM role ARN).
    default_bucket:
        Bucket of every output, under ``s3://<bucket>/<pipeline_name>/<execution id>/``.
    model_package_group_name:
        Model package group the best candidate is registered in, pending approval.
    kms_key_arn:
        KMS key (in ``region``) for job volumes and outputs.
    settings:
        What the builder fixes beyond the spec. Default ``AutoMlPipelineSettings()``.
    subnet_ids, security_group_ids:
        VPC placement of the candidates' jobs: both given, or both empty. Default ``()``.
    input_data_uri:
        Default of the ``InputDataUri`` parameter: an ``s3://`` prefix of CSV files with
        a header row. Default ``s3://<default_bucket>/<pipeline_name>/input/``.
    serving:
        The instance types the model is served on, in every environment, recorded on each
        package. Default: none recorded.
    mlflow_tracking_server_arn:
        The environment's MLflow tracking server: each execution is tracked there
        (:mod:`pipeline_definitions.mlflow_tracking`). Default ``None``.

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
    with offline_sdk.offline_pipeline_session(
        region=region, default_bucket=default_bucket
    ) as session:
        input_data = ParameterString(name="InputDataUri", default_value=input_data_uri)
        auc_threshold = ParameterFloat(name="AucThreshold", default_value=spec.quality_threshold)
        request = _automl_request(
            spec,
            settings,
            input_data=input_data,
            output_root=f"s3://{default_bucket}/{pipeline_name}",
            kms_key_arn=kms_key_arn,
            network=network,
            role_arn=role_arn,
        )
        # Not cached: new data arrives under the same URI.
        automl = _AutoMLStep(
            name="AutoML",
            request=request,
            retry_policies=job_retry_policies(settings.job_max_attempts),
        )
        # The best candidate, with its own container.
        container = automl.properties.BestCandidate.InferenceContainers[0]
        register = register_step(
            session=session,
            role_arn=role_arn,
            image_uri=container.Image,
            model_data_url=container.ModelDataUrl,
            env_vars={name: container.Environment[name] for name in INFERENCE_ENVIRONMENT},
            model_package_group_name=model_package_group_name,
            content_type="text/csv",
            serving=serving,
            mlflow_tracking_server_arn=mlflow_tracking_server_arn,
            max_attempts=settings.job_max_attempts,
        )
        return pipeline_definition(
            name=pipeline_name,
            parameters=[input_data, auc_threshold],
            steps=[automl, _quality_gate(automl, auc_threshold, register)],
            session=session,
            mlflow_tracking_server_arn=mlflow_tracking_server_arn,
        )


def _automl_request(
    spec: AutoMlPipelineSpec,
    settings: AutoMlPipelineSettings,
    *,
    input_data: ParameterString,
    output_root: str,
    kms_key_arn: str,
    network: NetworkPlacement,
    role_arn: str,
) -> dict[str, object]:
    """The ``CreateAutoMLJob`` request: binary classification on AUC, in ``ENSEMBLING``."""
    security: dict[str, object] = {
        "VolumeKmsKeyId": kms_key_arn,
        "EnableInterContainerTrafficEncryption": True,
    }
    if network.subnet_ids:
        security["VpcConfig"] = {
            "SecurityGroupIds": list(network.security_group_ids),
            "Subnets": list(network.subnet_ids),
        }
    return {
        "InputDataConfig": [
            {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_data}},
                "TargetAttributeName": spec.target_column,
                "ContentType": "text/csv;header=present",
                "ChannelType": "training",
            }
        ],
        "OutputDataConfig": {
            "S3OutputPath": Join(
                on="/", values=[output_root, ExecutionVariables.PIPELINE_EXECUTION_ID, "automl"]
            ),
            "KmsKeyId": kms_key_arn,
        },
        "ProblemType": "BinaryClassification",
        "AutoMLJobObjective": {"MetricName": OBJECTIVE_METRIC},
        "AutoMLJobConfig": {
            "CompletionCriteria": {
                "MaxCandidates": settings.max_candidates,
                "MaxAutoMLJobRuntimeInSeconds": spec.max_run_seconds,
            },
            "SecurityConfig": security,
            "Mode": spec.automl_mode.value,
        },
        "RoleArn": role_arn,
    }


def _quality_gate(
    automl: _AutoMLStep, auc_threshold: ParameterFloat, register: ModelStep
) -> ConditionStep:
    """Register when the best candidate's AUC reaches the threshold, else fail."""
    auc = automl.properties.BestCandidate.FinalAutoMLJobObjectiveMetric.Value
    below_threshold = FailStep(
        name="AucBelowThreshold",
        error_message=Join(
            on=" ",
            values=[
                "Model not registered: the best candidate's AUC",
                auc,
                "is below the AucThreshold",
                auc_threshold,
            ],
        ),
    )
    return ConditionStep(
        name="CheckAucThreshold",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=auc_threshold)],
        if_steps=[register],
        else_steps=[below_threshold],
    )

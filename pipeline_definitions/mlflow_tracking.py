"""MLflow tracking of pipeline executions, shared by every builder.

With the environment's tracking server ARN, a definition carries SageMaker Pipelines'
``MlflowConfig``: each execution is tracked by the service in the MLflow experiment named
after the pipeline. The jobs themselves log nothing: they run with network isolation (no
route to the tracking server), and the containers used (built-in XGBoost, Autopilot,
JumpStart) have no MLflow client configured. The registered package records where its run
is, in ``CustomerMetadataProperties`` (:data:`METADATA_KEYS`).
"""

from __future__ import annotations

from pipeline_definitions import offline_sdk

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.shapes import MlflowConfig
from sagemaker.core.workflow.execution_variables import ExecutionVariables

#: ``CustomerMetadataProperties`` keys of a package registered by a tracked execution:
#: the tracking server's ARN, the experiment, and the execution (the run's identity there).
METADATA_KEYS = ("mlflow-tracking-server-arn", "mlflow-experiment", "pipeline-execution-arn")


def mlflow_config(tracking_server_arn: str | None, pipeline_name: str) -> MlflowConfig | None:
    """The pipeline's ``MlflowConfig`` (experiment: the pipeline's name), or ``None``."""
    if tracking_server_arn is None:
        return None
    return MlflowConfig(
        mlflow_resource_arn=tracking_server_arn, mlflow_experiment_name=pipeline_name
    )


def package_metadata(tracking_server_arn: str | None) -> dict[str, object] | None:
    """``CustomerMetadataProperties`` linking a package to its execution's MLflow run."""
    if tracking_server_arn is None:
        return None
    server, experiment, execution = METADATA_KEYS
    return {
        server: tracking_server_arn,
        experiment: ExecutionVariables.PIPELINE_NAME,
        execution: ExecutionVariables.PIPELINE_EXECUTION_ARN,
    }

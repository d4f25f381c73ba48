"""Where the environment's managed MLflow is found: one place for every stack and client.

Both kinds (``mlflow.kind``) are reached by ARN, which is also the ``MLFLOW_TRACKING_URI`` of
clients with the ``sagemaker-mlflow`` plugin and the ``MlflowResourceArn`` of a pipeline's
``MlflowConfig``. The workspace stack creates it and writes its ARN to the SSM parameter
:func:`mlflow_arn_parameter_name` for readers at run time; stacks at synth use
:func:`mlflow_resource_arn`.
"""

from __future__ import annotations

from platform_config import EnvironmentConfig


def mlflow_arn_parameter_name(config: EnvironmentConfig) -> str:
    """``/ml-platform-<env>/mlflow/arn``: the SSM parameter holding the MLflow ARN."""
    return config.names.mlflow_arn_parameter()


def mlflow_resource_name(config: EnvironmentConfig) -> str:
    """The tracking server's or the app's name (``mlflow.kind``)."""
    names = config.names
    return names.mlflow_app() if config.mlflow.kind == "app" else names.mlflow_server()


def mlflow_resource_arn(config: EnvironmentConfig, *, partition: str = "aws") -> str | None:
    """The environment's MLflow ARN as a string any stack can embed at synth (``None`` when
    ``mlflow.enabled`` is off).

    A tracking server's ARN is derived from its name, as SageMaker derives it. An app's ARN
    holds an id SageMaker generates: the result is then a CloudFormation dynamic reference to
    :func:`mlflow_arn_parameter_name` (``{{resolve:ssm:...}}``), resolved at deploy time, so
    a stack that embeds it must deploy after the workspace stack (``MlPlatform`` makes the
    model stacks, whose pipelines embed it, depend on it)."""
    if not config.mlflow.enabled:
        return None
    if config.mlflow.kind == "tracking_server":
        return (
            f"arn:{partition}:sagemaker:{config.region}:{config.account}:"
            f"mlflow-tracking-server/{mlflow_resource_name(config)}"
        )
    return "{{resolve:ssm:" + mlflow_arn_parameter_name(config) + "}}"

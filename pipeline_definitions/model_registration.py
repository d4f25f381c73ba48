"""The registration step every built-in pipeline ends with.

A pipeline registers its model in the model's package group, pending a person's approval
(:data:`APPROVAL_STATUS`), with the instance types the model is served on in every
environment (its supported real-time and transform types) and, with a tracking server, the
link to its execution's MLflow run (:func:`~pipeline_definitions.mlflow_tracking.package_metadata`).
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline_definitions import offline_sdk
from pipeline_definitions.mlflow_tracking import package_metadata
from pipeline_definitions.pipeline_arguments import ServingInstanceTypes
from pipeline_definitions.retry_policies import step_retry_policy

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.mlops.workflow import ModelStep
from sagemaker.serve import ModelBuilder

APPROVAL_STATUS = "PendingManualApproval"
"""Every model version is registered pending a person's approval."""


def register_step(
    *,
    session: object,
    role_arn: str,
    image_uri: object,
    model_data_url: object,
    model_package_group_name: str,
    content_type: str,
    serving: ServingInstanceTypes,
    mlflow_tracking_server_arn: str | None,
    max_attempts: int,
    env_vars: Mapping[str, object] | None = None,
    **package: object,
) -> ModelStep:
    """``RegisterModel``: the model version, pending approval, served with ``image_uri``.

    ``content_type`` is what it reads and answers; ``env_vars`` the container's
    environment (default: the image's own); ``package`` further arguments of the package
    (``model_metrics``, ``drift_check_baselines``); ``max_attempts`` the step's attempts on
    throttling and service faults.
    """
    builder = ModelBuilder(
        image_uri=image_uri,
        s3_model_data_url=model_data_url,
        **({} if env_vars is None else {"env_vars": dict(env_vars)}),
        role_arn=role_arn,
        sagemaker_session=session,
        # The default ({"auto": True}, deprecated) switches on script mode and writes
        # empty SAGEMAKER_PROGRAM / SAGEMAKER_SUBMIT_DIRECTORY into the container.
        dependencies={},
    )
    step_args = builder.register(
        model_package_group_name=model_package_group_name,
        content_types=[content_type],
        response_types=[content_type],
        inference_instances=list(serving.real_time) or None,
        transform_instances=list(serving.transform) or None,
        customer_metadata_properties=package_metadata(mlflow_tracking_server_arn),
        approval_status=APPROVAL_STATUS,
        **package,
    )
    # A ModelStep runs no job: SageMakerJobStepRetryPolicy is refused there.
    return ModelStep(
        name="RegisterModel",
        step_args=step_args,
        retry_policies=[step_retry_policy(max_attempts)],
    )

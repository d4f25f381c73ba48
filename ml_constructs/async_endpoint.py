"""An asynchronous endpoint of one model: queued requests, results in S3, notifications."""

from __future__ import annotations

from typing import Any, ClassVar

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.model_endpoint import AsyncOutput, ModelEndpoint
from platform_config.serving_spec import EndpointKind


class AsyncEndpoint(ModelEndpoint):
    """An asynchronous endpoint (``kind: async``): requests are queued, results and failures
    written to S3 (encrypted), and SageMaker publishes to a success and an error topic.

    Attributes are those of :class:`~ml_constructs.model_endpoint.ModelEndpoint`.

    Parameters
    ----------
    async_output:
        :class:`AsyncOutput`: where results go and whom SageMaker tells.
    kwargs:
        The parameters of :class:`~ml_constructs.model_endpoint.ModelEndpoint`.
    """

    KINDS: ClassVar[tuple[EndpointKind, ...]] = (EndpointKind.ASYNC,)

    def __init__(
        self, scope: Construct, construct_id: str, *, async_output: AsyncOutput, **kwargs: Any
    ) -> None:
        # Read by _async_inference_config while the base class builds the endpoint config.
        self._async_output = async_output
        super().__init__(scope, construct_id, **kwargs)

    def _async_inference_config(self) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty:
        config = sagemaker.CfnEndpointConfig
        settings, output = self.spec.async_settings, self._async_output
        return config.AsyncInferenceConfigProperty(
            client_config=config.AsyncInferenceClientConfigProperty(
                max_concurrent_invocations_per_instance=(
                    settings.max_concurrent_invocations_per_instance
                )
            ),
            output_config=config.AsyncInferenceOutputConfigProperty(
                s3_output_path=output.output_uri,
                s3_failure_path=output.failure_uri,
                kms_key_id=output.key.key_arn,
                notification_config=config.AsyncInferenceNotificationConfigProperty(
                    success_topic=output.success_topic.topic_arn,
                    error_topic=output.error_topic.topic_arn,
                    include_inference_response_in=["SUCCESS_NOTIFICATION_TOPIC"]
                    if settings.include_response_in_notification
                    else None,
                ),
            ),
        )

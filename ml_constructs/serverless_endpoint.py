"""A serverless endpoint of one model."""

from __future__ import annotations

from typing import ClassVar

from aws_cdk import aws_sagemaker as sagemaker

from ml_constructs.model_endpoint import ModelEndpoint
from platform_config.serving_spec import EndpointKind


class ServerlessEndpoint(ModelEndpoint):
    """A serverless endpoint (``kind: serverless``): one variant with the memory and
    concurrency of ``spec.serverless_settings``, outside the VPC (SageMaker runs serverless
    models on its own compute, whose volumes it encrypts), updated all at once.

    Parameters and attributes are those of :class:`~ml_constructs.model_endpoint.ModelEndpoint`
    (``subnets`` and ``security_group`` are not used).
    """

    KINDS: ClassVar[tuple[EndpointKind, ...]] = (EndpointKind.SERVERLESS,)

    def _production_variants(self) -> list[sagemaker.CfnEndpointConfig.ProductionVariantProperty]:
        settings = self.spec.serverless_settings
        variant = self.spec.production_variants[0]
        return [
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=variant.name,
                model_name=self._model_for(variant),
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    memory_size_in_mb=settings.memory_size_mb,
                    max_concurrency=settings.max_concurrency,
                    provisioned_concurrency=settings.provisioned_concurrency,
                ),
            )
        ]

    def _unencrypted_volumes(self) -> str | None:
        return (
            "Serverless endpoints have no customer-managed volume: SageMaker manages and"
            " encrypts their compute."
        )

    def _in_vpc(self) -> bool:
        return False

    def _routing_type(self) -> str:
        return "all_at_once"

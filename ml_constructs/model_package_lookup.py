"""The artifacts of one model package, looked up at deploy time by a custom resource."""

from __future__ import annotations

from aws_cdk import CustomResource
from aws_cdk import aws_lambda as lambda_
from constructs import Construct


class ModelPackageLookup(Construct):
    """``Custom::ModelPackage``: the model data and image of the package ``package_arn``.

    Nothing is looked up at synth. The ARN is a property, so CloudFormation asks the
    provider again whenever it changes (a new release), and never otherwise.

    Attributes
    ----------
    resource:
        The ``CustomResource`` (logical id stable via ``Default``).
    model_data_url, image:
        Deploy-time values (tokens) of the package's first container.

    Parameters
    ----------
    provider:
        The deploy-time provider function (``lambda/model_package_resolver``).
    package_arn:
        The versioned package ARN (a token is fine, e.g. a release record).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, provider: lambda_.IFunction, package_arn: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.resource = CustomResource(
            self,
            "Default",
            service_token=provider.function_arn,
            resource_type="Custom::ModelPackage",
            properties={"ModelPackageArn": package_arn},
        )
        self.model_data_url = self.resource.get_att_string("ModelDataUrl")
        self.image = self.resource.get_att_string("Image")

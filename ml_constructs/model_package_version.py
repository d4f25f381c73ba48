"""The model package an endpoint serves, resolved at deploy time by a custom resource."""

from __future__ import annotations

from aws_cdk import CustomResource
from aws_cdk import aws_lambda as lambda_
from constructs import Construct


class ModelPackageVersion(Construct):
    """``Custom::ModelPackageVersion``: a version of a registry group, looked up at deploy.

    Nothing is looked up at synth. The resolver (``lambda/model_package_resolver``) finds
    the latest approved package of the group, or checks that a pinned version is approved,
    when CloudFormation creates or updates the resource.

    Attributes
    ----------
    resource:
        The ``CustomResource`` (logical id stable via ``Default``).
    model_package_arn, model_data_url, image:
        Deploy-time values (tokens) of the resolved package.

    Parameters
    ----------
    resolver:
        The resolver function (:class:`~ml_constructs.model_package_resolver.ModelPackageResolver`).
    group_name:
        The model package group.
    version:
        ``"latest"`` (default) or a version number.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resolver: lambda_.IFunction,
        group_name: str,
        version: int | str = "latest",
    ) -> None:
        super().__init__(scope, construct_id)
        if version != "latest" and not (isinstance(version, int) and version >= 1):
            raise ValueError(f"version {version!r} is neither 'latest' nor a number >= 1")
        self.resource = CustomResource(
            self,
            "Default",
            service_token=resolver.function_arn,
            resource_type="Custom::ModelPackageVersion",
            properties={"ModelPackageGroupName": group_name, "ModelVersion": str(version)},
        )
        self.model_package_arn = self.resource.get_att_string("ModelPackageArn")
        self.model_data_url = self.resource.get_att_string("ModelDataUrl")
        self.image = self.resource.get_att_string("Image")

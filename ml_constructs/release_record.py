"""The release record of a model's slot: created empty once, never overwritten by a deploy."""

from __future__ import annotations

from aws_cdk import CustomResource, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from platform_contracts.releases import UNRELEASED


class ReleaseRecord(Construct):
    """``Custom::ReleaseRecord``: the SSM parameter ``parameter_name``, created if absent.

    The deploy-time provider (``lambda/model_package_resolver``) puts the parameter with the
    value ``none`` and ``Overwrite=False`` when CloudFormation creates the resource, and does
    nothing on update or delete: a deploy never changes what a model serves, and removing
    the stack keeps the record (and its history). Only the release automation writes it
    afterwards (see ``docs/releases.md``).

    Attributes
    ----------
    resource:
        The ``CustomResource`` (logical id stable via ``Default``).
    parameter_name:
        The parameter's name.

    Parameters
    ----------
    provider:
        The deploy-time provider function.
    parameter_name:
        ``/<name prefix>/releases/<model>/<slot>``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        provider: lambda_.IFunction,
        parameter_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.parameter_name = parameter_name
        self.resource = CustomResource(
            self,
            "Default",
            service_token=provider.function_arn,
            resource_type="Custom::ReleaseRecord",
            properties={"ParameterName": parameter_name, "InitialValue": UNRELEASED},
            removal_policy=RemovalPolicy.RETAIN,
        )

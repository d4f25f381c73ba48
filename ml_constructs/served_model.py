"""A SageMaker model built from one registry package version, in the VPC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.model_package_lookup import ModelPackageLookup


class ServedModel(Construct):
    """``AWS::SageMaker::Model`` serving one model package version.

    The package is given by ARN, usually a deploy-time token read from the release record
    (:class:`~ml_constructs.released_versions.ReleasedVersions`). The model has no physical
    name: CloudFormation replaces it whenever the package changes, and the endpoint config
    that names it follows, through the endpoint's deployment guardrails.

    Attributes
    ----------
    lookup:
        The :class:`ModelPackageLookup` when an image override needs the package's model
        data, else ``None``.
    model:
        The ``CfnModel`` (logical id stable via ``Default``).
    model_name:
        Its generated name (token).
    environment:
        The container's environment (empty unless given).

    Parameters
    ----------
    package_arn:
        The versioned model package ARN.
    role:
        Execution role of the containers.
    image:
        Serve the package's artifacts with this image instead of the package's own (default
        none: the package's containers, by ``ModelPackageName``). Needs ``provider``.
    provider:
        The deploy-time provider that looks up the package's model data for an image
        override (default none).
    environment:
        Environment variables of the container, e.g. an LMI server's settings
        (:mod:`ml_constructs.lmi_serving`; default none).
    subnets, security_groups:
        Put the model in the VPC (default: none, for serverless endpoints, which cannot be).
    network_isolation:
        No network access from the container (default on; off when not in a VPC).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        package_arn: str,
        role: iam.IRole,
        image: str | None = None,
        provider: lambda_.IFunction | None = None,
        environment: Mapping[str, str] | None = None,
        subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        network_isolation: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        if bool(subnets) != bool(security_groups):
            raise ValueError("give both subnets and security_groups, or neither")
        if image and provider is None:
            raise ValueError("an image override needs the provider that looks up the model data")
        self.lookup: ModelPackageLookup | None = None
        self.environment = dict(environment or {})
        env = self.environment or None
        if image:
            assert provider is not None
            self.lookup = ModelPackageLookup(
                self, "Package", provider=provider, package_arn=package_arn
            )
            container = sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image, model_data_url=self.lookup.model_data_url, environment=env
            )
        else:
            container = sagemaker.CfnModel.ContainerDefinitionProperty(
                model_package_name=package_arn, environment=env
            )
        in_vpc = bool(subnets)
        self.model = sagemaker.CfnModel(
            self,
            "Default",
            execution_role_arn=role.role_arn,
            primary_container=container,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=[subnet.subnet_id for subnet in subnets],
                security_group_ids=[group.security_group_id for group in security_groups],
            )
            if in_vpc
            else None,
            enable_network_isolation=network_isolation and in_vpc,
        )
        # SageMaker checks the role's permissions when it creates the model: wait for its
        # policy (the role itself is already a reference).
        policy = role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            self.model.node.add_dependency(policy)
        self.model_name = self.model.attr_model_name

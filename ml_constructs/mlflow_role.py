"""The role a SageMaker managed MLflow (tracking server or app) acts as."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs.compliance import acknowledge, acknowledge_wildcards


def mlflow_role(
    scope: Construct,
    *,
    owner: str,
    description: str,
    artifact_bucket: s3.IBucket,
    artifact_prefix: str,
    automatic_model_registration: bool,
    protected_group_prefix: str | None = None,
) -> iam.Role:
    """``Role`` in ``scope``, for ``owner`` (``tracking server``, ``MLflow app``): reads and writes the artifact prefix (and its bucket's key) and,
    with automatic model registration, registers models in the SageMaker Model Registry.

    Automatic registration may never create or update packages in the groups named
    ``<protected_group_prefix>-*`` (the platform's served models; default: no such limit).
    Shared by :class:`~ml_constructs.mlflow_tracking_server.MlflowTrackingServer` and
    :class:`~ml_constructs.mlflow_app.MlflowApp`, which SageMaker lets assume it alike.
    """
    stack = Stack.of(scope)
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
        description=description,
    )
    grants = [
        artifact_bucket.grant_read_write(role, f"{artifact_prefix}/*"),
        artifact_bucket.grant_read(role, f"{artifact_prefix}/*"),
    ]
    if artifact_bucket.encryption_key is not None:  # the same grant S3's makes, made visible
        grants.append(artifact_bucket.encryption_key.grant_encrypt_decrypt(role))
    acknowledge_wildcards(
        role,
        [statement for grant in grants for statement in grant.principal_statements],
        reason=f"CDK's grants on the {owner}'s own artifact prefix and its key.",
    )
    if automatic_model_registration:
        registration = iam.PolicyStatement(
            actions=[
                "sagemaker:AddTags",
                "sagemaker:CreateModelPackageGroup",
                "sagemaker:CreateModelPackage",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:UpdateModelPackage",
            ],
            resources=[
                stack.format_arn(
                    service="sagemaker", resource="model-package-group", resource_name="*"
                ),
                stack.format_arn(
                    service="sagemaker", resource="model-package", resource_name="*/*"
                ),
            ],
        )
        role.add_to_principal_policy(registration)
        if protected_group_prefix:
            # Served models' groups are the pipelines' and the release flow's only.
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="NeverTheServedModelsGroups",
                    effect=iam.Effect.DENY,
                    actions=["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
                    resources=[
                        stack.format_arn(
                            service="sagemaker",
                            resource="model-package-group",
                            resource_name=f"{protected_group_prefix}-*",
                        ),
                        stack.format_arn(
                            service="sagemaker",
                            resource="model-package",
                            resource_name=f"{protected_group_prefix}-*/*",
                        ),
                    ],
                )
            )
        acknowledge_wildcards(
            role,
            [registration],
            reason="Automatic registration creates a package group named after each MLflow"
            " registered model, which users name at run time.",
        )
    acknowledge(
        role,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "HIPAA.Security-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
        reason=f"CDK grants specific to the {owner}'s own role; no other role would share a"
        " managed policy.",
    )
    return role

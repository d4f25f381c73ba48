"""The base of the SageMaker managed MLflow constructs (tracking server or serverless app)."""

from __future__ import annotations

from typing import ClassVar

from aws_cdk import CfnResource
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs.compliance import acknowledge_inline_policy, acknowledge_wildcards
from ml_constructs.sagemaker_arns import package_group_arns
from platform_config import MlflowConfig

#: Where a managed MLflow keeps run artifacts, under the artifacts bucket.
MLFLOW_ARTIFACT_PREFIX = "mlflow"

#: What automatic model registration does in the Model Registry.
REGISTRATION_ACTIONS = (
    "sagemaker:AddTags",
    "sagemaker:CreateModelPackageGroup",
    "sagemaker:CreateModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:UpdateModelPackage",
)


class ManagedMlflow(Construct):
    """A managed MLflow storing its artifacts in a platform bucket, and the role it acts as
    (a base class: :class:`~ml_constructs.mlflow_tracking_server.MlflowTrackingServer`,
    :class:`~ml_constructs.mlflow_app.MlflowApp`).

    The role reads and writes the artifact prefix (and its bucket's key) and, with automatic
    model registration, registers models in the SageMaker Model Registry, but never creates
    or updates packages in the groups named ``<protected_group_prefix>-*`` (the platform's
    served models). A subclass names its kind (:attr:`KIND`, :attr:`ACCESS_ACTIONS`) and
    creates its resource (:meth:`_check`, :meth:`_resource`, :meth:`_arn`).

    Attributes
    ----------
    role:
        The role the MLflow acts as.
    server_arn:
        Its ARN, also the ``MLFLOW_TRACKING_URI`` of clients with the ``sagemaker-mlflow``
        plugin (named alike for both kinds, so that either serves).

    Parameters
    ----------
    name:
        Physical name.
    artifact_bucket, artifact_prefix:
        Where run artifacts go (default prefix ``mlflow``).
    settings:
        Size and version (a tracking server's only), automatic registration and
        maintenance window.
    protected_group_prefix:
        Package groups named ``<prefix>-*`` that automatic registration may never create
        packages in or update (default none: no such limit).
    """

    #: The kind in words (``tracking server``, ``app``).
    KIND: ClassVar[str] = ""
    #: Who acts as the role, in the reasons of its acknowledgements.
    OWNER: ClassVar[str] = ""
    #: Describe it and open its UI (beside every ``sagemaker-mlflow`` action).
    ACCESS_ACTIONS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        artifact_bucket: s3.IBucket,
        settings: MlflowConfig,
        artifact_prefix: str = MLFLOW_ARTIFACT_PREFIX,
        protected_group_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._check(settings)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"MLflow {self.KIND} {name}",
        )
        self._grant_artifacts(artifact_bucket, artifact_prefix)
        if settings.automatic_model_registration:
            self._grant_registration(protected_group_prefix)
        acknowledge_inline_policy(
            self.role,
            reason=f"CDK grants specific to the {self.OWNER}'s own role; no other role would"
            " share a managed policy.",
        )
        resource = self._resource(
            name, artifact_bucket.s3_url_for_object(artifact_prefix), settings
        )
        # The MLflow uses the role's permissions as soon as it is created.
        resource.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.server_arn = self._arn()

    def _check(self, settings: MlflowConfig) -> None:
        """Refuse settings this kind cannot take (``ValueError``; default: none)."""

    def _resource(self, name: str, artifact_store_uri: str, settings: MlflowConfig) -> CfnResource:
        """Create the MLflow resource (a subclass's)."""
        raise NotImplementedError

    def _arn(self) -> str:
        """The created resource's ARN (a subclass's)."""
        raise NotImplementedError

    def _grant_artifacts(self, bucket: s3.IBucket, prefix: str) -> None:
        grants = [
            bucket.grant_read_write(self.role, f"{prefix}/*"),
            bucket.grant_read(self.role, f"{prefix}/*"),
        ]
        if bucket.encryption_key is not None:  # the same grant S3's makes, made visible
            grants.append(bucket.encryption_key.grant_encrypt_decrypt(self.role))
        acknowledge_wildcards(
            self.role,
            [statement for grant in grants for statement in grant.principal_statements],
            reason=f"CDK's grants on the {self.OWNER}'s own artifact prefix and its key.",
        )

    def _grant_registration(self, protected_group_prefix: str | None) -> None:
        """Automatic registration: any group MLflow names, but never the protected ones."""
        registration = iam.PolicyStatement(
            actions=list(REGISTRATION_ACTIONS), resources=package_group_arns(self, "*")
        )
        self.role.add_to_principal_policy(registration)
        if protected_group_prefix:
            # Served models' groups are the pipelines' and the release flow's only.
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="NeverTheServedModelsGroups",
                    effect=iam.Effect.DENY,
                    actions=["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
                    resources=package_group_arns(self, f"{protected_group_prefix}-*"),
                )
            )
        acknowledge_wildcards(
            self.role,
            [registration],
            reason="Automatic registration creates a package group named after each MLflow"
            " registered model, which users name at run time.",
        )

    def grant_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` log runs, read them and open the MLflow UI."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker-mlflow:*", *self.ACCESS_ACTIONS],
            resource_arns=[self.server_arn],
        )

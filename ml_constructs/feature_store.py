"""SageMaker Feature Store feature groups, declared as data."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ml_constructs.compliance import acknowledge_inline_policy, acknowledge_wildcards
from ml_constructs.sagemaker_arns import sagemaker_arn
from pipeline_definitions.pipeline_arguments import GLUE_DATABASE
from platform_config import FeatureGroupSpec
from platform_config.names import ResourceNames

_FEATURE_TYPES = {"string": "String", "integral": "Integral", "fractional": "Fractional"}


class FeatureStore(Construct):
    """Feature groups with encrypted online and offline (Iceberg) stores.

    Attributes
    ----------
    feature_groups:
        ``AWS::SageMaker::FeatureGroup`` by catalogue name; each child's id is the group's
        name, so adding one never changes another's logical id.
    offline_store_role:
        Role SageMaker uses to write the offline stores and their Glue tables.
    offline_store_uri:
        Where offline stores are written.

    Parameters
    ----------
    feature_groups:
        The feature group catalogue.
    names:
        The environment's names: a group is deployed as ``names.feature_group(<name>)``.
    offline_bucket, offline_prefix:
        Bucket and key prefix of the offline stores (default prefix ``feature-store``).
    key:
        KMS key encrypting both stores.
    removal_policy:
        Applied to every feature group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        feature_groups: Sequence[FeatureGroupSpec],
        names: ResourceNames,
        offline_bucket: s3.IBucket,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        offline_prefix: str = "feature-store",
    ) -> None:
        super().__init__(scope, construct_id)
        self.offline_store_uri = offline_bucket.s3_url_for_object(offline_prefix)
        self.offline_store_role = self._offline_store_role(offline_bucket, offline_prefix, key)
        self.feature_groups: dict[str, sagemaker.CfnFeatureGroup] = {}
        for spec in feature_groups:
            group = self._feature_group(spec, names.feature_group(spec.name), key)
            group.apply_removal_policy(removal_policy)
            # SageMaker checks the role's permissions when it creates the group: the role's
            # policy must exist first (the role itself is already a dependency via RoleArn).
            group.node.add_dependency(self.offline_store_role.node.find_child("DefaultPolicy"))
            self.feature_groups[spec.name] = group

    def _offline_store_role(
        self, offline_bucket: s3.IBucket, offline_prefix: str, key: kms.IKey
    ) -> iam.Role:
        """The role SageMaker writes the offline stores and their Glue tables as."""
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "OfflineStoreRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker Feature Store: writes offline stores and their Glue tables",
        )
        grants = [
            offline_bucket.grant_read_write(role, f"{offline_prefix}/*"),
            key.grant_encrypt_decrypt(role),
        ]
        glue = iam.PolicyStatement(
            actions=[
                "glue:GetDatabase",
                "glue:CreateDatabase",
                "glue:GetTable",
                "glue:CreateTable",
                "glue:UpdateTable",
            ],
            resources=[
                stack.format_arn(service="glue", resource="catalog"),
                stack.format_arn(service="glue", resource="database", resource_name=GLUE_DATABASE),
                stack.format_arn(
                    service="glue", resource="table", resource_name=f"{GLUE_DATABASE}/*"
                ),
            ],
        )
        role.add_to_principal_policy(glue)
        acknowledge_wildcards(
            role,
            [statement for grant in grants for statement in grant.principal_statements],
            reason="CDK's grants on the offline-store prefix of one bucket and on the data key.",
        )
        acknowledge_wildcards(
            role,
            [glue],
            reason="SageMaker names each offline-store table after its feature group; the"
            " tables are limited to the Feature Store's own Glue database.",
        )
        acknowledge_inline_policy(
            role,
            reason="CDK grants on the bucket and key, specific to this role; no other role"
            " would share a managed policy.",
        )
        return role

    def _feature_group(
        self, spec: FeatureGroupSpec, name: str, key: kms.IKey
    ) -> sagemaker.CfnFeatureGroup:
        """One feature group: its features, online store and offline (Iceberg) store."""
        return sagemaker.CfnFeatureGroup(
            self,
            spec.name,
            feature_group_name=name,
            description=spec.description or None,
            record_identifier_feature_name=spec.record_identifier,
            event_time_feature_name=spec.event_time,
            feature_definitions=[
                sagemaker.CfnFeatureGroup.FeatureDefinitionProperty(
                    feature_name=feature.name, feature_type=_FEATURE_TYPES[feature.type]
                )
                for feature in spec.features
            ],
            online_store_config=self._online_store(spec, key),
            # These two properties are untyped JSON in the L1: CloudFormation's own keys.
            offline_store_config=(
                {
                    "S3StorageConfig": {
                        "S3Uri": self.offline_store_uri,
                        "KmsKeyId": key.key_arn,
                    },
                    "TableFormat": "Iceberg",
                    "DisableGlueTableCreation": False,
                }
                if spec.offline_store
                else None
            ),
            role_arn=self.offline_store_role.role_arn if spec.offline_store else None,
        )

    @staticmethod
    def _online_store(spec: FeatureGroupSpec, key: kms.IKey) -> dict[str, object] | None:
        if not spec.online_store:
            return None
        config: dict[str, object] = {
            "EnableOnlineStore": True,
            "SecurityConfig": {"KmsKeyId": key.key_arn},
        }
        if spec.online_ttl is not None:
            config["TtlDuration"] = {"Unit": spec.online_ttl.unit, "Value": spec.online_ttl.value}
        return config

    def grant_read_write_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put, get and delete records and describe the feature groups."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:PutRecord",
                "sagemaker:GetRecord",
                "sagemaker:BatchGetRecord",
                "sagemaker:DeleteRecord",
                "sagemaker:DescribeFeatureGroup",
            ],
            resource_arns=self.feature_group_arns,
        )

    @property
    def feature_group_arns(self) -> list[str]:
        """ARNs of the feature groups (built from their names: CloudFormation gives none)."""
        return [
            sagemaker_arn(self, "feature-group", group.feature_group_name)
            for group in self.feature_groups.values()
        ]

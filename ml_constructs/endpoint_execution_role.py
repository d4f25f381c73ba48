"""The role a served model's containers act as: only what serving that one model needs."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ml_constructs import sagemaker_container_access as container
from ml_constructs.compliance import acknowledge_inline_policy, acknowledge_wildcards

#: Why each statement's wildcards are needed, by statement id.
REASONS = {
    "PullImages": "SageMaker's prebuilt and AWS Deep Learning Container images live in"
    " AWS-owned accounts that differ per region and framework.",
    "EcrToken": "ecr:GetAuthorizationToken does not support resource-level permissions.",
    "Logs": "SageMaker names the endpoint's (or job's) log streams; the group prefix is"
    " this model's.",
    "Metrics": "PutMetricData has no resource; it is limited by namespace instead.",
    "NetworkInterfaces": "VPC endpoints create network interfaces with generated ids, and"
    " EC2 Describe calls do not support resource-level permissions.",
}


class EndpointExecutionRole(Construct):
    """A SageMaker execution role for one model's endpoint (or transform jobs).

    Out of the box it may pull SageMaker's and the account's images, write the endpoint's
    logs and metrics, create its network interfaces in the VPC, use the volume key, and
    read the model artifacts. The ``grant_*`` methods add data capture, asynchronous
    inference input, output and notifications, each limited to the model's prefix or topic.

    Attributes
    ----------
    role:
        The ``iam.Role`` (logical id stable via ``Default``).

    Parameters
    ----------
    model_name:
        The catalogue model (named in the role's description and log groups).
    log_group_prefix:
        Log groups it may write: ``/aws/sagemaker/<log_group_prefix>*`` (e.g.
        ``Endpoints/ml-platform-dev-churn-prediction`` or ``TransformJobs``).
    volume_key:
        Encrypts the instances' volumes and outputs.
    model_artifacts:
        The bucket the model packages' artifacts are in (read only).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_name: str,
        log_group_prefix: str,
        volume_key: kms.IKey,
        model_artifacts: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Default",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Serves the model {model_name}",
        )
        statements = [
            container.pull_images(stack, "PullImages"),
            container.ecr_token("EcrToken"),
            container.write_logs(stack, "Logs", f"/aws/sagemaker/{log_group_prefix}*"),
            container.put_metrics("Metrics"),
            container.network_interfaces("NetworkInterfaces"),
        ]
        for statement in statements:
            self.role.add_to_principal_policy(statement)
            if statement.sid in REASONS:  # all of them (cdk-nag fails synth on one left out)
                acknowledge_wildcards(self.role, [statement], reason=REASONS[statement.sid])
        grants = [
            volume_key.grant_encrypt_decrypt(self.role),
            volume_key.grant(self.role, "kms:CreateGrant", "kms:DescribeKey"),
            model_artifacts.grant_read(self.role),
        ]
        acknowledge_wildcards(
            self.role,
            [statement for grant in grants for statement in grant.principal_statements],
            reason="CDK's grants: the volume key, and reading model artifacts, whose keys are"
            " chosen by the training pipelines.",
        )
        acknowledge_inline_policy(
            self.role,
            reason="The policy is specific to this one model (its log groups, prefixes and"
            " topics); no other role would share it.",
        )

    def grant_write(self, bucket: s3.IBucket, prefix: str, *, reason: str) -> None:
        """Let the containers (or SageMaker for them) write objects under ``prefix``."""
        grant = bucket.grant_put(self.role, f"{prefix}*")
        acknowledge_wildcards(self.role, grant.principal_statements, reason=reason)

    def grant_read(self, bucket: s3.IBucket, prefix: str, *, reason: str) -> None:
        """Let the containers (or SageMaker for them) read objects under ``prefix``."""
        grant = bucket.grant_read(self.role, f"{prefix}*")
        acknowledge_wildcards(self.role, grant.principal_statements, reason=reason)

    def grant_publish(self, topics: list[sns.ITopic], key: kms.IKey) -> None:
        """Let SageMaker publish the asynchronous endpoint's notifications to ``topics``."""
        for topic in topics:
            topic.grant_publish(self.role)
        grant = key.grant(self.role, "kms:Decrypt", "kms:GenerateDataKey*")
        acknowledge_wildcards(
            self.role,
            grant.principal_statements,
            reason="Publishing to a KMS-encrypted topic needs data keys of the messaging key.",
        )

"""The model and settings batch transform jobs of a catalogue model use."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ml_constructs.served_model import ServedModel
from platform_config.serving_spec import EndpointKind, ServingSpec


class BatchTransformModel(Construct):
    """A :class:`ServedModel` for transform jobs, and their settings in an SSM parameter.

    CloudFormation has no transform job resource: the batch pipeline (or anyone) starts
    jobs. They read the parameter (JSON: ``ModelName``, ``TransformResources``,
    ``TransformOutput``, ``MaxPayloadInMB``, ``MaxConcurrentTransforms``, ``BatchStrategy``,
    ``SplitType``, ``DataProcessing`` not included) so that the model, fleet, VPC placement
    and KMS key are the platform's.

    Attributes
    ----------
    model:
        The :class:`ServedModel`.
    parameter:
        ``ssm.StringParameter`` named ``parameter_name``.

    Parameters
    ----------
    spec:
        The model's :class:`ServingSpec` (kind ``batch``).
    parameter_name:
        Name of the SSM parameter (e.g. ``/ml-platform/dev/serving/lead-scoring/transform``).
    output_uri:
        ``s3://`` prefix of the jobs' output.
    package_arn, role, image, provider, subnets, security_group:
        As for :class:`ServedModel`.
    volume_key:
        Encrypts the jobs' volumes and output.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ServingSpec,
        parameter_name: str,
        output_uri: str,
        package_arn: str,
        role: iam.IRole,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        volume_key: kms.IKey,
        image: str | None = None,
        provider: lambda_.IFunction | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if spec.kind is not EndpointKind.BATCH:
            raise ValueError(f"spec.kind is {spec.kind.value}; BatchTransformModel needs batch")
        self.model = ServedModel(
            self,
            "Model",
            package_arn=package_arn,
            role=role,
            image=image,
            provider=provider,
            subnets=subnets,
            security_groups=[security_group],
            network_isolation=spec.network_isolation,
        )
        batch = spec.batch_settings
        settings = {
            "ModelName": self.model.model_name,
            "TransformResources": {
                "InstanceType": spec.effective_instance_type,
                "InstanceCount": spec.instance_count,
                "VolumeKmsKeyId": volume_key.key_arn,
            },
            "TransformOutput": {"S3OutputPath": output_uri, "KmsKeyId": volume_key.key_arn},
            "MaxPayloadInMB": batch.max_payload_mb,
            "MaxConcurrentTransforms": batch.max_concurrent_transforms,
            "BatchStrategy": batch.batch_strategy,
            "SplitType": batch.split_type,
        }
        self.parameter = ssm.StringParameter(
            self,
            "Settings",
            parameter_name=parameter_name,
            description="Batch transform settings of the platform (JSON)",
            string_value=Stack.of(self).to_json_string(settings),
        )

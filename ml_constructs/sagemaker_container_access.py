"""What every SageMaker container needs from AWS, whether a job's or an endpoint's: pull its
image, write its logs and metrics, and place its network interfaces in the VPC.

The execution roles (:class:`~ml_constructs.sagemaker_execution_role.SageMakerExecutionRole`,
:class:`~ml_constructs.endpoint_execution_role.EndpointExecutionRole`) add these statements
under their own statement ids, each with the reason for its wildcards.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam

#: Pull an image's layers (the repository is AWS's or the account's).
PULL_IMAGE_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
#: Write a container's log streams.
WRITE_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)
#: Create and describe the network interfaces of instances in a VPC.
NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
#: The CloudWatch namespaces SageMaker publishes a container's metrics in.
METRIC_NAMESPACES = ("/aws/sagemaker/*",)


def pull_images(stack: Stack, sid: str) -> iam.PolicyStatement:
    """Pull images of any repository of the stack's region (SageMaker's own images are in
    AWS-owned accounts that differ per region and framework)."""
    return iam.PolicyStatement(
        sid=sid,
        actions=list(PULL_IMAGE_ACTIONS),
        resources=[f"arn:{stack.partition}:ecr:{stack.region}:*:repository/*"],
    )


def ecr_token(sid: str) -> iam.PolicyStatement:
    """Get a registry token (the action has no resource-level permissions)."""
    return iam.PolicyStatement(sid=sid, actions=["ecr:GetAuthorizationToken"], resources=["*"])


def write_logs(
    stack: Stack, sid: str, log_groups: str, *, extra_actions: Sequence[str] = ()
) -> iam.PolicyStatement:
    """Write (and with ``extra_actions``, read) the log groups matching ``log_groups``."""
    return iam.PolicyStatement(
        sid=sid,
        actions=[*WRITE_LOG_ACTIONS, *extra_actions],
        resources=[
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=log_groups,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
    )


def put_metrics(sid: str) -> iam.PolicyStatement:
    """Publish metrics in SageMaker's namespaces (the action has no resource)."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["cloudwatch:PutMetricData"],
        resources=["*"],
        conditions={"StringLike": {"cloudwatch:namespace": list(METRIC_NAMESPACES)}},
    )


def network_interfaces(sid: str) -> iam.PolicyStatement:
    """Place instances in the VPC (interface ids are generated; Describe calls have no
    resource-level permissions)."""
    return iam.PolicyStatement(sid=sid, actions=list(NETWORK_INTERFACE_ACTIONS), resources=["*"])

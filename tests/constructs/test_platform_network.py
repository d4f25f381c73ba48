"""PlatformNetwork on a bare stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match
from syrupy.assertion import SnapshotAssertion

from ml_constructs import PlatformNetwork
from platform_config import InterfaceEndpoint, NetworkConfig
from tests.constructs.helpers import bare_stack, construct_template, key, template


def _network(config: NetworkConfig) -> PlatformNetwork:
    stack = bare_stack()
    return PlatformNetwork(
        stack,
        "Subject",
        config=config,
        flow_logs_key=key(stack),
        log_retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


NEW_VPC = NetworkConfig(
    new_vpc={"cidr": "10.20.0.0/16", "zone_count": 2},
    interface_endpoints=[InterfaceEndpoint.SAGEMAKER_API, InterfaceEndpoint.STS],
)


def test_new_vpc_has_isolated_subnets_flow_logs_and_no_route_out() -> None:
    network = _network(NEW_VPC)
    stack = template(cdk.Stack.of(network))
    stack.resource_count_is("AWS::EC2::Subnet", 2)
    stack.resource_count_is("AWS::EC2::InternetGateway", 0)
    stack.resource_count_is("AWS::EC2::NatGateway", 0)
    stack.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})
    stack.resource_count_is("AWS::EC2::VPCEndpoint", 2 + 2)  # S3, DynamoDB and the interfaces


def test_workload_group_reaches_only_itself_the_endpoints_and_https() -> None:
    network = _network(NEW_VPC)
    template(cdk.Stack.of(network)).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("SageMaker jobs"),
            "SecurityGroupEgress": Match.array_with(
                [Match.object_like({"CidrIp": "0.0.0.0/0", "FromPort": 443, "ToPort": 443})]
            ),
        },
    )


def test_existing_vpc_is_imported_without_creating_one() -> None:
    network = _network(
        NetworkConfig(
            existing_vpc={
                "vpc_id": "vpc-0123456789abcdef0",
                "cidr": "10.30.0.0/16",
                "availability_zones": ["eu-west-1a", "eu-west-1b"],
                "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            }
        )
    )
    stack = template(cdk.Stack.of(network))
    stack.resource_count_is("AWS::EC2::VPC", 0)
    assert network.flow_log_group is None
    assert [subnet.subnet_id for subnet in network.subnets.subnets] == [
        "subnet-0123456789abcdef0",
        "subnet-0123456789abcdef1",
    ]


def test_snapshot(snapshot_json: SnapshotAssertion) -> None:
    assert construct_template(_network(NEW_VPC)) == snapshot_json

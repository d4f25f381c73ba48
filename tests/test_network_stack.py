"""The network stack: a VPC with no way out, its endpoints and its security groups."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from platform_config import InterfaceEndpoint
from platform_config.environment_spec import DEFAULT_INTERFACE_ENDPOINTS
from tests.conftest import SynthesizedPlatform


def _network(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.network)


def test_new_vpc_has_only_isolated_subnets_and_no_route_out(sandbox: SynthesizedPlatform) -> None:
    template = _network(sandbox)
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.10.0.0/16"})
    for kind in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EIP"):
        template.resource_count_is(kind, 0)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.all_resources_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
    routes = template.find_resources("AWS::EC2::Route")
    assert routes == {}, "isolated subnets have no route but the local one and S3's"


def test_subnets_spread_over_zones_resolved_at_deploy_time(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    staging = _network(platforms["staging"])
    staging.resource_count_is("AWS::EC2::Subnet", 3)
    for index in range(3):
        staging.has_resource_properties(
            "AWS::EC2::Subnet",
            {"AvailabilityZone": {"Fn::Select": [index, {"Fn::GetAZs": ""}]}},
        )


def test_flow_logs_capture_all_traffic_to_an_encrypted_log_group(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _network(sandbox)
    template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"KmsKeyId": Match.any_value(), "RetentionInDays": sandbox.config.log_retention_days},
    )


def test_s3_gateway_endpoint_serves_the_isolated_subnets(sandbox: SynthesizedPlatform) -> None:
    _network(sandbox).has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
            "RouteTableIds": [
                {"Ref": "NetworkVpcIsolatedSubnet1RouteTableC39A3F61"},
                {"Ref": "NetworkVpcIsolatedSubnet2RouteTable77E6320E"},
            ],
        },
    )


@pytest.mark.parametrize("endpoint", DEFAULT_INTERFACE_ENDPOINTS, ids=lambda e: e.value)
def test_each_interface_endpoint_is_private_and_behind_its_security_group(
    sandbox: SynthesizedPlatform, endpoint: InterfaceEndpoint
) -> None:
    service = {
        InterfaceEndpoint.SAGEMAKER_API: "sagemaker.api",
        InterfaceEndpoint.SAGEMAKER_RUNTIME: "sagemaker.runtime",
        InterfaceEndpoint.SAGEMAKER_STUDIO: "studio",
        InterfaceEndpoint.SAGEMAKER_NOTEBOOK: "notebook",
        InterfaceEndpoint.SAGEMAKER_EXPERIMENTS: "experiments",
        InterfaceEndpoint.SAGEMAKER_FEATURESTORE_RUNTIME: "featurestore-runtime",
        InterfaceEndpoint.STS: "sts",
        InterfaceEndpoint.ECR_API: "ecr.api",
        InterfaceEndpoint.ECR_DOCKER: "ecr.dkr",
        InterfaceEndpoint.CLOUDWATCH_LOGS: "logs",
        InterfaceEndpoint.CLOUDWATCH_MONITORING: "monitoring",
        InterfaceEndpoint.KMS: "kms",
        InterfaceEndpoint.EVENTBRIDGE: "events",
        InterfaceEndpoint.SQS: "sqs",
        InterfaceEndpoint.ATHENA: "athena",
    }[endpoint]
    endpoints = _network(sandbox).find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    assert len(endpoints) == len(DEFAULT_INTERFACE_ENDPOINTS)
    matching = [
        e["Properties"]
        for e in endpoints.values()
        if str(e["Properties"]["ServiceName"]).endswith(f"{service}'")
        or service in str(e["Properties"]["ServiceName"])
    ]
    assert matching, f"no endpoint for {service}"
    properties = matching[0]
    assert properties["PrivateDnsEnabled"] is True
    assert properties["SecurityGroupIds"] == [
        {"Fn::GetAtt": ["NetworkEndpointSecurityGroup6DEF6240", "GroupId"]}
    ]


def test_endpoint_group_accepts_https_from_the_workload_group_only(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _network(sandbox)
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    endpoint_group = groups["NetworkEndpointSecurityGroup6DEF6240"]["Properties"]
    assert endpoint_group.get("SecurityGroupIngress", []) == []
    ingress = template.find_resources(
        "AWS::EC2::SecurityGroupIngress",
        {
            "Properties": {
                "GroupId": {"Fn::GetAtt": ["NetworkEndpointSecurityGroup6DEF6240", "GroupId"]}
            }
        },
    )
    assert [rule["Properties"]["FromPort"] for rule in ingress.values()] == [443]
    assert all(
        rule["Properties"]["SourceSecurityGroupId"]
        == {"Fn::GetAtt": ["NetworkWorkloadSecurityGroup768B39D0", "GroupId"]}
        for rule in ingress.values()
    )


def test_no_security_group_is_open_to_the_internet(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    for name, platform in platforms.items():
        template = _network(platform)
        for rule in template.find_resources("AWS::EC2::SecurityGroupIngress").values():
            assert "CidrIp" not in rule["Properties"], name
        for group in template.find_resources("AWS::EC2::SecurityGroup").values():
            for rule in group["Properties"].get("SecurityGroupIngress", []):
                assert rule.get("CidrIp") != "0.0.0.0/0", name


def test_default_security_group_is_stripped_of_its_rules(sandbox: SynthesizedPlatform) -> None:
    _network(sandbox).resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_existing_vpc_is_imported_by_id_without_creating_one(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    prod = platforms["prod"]
    template = _network(prod)
    for kind in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::FlowLog"):
        template.resource_count_is(kind, 0)
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcId": "vpc-0a1b2c3d4e5f60718",
            "SubnetIds": [
                "subnet-0a1b2c3d4e5f60001",
                "subnet-0a1b2c3d4e5f60002",
                "subnet-0a1b2c3d4e5f60003",
            ],
        },
    )
    template.has_resource_properties("AWS::EC2::SecurityGroup", {"VpcId": "vpc-0a1b2c3d4e5f60718"})


def test_vpc_and_flow_log_group_logical_ids_are_pinned(sandbox: SynthesizedPlatform) -> None:
    template = _network(sandbox)
    assert set(template.find_resources("AWS::EC2::VPC")) == {"NetworkVpc7FB7348F"}
    assert set(template.find_resources("AWS::Logs::LogGroup")) == {"NetworkFlowLogs2BEC3212"}

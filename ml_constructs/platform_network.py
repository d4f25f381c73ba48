"""The private network SageMaker runs in: a VPC with no route to the internet."""

from __future__ import annotations

from aws_cdk import Annotations, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ml_constructs.compliance import acknowledge, acknowledge_inline_policy
from platform_config import InterfaceEndpoint, NetworkConfig

#: The AWS service of each interface endpoint the configuration can ask for.
ENDPOINT_SERVICES: dict[InterfaceEndpoint, ec2.InterfaceVpcEndpointAwsService] = {
    InterfaceEndpoint.SAGEMAKER_API: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    InterfaceEndpoint.SAGEMAKER_RUNTIME: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    InterfaceEndpoint.SAGEMAKER_STUDIO: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,
    InterfaceEndpoint.SAGEMAKER_NOTEBOOK: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_NOTEBOOK,
    InterfaceEndpoint.SAGEMAKER_EXPERIMENTS: (
        ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_EXPERIMENTS  # MLflow tracking servers
    ),
    InterfaceEndpoint.SAGEMAKER_FEATURESTORE_RUNTIME: (
        ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_FEATURESTORE_RUNTIME
    ),
    InterfaceEndpoint.STS: ec2.InterfaceVpcEndpointAwsService.STS,
    InterfaceEndpoint.ECR_API: ec2.InterfaceVpcEndpointAwsService.ECR,
    InterfaceEndpoint.ECR_DOCKER: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    InterfaceEndpoint.CLOUDWATCH_LOGS: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    InterfaceEndpoint.CLOUDWATCH_MONITORING: (
        ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING
    ),
    InterfaceEndpoint.KMS: ec2.InterfaceVpcEndpointAwsService.KMS,
    InterfaceEndpoint.EVENTBRIDGE: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
    InterfaceEndpoint.SQS: ec2.InterfaceVpcEndpointAwsService.SQS,
    InterfaceEndpoint.ATHENA: ec2.InterfaceVpcEndpointAwsService.ATHENA,
}

# Studio's shared EFS volume (NFS) and multi-node training talk between workload ENIs.
_WORKLOAD_PEER_TRAFFIC = ec2.Port.all_traffic()


class PlatformNetwork(Construct):
    """A VPC with isolated private subnets, VPC endpoints and the security groups around them.

    For ``config.new_vpc`` it creates the VPC: isolated subnets in each configured zone, no
    NAT gateway and no internet gateway, free S3 and DynamoDB gateway endpoints, flow logs of all traffic
    to an encrypted log group, and the default security group stripped of its rules. For
    ``config.existing_vpc`` it imports the VPC from its ids, with no lookup at synth.

    Attributes
    ----------
    vpc:
        The VPC (``ec2.IVpc``).
    subnets:
        The isolated subnets SageMaker uses.
    workload_security_group:
        For SageMaker jobs, the domain, endpoints and Lambdas: reaches the endpoints over
        HTTPS and its own members on any port; nothing else may reach it.
    endpoint_security_group:
        On the interface endpoints: accepts HTTPS from the workload group only.
    interface_endpoints:
        The endpoints created, by :class:`InterfaceEndpoint`, in the subnets of the first
        ``config.interface_endpoint_zones`` zones (default: every zone).
    flow_log_group:
        The flow log group (``None`` for an imported VPC: its owner logs it).

    Parameters
    ----------
    config:
        The environment's network settings.
    flow_logs_key:
        KMS key of the flow log group; its policy must allow CloudWatch Logs.
    log_retention:
        Retention of the flow log group.
    removal_policy:
        Applied to the flow log group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: NetworkConfig,
        flow_logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.flow_log_group: logs.ILogGroup | None = None
        if config.new_vpc is not None:
            self.vpc: ec2.IVpc = self._new_vpc(
                config,
                flow_logs_key=flow_logs_key,
                log_retention=log_retention,
                removal_policy=removal_policy,
            )
        else:
            self.vpc = self._existing_vpc(config)
        self.subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.workload_security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=self.vpc,
            description="SageMaker jobs, domain, endpoints and Lambdas of the ML platform",
            allow_all_outbound=False,
        )
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints of the ML platform",
            allow_all_outbound=False,
        )
        self._security_group_rules()
        self.interface_endpoints: dict[InterfaceEndpoint, ec2.InterfaceVpcEndpoint] = {}
        # In the first `interface_endpoint_zones` zones (default all): each zone bills.
        zones = config.interface_endpoint_zones or len(self.subnets.subnets)
        endpoint_subnets = ec2.SubnetSelection(subnets=self.subnets.subnets[:zones])
        for endpoint in config.interface_endpoints:
            self.interface_endpoints[endpoint] = ec2.InterfaceVpcEndpoint(
                self,
                _pascal(endpoint.value) + "Endpoint",
                vpc=self.vpc,
                service=ENDPOINT_SERVICES[endpoint],
                subnets=endpoint_subnets,
                security_groups=[self.endpoint_security_group],
                open=False,
                private_dns_enabled=True,
            )

    def _existing_vpc(self, config: NetworkConfig) -> ec2.IVpc:
        """The configured VPC, imported with its isolated subnets."""
        existing = config.existing_vpc
        assert existing is not None  # guaranteed by NetworkConfig
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=existing.vpc_id,
            vpc_cidr_block=existing.cidr,
            availability_zones=list(existing.availability_zones),
            isolated_subnet_ids=list(existing.subnet_ids),
        )
        Annotations.of(vpc).acknowledge_warning(
            "@aws-cdk/aws-ec2:noSubnetRouteTableId",
            "The platform adds no route or gateway endpoint to an imported VPC, so it never"
            " reads its subnets' route tables.",
        )
        return vpc

    def _security_group_rules(self) -> None:
        """Workload members talk to each other, to the endpoints and to S3; nothing else."""
        workload, endpoints = self.workload_security_group, self.endpoint_security_group
        workload.add_ingress_rule(workload, _WORKLOAD_PEER_TRAFFIC, "Between workload members")
        acknowledge(
            workload,
            "NIST.800.53.R5-EC2RestrictedCommonPorts",
            "HIPAA.Security-EC2RestrictedCommonPorts",
            "PCI.DSS.321-EC2RestrictedCommonPorts",
            reason="The only ingress is from this same group: SageMaker distributed training"
            " and Studio's EFS volume need all traffic between its members; nothing outside"
            " the group can reach it.",
        )
        workload.add_egress_rule(workload, _WORKLOAD_PEER_TRAFFIC, "Between workload members")
        workload.add_egress_rule(endpoints, ec2.Port.HTTPS, "To the interface endpoints")
        # S3 is reached through the gateway endpoint, whose prefix list id is regional and
        # would need a lookup; the isolated subnets have no other route out, so HTTPS to
        # anywhere reaches only S3 and the endpoints.
        workload.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.HTTPS, "To S3 (gateway route)")
        endpoints.add_ingress_rule(workload, ec2.Port.HTTPS, "From the workload")

    def _new_vpc(
        self,
        config: NetworkConfig,
        *,
        flow_logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> ec2.Vpc:
        assert config.new_vpc is not None
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.new_vpc.cidr),
            max_azs=config.new_vpc.zone_count,
            nat_gateways=0,
            create_internet_gateway=False,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=flow_logs_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        flow_log = vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        acknowledge_inline_policy(
            flow_log.node.find_child("IAMRole"),
            reason="CDK's grant to the flow-log delivery role, scoped to this one log group;"
            " the role has no other use that a managed policy would share.",
        )
        self._annotate_default_group_restriction(vpc)
        return vpc

    @staticmethod
    def _annotate_default_group_restriction(vpc: ec2.Vpc) -> None:
        """Scope cfn-lint's W3005 to the handler CDK generates to empty the default group.

        The generated handler both references its role with ``Fn::GetAtt`` and lists it in
        ``DependsOn``; cfn-lint warns about the redundancy, which is CDK's, not ours.
        """
        provider = Stack.of(vpc).node.try_find_child(
            "Custom::VpcRestrictDefaultSGCustomResourceProvider"
        )
        handler = provider.node.try_find_child("Handler") if provider else None
        if isinstance(handler, CfnResource):
            handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))

"""The findings on the Lambda function CDK's ``BucketDeployment`` brings, acknowledged."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnResource, Stack, Token
from aws_cdk import aws_iam as iam

from ml_constructs.compliance import INLINE_POLICY_RULES, acknowledge, acknowledge_wildcards

#: The findings on CDK's deployment handler, each with its reason.
HANDLER_FINDINGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("AwsSolutions-L1",),
        (
            "CDK's BucketDeployment handler: aws-cdk-lib pins its runtime and it"
            " moves forward when aws-cdk-lib is bumped; the function is not ours to change."
        ),
    ),
    (
        (
            "NIST.800.53.R5-LambdaInsideVPC",
            "HIPAA.Security-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
        ),
        (
            "CDK's deployment handler copies the platform's own step scripts (code, not"
            " data) between two S3 buckets through AWS APIs during a deployment; it reaches no"
            " resource in the VPC, and outside it does not depend on the VPC's endpoints."
        ),
    ),
    (
        (
            "NIST.800.53.R5-LambdaConcurrency",
            "PCI.DSS.321-LambdaConcurrency",
            "HIPAA.Security-LambdaConcurrency",
        ),
        (
            "Invoked only by CloudFormation, once per deployment of this stack; a"
            " concurrency reservation would only take capacity from the account."
        ),
    ),
    (
        ("NIST.800.53.R5-LambdaDLQ", "PCI.DSS.321-LambdaDLQ", "HIPAA.Security-LambdaDLQ"),
        (
            "Invoked synchronously by CloudFormation, which reports a failure as a"
            " failed deployment and rolls back; there is no asynchronous event to keep."
        ),
    ),
    (
        (
            (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]"
            ),
        ),
        (
            "CDK's deployment handler uses AWSLambdaBasicExecutionRole, which only lets"
            " it write its own logs."
        ),
    ),
    (
        INLINE_POLICY_RULES,
        (
            "CDK writes the handler's grants (read the asset, write the code bucket) as"
            " the role's own policy; no other role would share it."
        ),
    ),
)


def acknowledge_deployment_handler(stack: Stack) -> None:
    """Acknowledge the findings on the Lambda function ``BucketDeployment`` provides.

    CDK creates one handler per stack (a singleton) that copies the step scripts from the
    CDK assets bucket to the code bucket when the stack deploys.
    """
    for child in stack.node.children:
        if not child.node.id.startswith("Custom::CDKBucketDeployment"):
            continue
        for rules, reason in HANDLER_FINDINGS:
            acknowledge(child, *rules, reason=reason)
        # cfn-lint W3005: the DependsOn on the role beside a GetAtt of it is CDK's.
        function = child.node.default_child
        assert isinstance(function, CfnResource)
        function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        policy = child.node.find_child("ServiceRole").node.find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        document = stack.resolve(policy.document.to_json())
        acknowledge_wildcards(
            policy,
            [_statement(statement) for statement in document["Statement"]],
            reason="CDK's BucketDeployment grants: read the step-code asset in the CDK assets"
            " bucket, write and list the objects of the pipeline code bucket (and use its key).",
        )


def _statement(resolved: dict[str, Any]) -> iam.PolicyStatement:
    """A statement of a synthesized policy (intrinsics kept as tokens), for its findings."""

    def strings(value: Any) -> list[str]:
        values = value if isinstance(value, list) else [value]
        return [item if isinstance(item, str) else Token.as_string(item) for item in values]

    return iam.PolicyStatement(
        effect=iam.Effect(resolved["Effect"].upper()),
        actions=strings(resolved.get("Action", [])),
        resources=strings(resolved.get("Resource", [])),
    )

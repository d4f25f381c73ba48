"""The delivery pipeline: CDK Pipelines in the tooling account, promoting the platform."""

from __future__ import annotations

import re

from aws_cdk import (
    App,
    Aspects,
    CfnCondition,
    CfnResource,
    Duration,
    Environment,
    Stack,
    Token,
    pipelines,
)
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from ml_constructs import (
    ArtifactBucketHardening,
    acknowledge,
    acknowledge_generated_wildcards,
    acknowledge_inline_policy,
    add_compliance_checks,
)
from ml_constructs.released_versions import OnlyUnderCondition
from platform_config import EnvironmentConfig
from platform_config.delivery import DeliveryConfig, DeliveryStageSpec
from platform_config.names import BucketKind, delivery_names
from platform_contracts.releases import Slot
from platform_contracts.smoke_check import SMOKE_CHECK_REQUIREMENTS, SmokeTargets
from stacks.platform_app import construct_id_of
from stacks.platform_stage import PlatformStage

#: The README's commands, as the synth step runs them: install, test, synthesize this app.
SYNTH_INSTALL_COMMANDS = ("make setup",)
SYNTH_COMMANDS = ("make test", "make synth-delivery")
#: Where ``make synth-delivery`` writes the cloud assembly the pipeline deploys.
SYNTH_OUTPUT = "cdk.out"


class DeliveryStack(Stack):
    """A CDK Pipelines ``CodePipeline`` that promotes the platform through its environments.

    In the tooling account and region of ``config``: the source is the repository behind a
    CodeConnections connection; the synth step installs with ``make setup``, runs
    ``make test`` and ``make synth-delivery``; the pipeline updates itself (self-mutation),
    then deploys one :class:`PlatformStage` per environment in the order of
    ``config.stages``. The stages are created in ``scope`` (beside this stack, normally at the
    top of the app) with the construct id ``cdk deploy -c env=<name>`` uses, so that both
    deploy the same templates. Artifacts are encrypted with KMS keys the target
    accounts' deployment roles may use (``cross_account_keys``).

    Before a stage with ``manual_approval``: a check that stops the pipeline when the stage
    would broaden IAM permissions or security groups (``ConfirmPermissionsBroadening``),
    then a manual approval. After every stage: a smoke check (``scripts/smoke_check.py``) in
    CodeBuild that assumes the target account's read-only CDK lookup role and checks the
    stage's stacks, domain, model package groups, pipelines and endpoints.

    Attributes
    ----------
    pipeline:
        The ``pipelines.CodePipeline`` (built: ``pipeline.pipeline`` is the CodePipeline).
    source:
        The repository source (``CodePipelineSource.connection``).
    stages:
        The :class:`PlatformStage` of each environment, in promotion order.
    smoke_checks:
        The smoke check ``CodeBuildStep`` of each stage, by environment name.

    Parameters
    ----------
    config:
        The validated ``config/delivery.yaml`` (:func:`platform_config.delivery.load_delivery`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: DeliveryConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=config.account, region=config.region),
            stack_name=config.pipeline_name,
            description="ML platform: delivery pipeline promoting the platform between"
            " environments",
            termination_protection=config.termination_protection,
        )
        self.source = pipelines.CodePipelineSource.connection(
            config.repository, config.branch, connection_arn=config.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=config.pipeline_name,
            synth=self._synth_step(),
            self_mutation=True,
            cross_account_keys=True,
            enable_key_rotation=True,
            cli_version=config.cdk_cli_version,
        )
        self.stages: list[PlatformStage] = []
        self.smoke_checks: dict[str, pipelines.CodeBuildStep] = {}
        for spec in config.stages:
            self._add_stage(scope, config, spec)
        # Build now rather than during synth, so that the resources CDK Pipelines creates
        # exist here to be hardened and their findings acknowledged.
        self.pipeline.build_pipeline()
        self._harden_artifact_stores(config)
        self._acknowledge_generated_resources()

    def _synth_step(self) -> pipelines.CodeBuildStep:
        """Install, test and synthesize the app as the README says."""
        return pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            install_commands=list(SYNTH_INSTALL_COMMANDS),
            commands=list(SYNTH_COMMANDS),
            primary_output_directory=SYNTH_OUTPUT,
            build_environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.MEDIUM,
                # The tests prove synth is offline by running it in `unshare --net`, which
                # needs the capabilities of a privileged build container.
                privileged=True,
            ),
            timeout=Duration.minutes(60),
        )

    def _add_stage(self, scope: Construct, config: DeliveryConfig, spec: DeliveryStageSpec) -> None:
        """Deploy one environment's stage: checks and approval before, a smoke check after."""
        environment = config.environment_of(spec)
        # Beside this stack, not inside it: names and logical ids CDK derives from construct
        # paths (VPC Name tags, security group rules) then equal `cdk deploy`'s.
        stage = PlatformStage(scope, construct_id_of(environment.name), config=environment)
        pre: list[pipelines.Step] = []
        if spec.manual_approval:
            broadening = pipelines.ConfirmPermissionsBroadening(
                "PermissionsBroadening", stage=stage
            )
            approval = pipelines.ManualApprovalStep(
                "Approve",
                comment=f"Deploy the ML platform to {environment.name}"
                f" ({environment.account}, {environment.region})?",
            )
            approval.add_step_dependency(broadening)  # the check first, then a person
            pre = [broadening, approval]
        smoke_check = self._smoke_check(
            stage, environment, role_arn=config.smoke_check_role_arn(environment)
        )
        self.pipeline.add_stage(stage, pre=pre, post=[smoke_check])
        self.stages.append(stage)
        self.smoke_checks[environment.name] = smoke_check

    def _smoke_check(
        self, stage: PlatformStage, environment: EnvironmentConfig, *, role_arn: str
    ) -> pipelines.CodeBuildStep:
        targets = smoke_targets(stage)
        return pipelines.CodeBuildStep(
            "SmokeCheck",
            input=self.source,
            install_commands=[f"python -m pip install --quiet {SMOKE_CHECK_REQUIREMENTS}"],
            commands=[targets.command(region=environment.region, role_arn=role_arn)],
            role_policy_statements=[
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn])
            ],
            timeout=Duration.minutes(15),
        )

    def _harden_artifact_stores(self, config: DeliveryConfig) -> None:
        access_logs = delivery_names(config.account, config.region).bucket(BucketKind.ACCESS_LOGS)
        ArtifactBucketHardening(
            self,
            "ArtifactStore",
            bucket=self.pipeline.pipeline.artifact_bucket,
            access_logs_bucket_name=access_logs,
        )
        for region, support in sorted(self.pipeline.pipeline.cross_region_support.items()):
            ArtifactBucketHardening(
                support.stack,
                "ArtifactStore",
                bucket=support.replication_bucket,
                access_logs_bucket_name=delivery_names(config.account, region).bucket(
                    BucketKind.ACCESS_LOGS
                ),
            )

    def _acknowledge_generated_resources(self) -> None:
        """Acknowledge the findings on resources CDK Pipelines writes, each with its reason."""
        built = self.pipeline.pipeline
        reasons = _wildcard_reasons(self, built.artifact_bucket.bucket_arn)
        for support in built.cross_region_support.values():
            name = self.resolve(support.replication_bucket.bucket_name)
            reasons[rf"Resource::arn:aws:s3:::{re.escape(name)}/\*"] = (
                "Objects of the pipeline's replication bucket in another region, which CDK"
                " Pipelines writes artifacts to for the stages there."
            )
        for construct in self.pipeline.node.find_all():
            if isinstance(construct, iam.Policy):
                # A wildcard no reason covers is left open: synth reports it.
                path = construct.node.path
                star = next((why for role, why in _RESOURCE_STAR.items() if role in path), None)
                acknowledge_generated_wildcards(
                    construct, {**reasons, **({r"Resource::\*": star} if star else {})}
                )
                acknowledge_inline_policy(
                    construct,
                    reason="CDK Pipelines writes one policy per role of its own, specific to"
                    " that role's project or action; no other role would share it.",
                )
            elif isinstance(construct, codebuild.CfnProject):
                acknowledge(
                    construct,
                    "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
                    "PCI.DSS.321-CodeBuildProjectSourceRepoUrl",
                    reason="The project's source is the pipeline's artifact (type CODEPIPELINE),"
                    " fetched through the CodeConnections connection: no URL, no credentials.",
                )
        synth_project = self.pipeline.synth_project
        acknowledge(
            synth_project,
            "AwsSolutions-CB3",
            reason="The test suite proves synth is offline by running it in `unshare --net`,"
            " which needs a privileged build container; it builds no Docker image.",
        )
        self._acknowledge_auto_approve()
        # cfn-lint, scoped to two resources CDK writes: W3005 (a DependsOn on a role beside
        # the GetAtt of its ARN) on both; E3703 on the pipeline, whose check of action
        # configurations rejects the Fn::Join CDK writes for the target accounts' role ARNs.
        security_check = self.pipeline.node.try_find_child("PipelinesSecurityCheck")
        ignored = [(built.node.default_child, ["E3703", "W3005"])]
        if security_check is not None:
            function = security_check.node.find_child("CDKPipelinesAutoApprove")
            ignored.append((function.node.default_child, ["W3005"]))
        for resource, checks in ignored:
            if isinstance(resource, CfnResource):
                resource.add_metadata("cfn-lint", {"config": {"ignore_checks": checks}})

    def _acknowledge_auto_approve(self) -> None:
        """The Lambda ``ConfirmPermissionsBroadening`` uses to approve a harmless change."""
        function = self.pipeline.node.try_find_child("PipelinesSecurityCheck")
        if function is None:
            return
        approve = function.node.find_child("CDKPipelinesAutoApprove")
        acknowledge(
            approve,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            reason="CDK's auto-approve function uses AWSLambdaBasicExecutionRole only to write"
            " its own logs.",
        )
        acknowledge(
            approve,
            "NIST.800.53.R5-LambdaInsideVPC",
            "HIPAA.Security-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
            reason="The tooling account has no VPC: the function only calls CodePipeline's"
            " API to approve a change that broadens no permission.",
        )
        acknowledge(
            approve,
            "NIST.800.53.R5-LambdaDLQ",
            "HIPAA.Security-LambdaDLQ",
            reason="Invoked synchronously by the security check's build, which fails when"
            " the call fails: there is no asynchronous event to keep.",
        )
        acknowledge(
            approve,
            "NIST.800.53.R5-LambdaConcurrency",
            "HIPAA.Security-LambdaConcurrency",
            reason="Runs once per security check of one pipeline; reserving concurrency"
            " would take it from the account's pool for nothing.",
        )
        acknowledge(
            approve,
            "NIST.800.53.R5-CloudWatchLogGroupEncrypted",
            "HIPAA.Security-CloudWatchLogGroupEncrypted",
            "PCI.DSS.321-CloudWatchLogGroupEncrypted",
            reason="The log group is CDK's and holds only the approval calls' pipeline, stage"
            " and action names, no data of the platform.",
        )


def smoke_targets(stage: PlatformStage) -> SmokeTargets:
    """What the smoke check verifies after ``stage`` deploys, read from its constructs.

    Its stacks, and the physical names of its SageMaker domain, model package groups,
    pipelines and endpoints (those given a name at synth; generated names are skipped).
    """
    found = stage.node.find_all()

    def names(kind: type, attribute: str) -> list[str]:
        values = [
            getattr(construct, attribute) for construct in found if isinstance(construct, kind)
        ]
        return sorted(str(v) for v in values if v is not None and not Token.is_unresolved(v))

    domains = names(sagemaker.CfnDomain, "domain_name")
    return SmokeTargets(
        stacks=[stack.stack_name for stack in stage.platform.stacks],
        domain=domains[0] if domains else None,
        model_package_groups=names(sagemaker.CfnModelPackageGroup, "model_package_group_name"),
        pipelines=names(sagemaker.CfnPipeline, "pipeline_name"),
        endpoints=names(sagemaker.CfnEndpoint, "endpoint_name"),
        released_by=_released_by(stage),
    )


def _released_by(stage: PlatformStage) -> dict[str, str]:
    """Pipelines and endpoints (``pipeline:<name>``, ``endpoint:<name>``) that exist only once
    their model's champion is released, with the release record that says so (its SSM
    parameter's name)."""
    found: dict[str, str] = {}
    for stacks in stage.platform.models.values():
        released = stacks.model.released
        record = released.parameters[Slot.CHAMPION].default
        condition = released.released
        for construct in stacks.model.node.find_all():
            if isinstance(construct, sagemaker.CfnEndpoint) and _under_condition(
                construct, condition
            ):
                found[f"endpoint:{construct.endpoint_name}"] = str(record)
            elif isinstance(construct, sagemaker.CfnPipeline) and _under_condition(
                construct, condition
            ):
                found[f"pipeline:{construct.pipeline_name}"] = str(record)
    return found


def _under_condition(construct: IConstruct, condition: CfnCondition) -> bool:
    """Whether an :class:`OnlyUnderCondition` aspect of ``construct`` or of a scope above
    it applies ``condition`` (``ReleasedVersions.only_when_released``: the aspect applies the
    condition only when the app synthesizes, after this runs)."""
    return any(
        isinstance(aspect, OnlyUnderCondition) and aspect.condition is condition
        for scope in construct.node.scopes
        for aspect in Aspects.of(scope).all
    )


def _wildcard_reasons(stack: Stack, artifact_bucket_arn: str) -> dict[str, str]:
    """Why each kind of wildcard CDK Pipelines writes is acceptable, by finding pattern."""
    bucket = stack.resolve(artifact_bucket_arn)["Fn::GetAtt"][0]
    codebuild_arn = rf"arn:aws:(codebuild|logs):{stack.region}:{stack.account}:"
    return {
        r"Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort|PutObject)\*": (
            "CDK's read and read-write grants on the pipeline's artifact buckets: these"
            " action groups, scoped to those buckets and their objects."
        ),
        r"Action::kms:(GenerateDataKey|ReEncrypt)\*": (
            "CDK's grants on the artifact keys: these action groups, scoped to those keys."
        ),
        rf"Resource::<{bucket}\.Arn>/\*": (
            "Objects of the pipeline's own artifact bucket, where every action reads its"
            " input and writes its output."
        ),
        rf"Resource::{codebuild_arn}report-group/(<[A-Za-z0-9]+>-)?\*": (
            "Test report groups of the pipeline's CodeBuild projects, created by CodeBuild"
            " with the project's name as prefix."
        ),
        rf"Resource::{codebuild_arn}log-group:/aws/codebuild/(<[A-Za-z0-9]+>)?(:\*|\*)": (
            "Log groups and streams of the pipeline's CodeBuild projects, created by"
            " CodeBuild on each build."
        ),
        rf"Resource::arn:\*:iam::{stack.account}:role/\*": (
            "Self-mutation assumes the tooling account's CDK bootstrap roles, restricted by"
            " a condition on their aws-cdk:bootstrap-role tag to publishing and deploy roles."
        ),
        r"Resource::<[A-Za-z0-9]+AutoApprove[A-Za-z0-9]+\.Arn>:\*": (
            "Versions and aliases of the pipeline's own auto-approve function."
        ),
    }


#: The roles CDK Pipelines gives ``Resource: *`` statements, and why each is acceptable.
_RESOURCE_STAR = {
    "/Pipeline/Role/": "The pipeline role uses the replication keys of other regions, which CDK"
    " names by alias in their buckets' stacks, so their key ids are not known here.",
    "/UpdatePipeline/SelfMutation/Role/": "Self-mutation reads stack status"
    " (cloudformation:DescribeStacks) and lists buckets: CDK writes these for any stack.",
    "/Assets/FileRole/": "Asset publishing starts and follows its own CodeBuild builds; CDK"
    " Pipelines writes this statement without the project's ARN.",
    "/CDKPipelinesAutoApprove/ServiceRole/": "The auto-approve function may approve only in"
    " pipelines tagged SECURITY_CHECK=ALLOW_APPROVE (an aws:ResourceTag condition).",
    "/CDKSecurityCheck/Role/": "The security check assumes only roles tagged as CDK bootstrap"
    " deploy roles (an iam:ResourceTag condition), in whichever target account.",
}


def build_delivery(app: App, config: DeliveryConfig) -> DeliveryStack:
    """Add the compliance rule packs and the delivery pipeline's stack to ``app``."""
    add_compliance_checks(app)
    return DeliveryStack(app, "Delivery", config=config)

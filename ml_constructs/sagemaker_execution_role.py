"""The least-privilege role SageMaker Studio users and the platform's jobs act as."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ml_constructs import sagemaker_container_access as container
from ml_constructs.compliance import (
    acknowledge_inline_policy,
    acknowledge_wildcards,
    acknowledge_wildcards_each,
)
from ml_constructs.sagemaker_arns import sagemaker_arn

_SAGEMAKER = iam.ServicePrincipal("sagemaker.amazonaws.com")

#: Run and follow SageMaker jobs, and the models they create.
RUN_JOB_ACTIONS = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:StopTransformJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:CreateAutoMLJobV2",
    "sagemaker:DescribeAutoMLJobV2",
    "sagemaker:StopAutoMLJob",
    "sagemaker:CreateModel",
    "sagemaker:DescribeModel",
    "sagemaker:DeleteModel",
    "sagemaker:AddTags",
    "sagemaker:ListTags",
)
#: The kinds of resources (ARN resource types) of :data:`RUN_JOB_ACTIONS`.
JOB_RESOURCES = (
    "training-job",
    "processing-job",
    "transform-job",
    "hyper-parameter-tuning-job",
    "automl-job",
    "model",
)
#: Start and follow a pipeline's executions.
PIPELINE_ACTIONS = (
    "sagemaker:DescribePipeline",
    "sagemaker:DescribePipelineDefinitionForExecution",
    "sagemaker:DescribePipelineExecution",
    "sagemaker:ListPipelineExecutions",
    "sagemaker:ListPipelineExecutionSteps",
    "sagemaker:StartPipelineExecution",
    "sagemaker:StopPipelineExecution",
    "sagemaker:RetryPipelineExecution",
    "sagemaker:SendPipelineExecutionStepSuccess",
    "sagemaker:SendPipelineExecutionStepFailure",
)
#: Read the packages of a model package group.
READ_PACKAGE_ACTIONS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
)
#: List and search calls, which have no resource-level permissions.
LIST_ACTIONS = (
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListProcessingJobs",
    "sagemaker:ListTransformJobs",
    "sagemaker:ListPipelines",
    "sagemaker:ListModelPackageGroups",
    "sagemaker:ListModels",
    "sagemaker:ListFeatureGroups",
    "sagemaker:Search",
)
#: Why each statement's wildcards are needed, by statement id.
REASONS = {
    "RunJobs": "Job and model names are generated per run, so they are scoped to this"
    " account and region only.",
    "UsePlatformPipelines": "Limited to the named pipelines (or those named after this"
    " environment); their executions have generated ids.",
    "RegisterModelPackages": "Limited to the named package groups (or those named after"
    " this environment), as PendingManualApproval only; versions are numbered by"
    " SageMaker.",
    "ReadModelPackages": "Limited to the named package groups (or those named after"
    " this environment); package versions are numbered by SageMaker.",
    "ListAndSearch": "List and Search calls do not support resource-level permissions.",
    "PullSageMakerImages": "SageMaker's prebuilt images live in AWS-owned accounts that"
    " differ per region and framework.",
    "EcrToken": "ecr:GetAuthorizationToken does not support resource-level permissions.",
    "JobLogs": "SageMaker writes each job's logs to log groups under /aws/sagemaker/.",
    "JobMetrics": "PutMetricData has no resource; it is limited by namespace instead.",
    "JobNetworkInterfaces": "VPC jobs create network interfaces with generated ids, and"
    " EC2 Describe calls do not support resource-level permissions.",
}


class SageMakerExecutionRole(Construct):
    """A SageMaker execution role without ``AmazonSageMakerFullAccess``.

    It may run SageMaker jobs (training, processing, transform, tuning, AutoML) in the VPC,
    start and follow the named pipelines, register model packages in the named groups only
    as ``PendingManualApproval`` (never approve one: ``CreateModelPackage`` is conditioned
    on ``sagemaker:ModelApprovalStatus``, and there is no ``UpdateModelPackage``), and pull
    SageMaker's container images. Data access is granted by the owners of the data (``bucket.grant_read_write(role)``,
    ``feature_store.grant_read_write_records(role)``, ``mlflow.grant_access(role)``).

    Attributes
    ----------
    role:
        The ``iam.Role`` (logical id stable via ``Default``).

    Parameters
    ----------
    description:
        The role's description (who acts as it).
    pipelines:
        Names (or ``*`` patterns) of the pipelines it may start and follow (none: no
        pipeline statement).
    package_groups:
        Names (or ``*`` patterns) of the model package groups it may register in (none: no
        registry statement).
    volume_key:
        KMS key of job volumes and outputs; the role may use it and create grants for
        SageMaker.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        pipelines: Sequence[str],
        package_groups: Sequence[str],
        volume_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Default",
            assumed_by=_SAGEMAKER,
            description=description,
        )
        key_grants = [
            volume_key.grant_encrypt_decrypt(self.role),
            volume_key.grant(self.role, "kms:CreateGrant", "kms:DescribeKey"),
        ]
        statements = self._sagemaker_statements(pipelines, package_groups)
        statements += self._container_statements()
        # A role with no pipelines or groups (a monitoring jobs' role) gets no such statement.
        statements = [statement for statement in statements if statement.resources]
        for statement in statements:
            self.role.add_to_principal_policy(statement)
        acknowledge_wildcards(
            self.role,
            [statement for grant in key_grants for statement in grant.principal_statements],
            reason="CDK's grant on the workload key, which SageMaker uses for job volumes.",
        )
        acknowledge_wildcards_each(
            self.role,
            [
                ([statement], REASONS[statement.sid])
                for statement in statements
                if statement.sid in REASONS
            ],
        )
        acknowledge_inline_policy(
            self.role,
            reason="The role's policy is specific to it (its own name prefix, buckets, keys);"
            " grants from the data owners land next to it. No other role would share it.",
        )

    def _arn(self, resource: str, name: str) -> str:
        return sagemaker_arn(self, resource, name)

    def _sagemaker_statements(
        self, pipelines: Sequence[str], package_groups: Sequence[str]
    ) -> list[iam.PolicyStatement]:
        """Run jobs, use the named pipelines, register in and read the named groups."""
        arn = self._arn
        packages = [arn("model-package-group", name) for name in package_groups] + [
            arn("model-package", f"{name}/*") for name in package_groups
        ]
        return [
            iam.PolicyStatement(
                sid="RunJobs",
                actions=list(RUN_JOB_ACTIONS),
                resources=[arn(resource, "*") for resource in JOB_RESOURCES],
            ),
            iam.PolicyStatement(
                sid="UsePlatformPipelines",
                actions=list(PIPELINE_ACTIONS),
                resources=[arn("pipeline", name) for name in pipelines]
                + [arn("pipeline", f"{name}/execution/*") for name in pipelines],
            ),
            iam.PolicyStatement(
                sid="RegisterModelPackages",
                actions=["sagemaker:CreateModelPackage"],
                resources=packages,
                # Registered pending a person's approval, never already approved.
                conditions={
                    "StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
                },
            ),
            iam.PolicyStatement(
                sid="ReadModelPackages", actions=list(READ_PACKAGE_ACTIONS), resources=packages
            ),
            iam.PolicyStatement(sid="ListAndSearch", actions=list(LIST_ACTIONS), resources=["*"]),
        ]

    def _container_statements(self) -> list[iam.PolicyStatement]:
        """What the jobs' containers need (images, logs, metrics, network interfaces), and
        passing this role to SageMaker."""
        stack = Stack.of(self)
        return [
            container.pull_images(stack, "PullSageMakerImages"),
            container.ecr_token("EcrToken"),
            container.write_logs(
                stack, "JobLogs", "/aws/sagemaker/*", extra_actions=["logs:GetLogEvents"]
            ),
            container.put_metrics("JobMetrics"),
            container.network_interfaces("JobNetworkInterfaces"),
            iam.PolicyStatement(
                sid="PassItselfToSageMaker",
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]

    def grant_studio_apps(self, domain_id: str) -> None:
        """Let Studio users of the domain run their apps and spaces as this role."""
        arn = self._arn
        studio = iam.PolicyStatement(
            sid="StudioApps",
            actions=[
                "sagemaker:CreateApp",
                "sagemaker:DeleteApp",
                "sagemaker:DescribeApp",
                "sagemaker:DescribeSpace",
                "sagemaker:UpdateSpace",
                "sagemaker:DescribeUserProfile",
                "sagemaker:DescribeDomain",
            ],
            resources=[
                arn("domain", domain_id),
                arn("app", f"{domain_id}/*"),
                arn("space", f"{domain_id}/*"),
                arn("user-profile", f"{domain_id}/*"),
            ],
        )
        # The List calls support only Resource "*" (Service Authorization Reference): on the
        # domain's ARNs they would grant nothing.
        listings = iam.PolicyStatement(
            sid="StudioListings",
            actions=["sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles"],
            resources=["*"],
        )
        self.role.add_to_principal_policy(studio)
        self.role.add_to_principal_policy(listings)
        acknowledge_wildcards(
            self.role,
            [studio],
            reason="Apps, spaces and profiles of this one domain, whose names users choose.",
        )
        acknowledge_wildcards(
            self.role,
            [listings],
            reason="Studio's List calls of apps, spaces and profiles support no resource-level"
            " permissions.",
        )

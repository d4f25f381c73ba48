"""The release automation: approvals become release records, rolled out by CloudFormation."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ml_constructs.event_rules import event_rule, function_target
from ml_constructs.idempotency_table import IdempotencyTable
from ml_constructs.platform_function import PlatformFunction
from ml_constructs.retraining_trigger import settings_read_statement
from ml_constructs.sagemaker_arns import package_group_arns, sagemaker_arn
from platform_config.names import EVERY_MODEL, BucketKind, ResourceNames

#: The CDK bootstrap qualifier of the environments (CDK's default).
BOOTSTRAP_QUALIFIER = "hnb659fds"

#: The CDK bootstrap's CloudFormation execution role (default qualifier): the role every
#: stack of the environment was deployed with, passed again when a release updates one.
CFN_EXEC_ROLE = "cdk-" + BOOTSTRAP_QUALIFIER + "-cfn-exec-role-{account}-{region}"

#: Stack statuses after which the release automation reconciles records and stacks.
RECONCILED_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")


class ReleaseAutomation(Construct):
    """Releases approved model packages by writing the release record and updating stacks.

    See ``docs/releases.md``. The function never touches an endpoint: it writes the record
    (``/<prefix>/releases/<model>/<slot>``) and calls ``UpdateStack`` on the model's stack
    (``<prefix>-model-<model>``) with the previous template and parameter values, passing
    the CDK bootstrap's CloudFormation execution role; CloudFormation resolves the records
    anew and rolls out with the endpoint's deployment guardrails. A stack that is busy is
    retried from the retry queue (delayed messages) until it is idle.

    Attributes
    ----------
    function:
        The :class:`PlatformFunction`.
    retry_queue:
        Delay queue of releases waiting for a busy stack.
    approval_rule, stack_status_rule:
        The rules feeding it registry approvals and model stacks' status changes.

    Parameters
    ----------
    function:
        The function running ``lambda/release_automation``.
    names:
        The environment's names: its records, models' groups and stacks, and the buckets
        where packages' artifacts and baselines are read (artifacts, reports), where
        released baselines go (``baselines/<model>/<version>/`` in reports) and where
        imported versions are copied (artifacts).
    idempotency_table:
        Table recording handled events.
    data_key:
        The buckets' key.
    workload_key:
        Encrypts the retry queue (the function's key).
    promote_from:
        The names of the previous environment, whose approved versions ``import`` copies
        (default none).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: PlatformFunction,
        names: ResourceNames,
        idempotency_table: IdempotencyTable,
        data_key: kms.IKey,
        workload_key: kms.IKey,
        promote_from: ResourceNames | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = function
        stack = Stack.of(self)
        self.retry_queue = function.add_queue(
            self,
            "RetryQueue",
            key=workload_key,
            retention_period=Duration.days(4),
            max_receive_count=100,
            batch_size=1,
            report_batch_item_failures=True,
        )
        cfn_role = stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name=CFN_EXEC_ROLE.format(account=names.account, region=names.region),
        )
        function.add_environment(
            {
                "NAME_PREFIX": names.prefix,
                "EXPECTED_ACCOUNT_ID": names.account,
                "IDEMPOTENCY_TABLE_NAME": idempotency_table.table.table_name,
                "RETRY_QUEUE_URL": self.retry_queue.queue_url,
                "CLOUDFORMATION_ROLE_ARN": cfn_role,
                "POWERTOOLS_METRICS_NAMESPACE": "MLPlatform/Releases",
            }
        )
        if promote_from is not None:
            function.add_environment(
                {
                    "PREVIOUS_ACCOUNT_ID": promote_from.account,
                    "PREVIOUS_REGION": promote_from.region,
                    "PREVIOUS_NAME_PREFIX": promote_from.prefix,
                    "ARTIFACTS_BUCKET_NAME": names.bucket(BucketKind.ARTIFACTS),
                }
            )
        idempotency_table.grant_records(function.function)
        data_key.grant_encrypt_decrypt(function.function)
        function.add_statements(self._release_statements(stack, names))
        function.add_statements(self._bootstrap_statements(stack, cfn_role))
        function.add_statements(self._bucket_statements(stack, names))
        if promote_from is not None:
            function.add_statements(self._import_read_statements(stack, promote_from))
            function.add_statements(self._import_write_statements(stack, names))
        self._rules(stack, names)

    @staticmethod
    def _release_statements(
        stack: Stack, names: ResourceNames
    ) -> list[tuple[iam.PolicyStatement, str]]:
        """Write the records, read the settings and packages, update the model stacks."""
        records = names.release_records_path().strip("/")
        packages = f"{names.model_package_group(EVERY_MODEL)}/*"
        return [
            (
                iam.PolicyStatement(
                    actions=[
                        "ssm:GetParameter",
                        "ssm:GetParameters",
                        "ssm:GetParameterHistory",
                        "ssm:PutParameter",
                    ],
                    resources=[
                        stack.format_arn(
                            service="ssm", resource="parameter", resource_name=f"{records}/*"
                        )
                    ],
                ),
                (
                    "The release records of this environment's models: one parameter per model"
                    " and slot under the records path; this function is their only writer."
                ),
            ),
            (
                settings_read_statement(stack, names.prefix),
                "Reads the settings document of each of this environment's models.",
            ),
            (
                iam.PolicyStatement(
                    actions=["sagemaker:DescribeModelPackage"],
                    resources=[sagemaker_arn(stack, "model-package", packages)],
                ),
                (
                    "Reads the packages of this environment's groups; versions are numbered by"
                    " SageMaker."
                ),
            ),
            (
                iam.PolicyStatement(
                    actions=["cloudformation:UpdateStack", "cloudformation:DescribeStacks"],
                    resources=[
                        stack.format_arn(
                            service="cloudformation",
                            resource="stack",
                            resource_name=f"{names.model_stack(EVERY_MODEL)}/*",
                        )
                    ],
                ),
                (
                    "Updates (with their previous templates) the model stacks of this environment,"
                    " whose stack ids CloudFormation generates."
                ),
            ),
        ]

    @staticmethod
    def _bootstrap_statements(stack: Stack, cfn_role: str) -> list[tuple[iam.PolicyStatement, str]]:
        """Pass the CDK bootstrap's execution role back to CloudFormation; read its version."""
        return [
            (
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[cfn_role],
                    conditions={
                        "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
                    },
                ),
                (
                    "The CDK bootstrap's CloudFormation execution role, passed back to"
                    " CloudFormation only."
                ),
            ),
            (
                iam.PolicyStatement(
                    actions=["ssm:GetParameters"],
                    resources=[
                        stack.format_arn(
                            service="ssm",
                            resource="parameter",
                            resource_name=f"cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version",
                        )
                    ],
                ),
                (
                    "The CDK bootstrap version every stack checks (an SSM parameter type that"
                    " CloudFormation resolves with the caller's permissions on UpdateStack)."
                ),
            ),
        ]

    @staticmethod
    def _bucket_statements(
        stack: Stack, names: ResourceNames
    ) -> list[tuple[iam.PolicyStatement, str]]:
        """Read what pipeline runs wrote; publish released baselines."""
        s3 = f"arn:{stack.partition}:s3:::"
        artifacts = names.bucket(BucketKind.ARTIFACTS)
        reports = names.bucket(BucketKind.REPORTS)
        return [
            (
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[f"{s3}{artifacts}/*", f"{s3}{reports}/*"],
                ),
                "Reads the baselines and model data a pipeline run wrote (per-execution keys).",
            ),
            (
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[f"{s3}{reports}/baselines/*"],
                ),
                "Publishes a released version's baselines under baselines/<model>/<version>/.",
            ),
        ]

    @staticmethod
    def _import_read_statements(
        stack: Stack, source: ResourceNames
    ) -> list[tuple[iam.PolicyStatement, str]]:
        """Read the previous environment's packages and the objects they point to."""
        source_arn = f"arn:{stack.partition}:sagemaker:{source.region}:{source.account}"
        source_bucket = source.bucket(BucketKind.ARTIFACTS)
        return [
            (
                iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"]),
                (
                    "sagemaker:ListModelPackages has no resource-level permissions; it finds whether"
                    " a version was imported already."
                ),
            ),
            (
                iam.PolicyStatement(
                    actions=["sagemaker:DescribeModelPackage"],
                    resources=[
                        f"{source_arn}:model-package/{source.model_package_group(EVERY_MODEL)}/*"
                    ],
                ),
                (
                    "Reads the previous environment's packages (its registry policy allows this"
                    " account)."
                ),
            ),
            (
                iam.PolicyStatement(
                    actions=["s3:GetObject"],
                    resources=[f"arn:{stack.partition}:s3:::{source_bucket}/*"],
                ),
                (
                    "Copies a promoted version's artifacts and baselines from the previous"
                    " environment's artifacts bucket (its bucket policy allows this account)."
                ),
            ),
            (
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[f"arn:{stack.partition}:kms:{source.region}:{source.account}:key/*"],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{source.region}.amazonaws.com"}
                    },
                ),
                (
                    "The previous environment's data key, only through S3, for the objects it"
                    " copies (the key's id is that account's)."
                ),
            ),
        ]

    @staticmethod
    def _import_write_statements(
        stack: Stack, names: ResourceNames
    ) -> list[tuple[iam.PolicyStatement, str]]:
        """Copy an imported version's objects and register it, pending approval."""
        artifacts = names.bucket(BucketKind.ARTIFACTS)
        group = names.model_package_group(EVERY_MODEL)
        return [
            (
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[f"arn:{stack.partition}:s3:::{artifacts}/*/imported/*"],
                ),
                "Writes the copies under <model>/imported/<source>/v<n>/.",
            ),
            (
                iam.PolicyStatement(
                    actions=["sagemaker:CreateModelPackage"],
                    resources=package_group_arns(stack, group)[::-1],
                    conditions={
                        "StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
                    },
                ),
                (
                    "Registers the imported version in this environment's group, only as"
                    " PendingManualApproval: a person approves it here."
                ),
            ),
        ]

    def _rules(self, stack: Stack, names: ResourceNames) -> None:
        target = function_target(self.function)
        self.approval_rule = event_rule(
            self,
            "ApprovalRule",
            description="A model package of this environment was approved or rejected",
            source="aws.sagemaker",
            detail_type="SageMaker Model Package State Change",
            detail={
                "ModelPackageGroupName": [{"prefix": names.model_names_prefix()}],
                "ModelApprovalStatus": ["Approved", "Rejected"],
            },
            target=target,
        )
        stack_arn = stack.format_arn(
            service="cloudformation",
            resource="stack",
            resource_name=names.model_stack(EVERY_MODEL).removesuffix(EVERY_MODEL),
        )
        self.stack_status_rule = event_rule(
            self,
            "StackStatusRule",
            description="A model stack of this environment finished a deployment",
            source="aws.cloudformation",
            detail_type="CloudFormation Stack Status Change",
            detail={
                "stack-id": [{"prefix": stack_arn}],
                "status-details": {"status": list(RECONCILED_STATUSES)},
            },
            target=target,
        )

"""One model version walks from dev's approval to prod's endpoint, in moto, with three accounts.

Each environment is set up in moto from its synthesized templates: its buckets (names and
default encryption), the model's settings document, its release records (created by the
deploy-time provider's own code), its registry group, and the release automation's queues,
table and environment variables. Each step is made by the code (or, for a person or a
pipeline, the request) that makes it in AWS, in a session recorded as the principal it runs
as (:mod:`tests.recorded_calls`):

1. dev's training pipeline writes its outputs (each with the key its step names) and
   registers the package with its ``RegisterModel`` step's arguments;
2. dev's approver approves it, and dev's release automation releases it;
3. staging's release automation imports it (``{"action": "import"}``), staging's approver
   approves the import, and staging's release automation releases it;
4. prod does the same from staging.

moto answers every account's calls, but enforces no policy: that is the tests' part, with
:class:`tests.template_access.AccessModel` deciding every recorded call. moto does not model
cross-account access either, so the importing function's reads of the previous environment
are made with that account's moto credentials, recorded as the importing function's role.
CloudFormation is :class:`release_testbed.CloudFormationDouble` (moto's cannot resolve SSM
parameter types), holding the model stack's SSM-typed parameters from its template.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from aws_rules.sagemaker_requests import pipeline_definitions, pipeline_steps
from tests.recorded_calls import CallRecorder
from tests.template_access import AccessModel, EnvironmentAccess, Principal

LAMBDA = Path(__file__).resolve().parent.parent / "lambda"
for _folder in (
    "release_automation",
    "shared",
    "model_package_resolver",
    "release_automation/tests",
):
    if str(LAMBDA / _folder) not in sys.path:
        sys.path.append(str(LAMBDA / _folder))  # as lambda/conftest.py does

import model_package_resolver  # noqa: E402
import release_automation  # noqa: E402
from release_testbed import CloudFormationDouble, load_event  # noqa: E402

#: The pipeline execution the walk stands for.
EXECUTION_ID = "walk0execution"
#: Construct path endings of the principals the walk acts as.
RELEASE_AUTOMATION = "/Automation/ReleaseAutomation/Default/ServiceRole/Resource"
PROVIDER = "/Automation/PackageResolver/Function/Default/ServiceRole/Resource"


@dataclass
class FakeLambdaContext:
    function_name: str
    aws_request_id: str = "0f0f0f0f-5d1a-4d0e-8f57-6a1b2c3d4e5f"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def credentials(role_arn: str) -> dict[str, str]:
    """moto credentials of ``role_arn``'s account (moto keys its backends by account)."""
    response = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="walk")
    return dict(response["Credentials"])


@dataclass
class DeployedEnvironment:
    """An environment as ``cdk deploy --all`` leaves it, in moto, for one model."""

    access: EnvironmentAccess
    model: str
    admin: boto3.Session  # CloudFormation's own calls: not recorded
    release_role: Principal
    function: Any = None
    cloudformation: CloudFormationDouble | None = None
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"ml-platform-{self.access.name}"

    @property
    def group(self) -> str:
        return f"{self.prefix}-{self.model}"

    @property
    def model_stack(self) -> str:
        return f"{self.prefix}-model-{self.model}"

    def record_name(self, slot: str) -> str:
        return f"/{self.prefix}/releases/{self.model}/{slot}"

    def record(self, slot: str) -> str:
        ssm = self.admin.client("ssm")
        return str(ssm.get_parameter(Name=self.record_name(slot))["Parameter"]["Value"])


class PromotionWalk:
    """The environments of the walk, and its steps (see the module's docstring)."""

    def __init__(
        self,
        model: AccessModel,
        recorder: CallRecorder,
        *,
        model_name: str,
        approvers: dict[str, Principal],
    ) -> None:
        self.model = model
        self.recorder = recorder
        self.model_name = model_name
        self.approvers = approvers
        self.environments: dict[str, DeployedEnvironment] = {}
        self.inspector = boto3.client("s3")  # reads objects' encryption, not recorded

    def session(self, principal: Principal | None, role_arn: str, region: str) -> boto3.Session:
        return self.recorder.session(principal, credentials(role_arn), region)

    def object_key(self, bucket: str, key: str) -> str | None:
        """The KMS key an object is stored with (``None``: the bucket's default)."""
        return self.inspector.head_object(Bucket=bucket, Key=key).get("SSEKMSKeyId")

    # --- deploying ----------------------------------------------------------------------

    def deploy(self, name: str) -> DeployedEnvironment:
        access = self.model.environments[name]
        admin = self.session(None, f"arn:aws:iam::{access.account}:role/cfn-exec", access.region)
        env = DeployedEnvironment(
            access, self.model_name, admin, access.principal(RELEASE_AUTOMATION)
        )
        self._buckets(env)
        self._settings_and_records(env)
        admin.client("sagemaker").create_model_package_group(ModelPackageGroupName=env.group)
        env.function = self._release_automation(env)
        self.environments[name] = env
        return env

    @staticmethod
    def _buckets(env: DeployedEnvironment) -> None:
        s3 = env.admin.client("s3")
        for _, _, props in env.access.resources("AWS::S3::Bucket"):
            location = {"LocationConstraint": env.access.region}
            if env.access.region == "us-east-1":
                s3.create_bucket(Bucket=props["BucketName"])
            else:
                s3.create_bucket(Bucket=props["BucketName"], CreateBucketConfiguration=location)
            if "BucketEncryption" in props:
                s3.put_bucket_encryption(
                    Bucket=props["BucketName"],
                    ServerSideEncryptionConfiguration={"Rules": encryption_rules(props)},
                )

    def _settings_and_records(self, env: DeployedEnvironment) -> None:
        """The settings documents (model stacks' ``AWS::SSM::Parameter``), the bootstrap
        version, and the model's release records, created by the provider's own code."""
        ssm = env.admin.client("ssm")
        ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="28", Type="String")
        for stack, _, props in env.access.resources("AWS::SSM::Parameter"):
            if "-model-" in stack.stack_name:
                ssm.put_parameter(Name=props["Name"], Value=props["Value"], Type=props["Type"])
        provider = env.access.principal(PROVIDER)
        provider_ssm = self.session(provider, provider.arn, env.access.region).client("ssm")
        for stack, _, props in env.access.resources("Custom::ReleaseRecord"):
            if stack.stack_name == f"{env.prefix}-registry-{env.model}":
                event = {"RequestType": "Create", "ResourceProperties": props, "StackId": "walk"}
                model_package_resolver.release_record(event, provider_ssm)

    def _release_automation(self, env: DeployedEnvironment) -> Any:
        """The function, with its template's environment, queues and table."""
        (function,) = [
            props
            for _, _, props in env.access.resources("AWS::Lambda::Function")
            if props.get("Handler") == "release_automation.lambda_handler"
        ]
        variables = dict(function["Environment"]["Variables"])
        sqs = env.admin.client("sqs")
        for url in (variables["DEAD_LETTER_QUEUE_URL"], variables["RETRY_QUEUE_URL"]):
            sqs.create_queue(QueueName=url.rsplit("/", 1)[1])
        (table,) = [
            props
            for stack, logical_id, props in env.access.resources("AWS::DynamoDB::GlobalTable")
            if env.access.resolver.physical_name(stack, logical_id)
            == variables["IDEMPOTENCY_TABLE_NAME"]
        ]
        env.admin.client("dynamodb").create_table(
            TableName=variables["IDEMPOTENCY_TABLE_NAME"],
            KeySchema=table["KeySchema"],
            AttributeDefinitions=table["AttributeDefinitions"],
            BillingMode=table.get("BillingMode", "PAY_PER_REQUEST"),
        )
        role = env.release_role
        session = self.session(role, role.arn, env.access.region)
        sessions = {"session": session}
        if "PREVIOUS_ACCOUNT_ID" in variables:  # reads of the previous environment
            source_role = f"arn:aws:iam::{variables['PREVIOUS_ACCOUNT_ID']}:role/moto-stand-in"
            sessions["source_session"] = self.session(
                role, source_role, variables["PREVIOUS_REGION"]
            )
        built = release_automation.build({**variables, "AWS_REGION": env.access.region}, **sessions)
        env.cloudformation = self._model_stack(env)
        env.cloudformation.attach(built.flow.cloudformation)
        return built

    @staticmethod
    def _model_stack(env: DeployedEnvironment) -> CloudFormationDouble:
        """The model's stack with its template's SSM-typed parameters."""
        stack = env.access.stacks[env.model_stack]
        parameters = {
            key: str(parameter["Default"])
            for key, parameter in stack.parameters.items()
            if str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value")
            and key != "BootstrapVersion"
        }
        double = CloudFormationDouble(env.admin.client("ssm"), account=env.access.account)
        fake = double.add_stack(env.model_stack, parameters)
        fake.stack_id = (
            f"arn:aws:cloudformation:{env.access.region}:{env.access.account}:"
            f"stack/{env.model_stack}/{uuid.uuid4()}"
        )
        return double

    # --- the steps ----------------------------------------------------------------------

    def train_and_register(self, name: str) -> str:
        """What the model's training pipeline does in ``name``: its steps' outputs written as
        its role, each with the key its step names, and its ``RegisterModel`` request."""
        env = self.environments[name]
        (definition,) = [
            definition
            for at, definition in pipeline_definitions(env.access.resolver)
            if at.stack.stack_name == env.model_stack
            and at.type == "AWS::SageMaker::Pipeline"
            and "Training" in at.logical_id
        ]
        pipeline = env.access.principal(
            f"/Models/{env.model}/Model/Pipelines/Role/Default/Resource"
        )
        session = self.session(pipeline, pipeline.arn, env.access.region)
        properties, outputs = step_properties(definition, env.group)
        (register,) = [s for s in pipeline_steps(definition) if s["Type"] == "RegisterModel"]
        request = evaluated(register["Arguments"], properties)
        s3 = session.client("s3")
        for uri in sorted(set(s3_uris(request))):
            bucket, key = uri.removeprefix("s3://").split("/", 1)
            kms_key = max((o for o in outputs if uri.startswith(o[0])), key=lambda o: len(o[0]))[1]
            encryption = (
                {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
            )
            s3.put_object(Bucket=bucket, Key=key, Body=f"{key} of the walk".encode(), **encryption)
        response = session.client("sagemaker").create_model_package(**request)
        return str(response["ModelPackageArn"])

    def approve(self, name: str, arn: str) -> dict[str, Any]:
        """The environment's approver approves ``arn`` (with the approvers' policy of the
        templates); the approval event reaches the release automation."""
        env = self.environments[name]
        approver = self.approvers[name]
        session = self.session(approver, approver.arn, env.access.region)
        session.client("sagemaker").update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="the walk"
        )
        event = load_event("model_package_approved")
        version = int(arn.rsplit("/", 1)[1])
        event.update(id=str(uuid.uuid4()), account=env.access.account, region=env.access.region)
        event["resources"] = [arn]
        event["detail"].update(
            ModelPackageGroupName=env.group,
            ModelPackageArn=arn,
            ModelPackageVersion=version,
            ModelApprovalStatus="Approved",
        )
        return self.invoke(name, event)

    def import_version(self, name: str, version: int) -> dict[str, Any]:
        """``make release-import ENV=<name> MODEL=<model> VERSION=<version>``."""
        return self.invoke(name, {"action": "import", "model": self.model_name, "version": version})

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        env = self.environments[name]
        context = FakeLambdaContext(function_name=f"{env.prefix}-release-automation")
        result = dict(env.function.handle(event, context))
        env.results.append(result)
        return result


def encryption_rules(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    """A template bucket's ``BucketEncryption`` as ``PutBucketEncryption`` rules."""
    return [
        {
            "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
            **(
                {"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}
            ),
        }
        for rule in bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    ]


def step_properties(
    definition: dict[str, Any], pipeline_name: str
) -> tuple[dict[str, str], list[tuple[str, str | None]]]:
    """The step properties a ``RegisterModel`` step reads (``{"Get": ...}``), as the run of
    :data:`EXECUTION_ID` sets them, and every output prefix with the KMS key it is written
    with."""
    properties = {
        "Execution.PipelineExecutionId": EXECUTION_ID,
        "Execution.PipelineName": pipeline_name,
        "Execution.PipelineExecutionArn": (
            f"arn:aws:sagemaker:region:account:pipeline/{pipeline_name}/execution/{EXECUTION_ID}"
        ),
    }
    outputs: list[tuple[str, str | None]] = []
    for step in pipeline_steps(definition):
        name, arguments = step["Name"], step.get("Arguments") or {}
        if "OutputDataConfig" in arguments:  # a training job
            config = arguments["OutputDataConfig"]
            root = evaluated(config["S3OutputPath"], properties)
            model = f"{root}/pipelines-{EXECUTION_ID}-{name}/output/model.tar.gz"
            properties[f"Steps.{name}.ModelArtifacts.S3ModelArtifacts"] = model
            outputs.append((root, config.get("KmsKeyId")))
        for index, output in enumerate(
            (arguments.get("ProcessingOutputConfig") or {}).get("Outputs", [])
        ):
            uri = evaluated(output["S3Output"]["S3Uri"], properties)
            key = arguments["ProcessingOutputConfig"].get("KmsKeyId")
            outputs.append((uri, key))
            properties[
                f"Steps.{name}.ProcessingOutputConfig.Outputs['{output['OutputName']}'].S3Output.S3Uri"
            ] = uri
            if step["Type"] == "QualityCheck" and index == 0:
                for kind, file in (("Statistics", "statistics"), ("Constraints", "constraints")):
                    for prefix in ("CalculatedBaseline", "BaselineUsedForDriftCheck"):
                        properties[f"Steps.{name}.{prefix}{kind}"] = f"{uri}/{file}.json"
            if step["Type"] == "ClarifyCheck" and index == 0:  # Clarify writes analysis.json
                for prefix in ("CalculatedBaseline", "BaselineUsedForDriftCheck"):
                    properties[f"Steps.{name}.{prefix}Constraints"] = f"{uri}/analysis.json"
    return properties, outputs


def evaluated(value: Any, properties: dict[str, str]) -> Any:
    """``value`` with the pipeline expressions it holds (``Get``, ``Std:Join``) evaluated."""
    if isinstance(value, list):
        return [evaluated(item, properties) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Get"}:
        if value["Get"] not in properties:
            raise AssertionError(f"the walk does not know the step property {value['Get']}")
        return properties[value["Get"]]
    if set(value) == {"Std:Join"}:
        join = value["Std:Join"]
        return str(join["On"]).join(str(evaluated(item, properties)) for item in join["Values"])
    return {key: evaluated(item, properties) for key, item in value.items()}


def s3_uris(value: Any) -> Iterator[str]:
    """Every ``s3://`` URI in a request."""
    if isinstance(value, dict):
        for item in value.values():
            yield from s3_uris(item)
    elif isinstance(value, list):
        for item in value:
            yield from s3_uris(item)
    elif isinstance(value, str) and value.startswith("s3://"):
        yield value

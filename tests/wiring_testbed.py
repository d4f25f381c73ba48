"""An environment's synthesized templates, indexed for the wiring tests, and deployed to moto.

:class:`Templates` reads one environment's cloud assembly with every intrinsic function
resolved (``aws_rules.resolve``: names, ARNs and queue URLs as CloudFormation would give
them): its EventBridge rules and their targets, its functions and their environment, the
models' settings documents (the model stacks' SSM parameters), the pipelines' definitions.

:func:`deploy` creates in moto what those templates create and the functions use (the
table, the queues, the buckets, the settings documents, the release records, the package
groups and the pipelines with their definitions), under the environment's account and
region, so that a function built with the template's environment finds them by the
template's names. Nothing is taken from the Python configuration.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3

from aws_rules.cloud_assembly import StackTemplate, read_assembly
from aws_rules.policies import Request, allowed
from aws_rules.resolve import Resolver, ResourceAt
from platform_contracts.model_settings import ModelSettings

REPO = Path(__file__).resolve().parent.parent
#: What Lambda puts on the path of each function (its root: the function's modules, the
#: shared module, platform_contracts), and the release automation's test double.
for _path in (
    REPO / "lambda" / "retraining_trigger",
    REPO / "lambda" / "release_automation",
    REPO / "lambda" / "release_automation" / "tests",
    REPO / "lambda" / "shared",
):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))

TRIGGER_HANDLER = "retraining_trigger.lambda_handler"
RELEASE_HANDLER = "release_automation.lambda_handler"


@dataclass(frozen=True)
class Rule:
    """An ``AWS::Events::Rule`` with its properties resolved."""

    at: ResourceAt
    properties: dict[str, Any]

    @property
    def label(self) -> str:
        return self.at.label

    @property
    def pattern(self) -> dict[str, Any] | None:
        return self.properties.get("EventPattern")

    @property
    def key(self) -> tuple[str, str] | None:
        """``(source, detail-type)`` of a rule matching one kind of event, else ``None``."""
        pattern = self.pattern
        if pattern is None:
            return None
        (source,), (detail_type,) = pattern["source"], pattern["detail-type"]
        return source, detail_type


@dataclass(frozen=True)
class Function:
    """An ``AWS::Lambda::Function``: its resource and environment, resolved."""

    at: ResourceAt
    properties: dict[str, Any]

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.properties.get("Environment", {}).get("Variables", {}))


class Templates:
    """One environment's templates, resolved (see the module's docstring)."""

    def __init__(self, assembly: Path) -> None:
        self.stacks: tuple[StackTemplate, ...] = tuple(read_assembly(assembly))
        self.resolver = Resolver(self.stacks)

    def resolved(self, at: ResourceAt) -> dict[str, Any]:
        return self.resolver.resolve(at.stack, at.properties)  # type: ignore[no-any-return]

    def each(self, *types: str) -> Iterator[tuple[ResourceAt, dict[str, Any]]]:
        """Every resource of ``types`` with its resolved properties."""
        for at in self.resolver.resources(*types):
            yield at, self.resolved(at)

    @property
    def account(self) -> str:
        return self.stacks[0].account

    @property
    def region(self) -> str:
        return self.stacks[0].region

    @cached_property
    def rules(self) -> list[Rule]:
        return [Rule(at, props) for at, props in self.each("AWS::Events::Rule")]

    @cached_property
    def functions(self) -> dict[str, Function]:
        """The platform's functions, by handler."""
        return {
            props["Handler"]: Function(at, props)
            for at, props in self.each("AWS::Lambda::Function")
            if props.get("Handler") in (TRIGGER_HANDLER, RELEASE_HANDLER)
        }

    def origin(self, value: str) -> ResourceAt | None:
        """The resource whose name, ARN or URL ``value`` is."""
        return self.resolver.origin(value)

    def name_of(self, at: ResourceAt) -> str:
        """A resource's physical name: its name property, or the one CloudFormation makes."""
        return self.resolver.physical_name(at.stack, at.logical_id)

    def named(self, *types: str) -> dict[str, ResourceAt]:
        """Every resource of ``types`` by physical name."""
        return {self.name_of(at): at for at in self.resolver.resources(*types)}

    @cached_property
    def settings(self) -> dict[str, tuple[str, ModelSettings]]:
        """Model -> (parameter name, document) of every settings document in the templates."""
        found = {}
        for _, props in self.each("AWS::SSM::Parameter"):
            name = str(props.get("Name", ""))
            if name.endswith("/settings") and "/models/" in name:
                document = ModelSettings.from_json(str(props["Value"]))
                found[document.model] = (name, document)
        return found

    @cached_property
    def pipelines(self) -> dict[str, dict[str, Any]]:
        """Pipeline name -> its resolved properties and parsed definition (``Definition``)."""
        found = {}
        for _, props in self.each("AWS::SageMaker::Pipeline"):
            body = props["PipelineDefinition"]["PipelineDefinitionBody"]
            found[str(props["PipelineName"])] = {**props, "Definition": json.loads(body)}
        return found


def pipeline_parameters(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A pipeline definition's parameters, by name."""
    return {parameter["Name"]: parameter for parameter in definition.get("Parameters", [])}


def queue_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def deploy(templates: Templates, session: boto3.Session) -> None:
    """Create in moto what the templates create and the functions use (module docstring)."""
    sqs, s3 = session.client("sqs"), session.client("s3")
    ssm, sagemaker = session.client("ssm"), session.client("sagemaker")
    for function in templates.functions.values():
        for name, value in function.environment.items():
            if name.endswith("_QUEUE_URL"):
                sqs.create_queue(QueueName=queue_name(value))
    for at, props in templates.each("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"):
        session.client("dynamodb").create_table(
            TableName=templates.name_of(at),
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
    for name in templates.named("AWS::S3::Bucket"):
        bucket: dict[str, Any] = {"Bucket": name}
        if templates.region != "us-east-1":
            bucket["CreateBucketConfiguration"] = {"LocationConstraint": templates.region}
        s3.create_bucket(**bucket)
    for _, props in templates.each("AWS::SSM::Parameter"):
        ssm.put_parameter(Name=props["Name"], Value=str(props["Value"]), Type="String")
    for _, props in templates.each("Custom::ReleaseRecord"):
        ssm.put_parameter(Name=props["ParameterName"], Value=props["InitialValue"], Type="String")
    ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="28", Type="String")
    for _, props in templates.each("AWS::SageMaker::ModelPackageGroup"):
        sagemaker.create_model_package_group(ModelPackageGroupName=props["ModelPackageGroupName"])
    for name, pipeline in templates.pipelines.items():
        sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=json.dumps(pipeline["Definition"]),
            RoleArn=pipeline["RoleArn"],
        )


def record_calls(session: boto3.Session) -> list[tuple[str, str, dict[str, Any]]]:
    """Every call the clients made from ``session`` (created afterwards) make:
    ``(service, operation, parameters)``; a list that grows."""
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def keep(params: dict[str, Any], event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        calls.append((service, operation, dict(params)))

    session.events.register("provide-client-params", keep)
    return calls


def role_documents(templates: Templates, function: Function) -> list[Any]:
    """The resolved policy documents of the function's role (its policies and inline ones)."""
    role = templates.origin(function.properties["Role"])
    assert role is not None and role.type == "AWS::IAM::Role"
    role_name = templates.name_of(role)
    documents = [p["PolicyDocument"] for p in templates.resolved(role).get("Policies", [])]
    for _, props in templates.each("AWS::IAM::Policy"):
        if role_name in props.get("Roles", []):
            documents.append(props["PolicyDocument"])
    return documents


def not_permitted(
    templates: Templates, function: Function, calls: list[tuple[str, str, dict[str, Any]]]
) -> list[str]:
    """The calls the function's role does not allow (IAM action on the resource ARN)."""
    account, region = templates.account, templates.region
    documents = role_documents(templates, function)
    role = str(function.properties["Role"])
    refused = []
    for service, operation, params in calls:
        resource = _resource_of(service, params, account, region)
        action = f"{_IAM_PREFIX.get(service, service)}:{operation}"
        if not allowed(documents, Request(action=action, resource=resource, principal_arn=role)):
            refused.append(f"{action} on {resource}")
    return refused


_IAM_PREFIX = {"dynamodb": "dynamodb", "sqs": "sqs", "ssm": "ssm", "sagemaker": "sagemaker"}


def _resource_of(service: str, params: dict[str, Any], account: str, region: str) -> str:
    """The ARN IAM evaluates a call on (for the calls the platform's functions make)."""
    if service == "sagemaker" and "PipelineName" in params:
        return f"arn:aws:sagemaker:{region}:{account}:pipeline/{params['PipelineName']}"
    if service == "ssm" and "Path" in params:
        return f"arn:aws:ssm:{region}:{account}:parameter{params['Path']}"
    if service == "ssm" and "Name" in params:
        return f"arn:aws:ssm:{region}:{account}:parameter{params['Name']}"
    if service == "sqs":
        return f"arn:aws:sqs:{region}:{account}:{queue_name(params['QueueUrl'])}"
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{region}:{account}:table/{params['TableName']}"
    return "*"

"""A synthesized assembly as if it were deployed: every intrinsic function replaced by a value.

CloudFormation fills in names, ARNs and ids at deploy time. The checks need values of the
right form to compare policies with resources and to validate API requests, so each resource
gets a deterministic stand-in: its physical name when the template gives one
(``QueueName``, ``EndpointName``, ...), else a generated one of at most 63 characters; and the ARN, URL
or id that CloudFormation's ``Ref``/``Fn::GetAtt`` would return for that type, built from
the stack's account and region. ``Fn::GetStackOutput`` and ``Fn::ImportValue`` are followed
into the stack that holds the output, so references across stacks resolve to the same value.

A value the assembly cannot know (a custom resource's attribute, an SSM parameter's value) is
an *opaque* string, ``{{<stack>.<logical id>.<attribute>}}``, that :meth:`Resolver.origin`
maps back to its resource.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_rules.cloud_assembly import StackTemplate

#: ``Ref: AWS::NoValue``: the property is removed.
NO_VALUE = object()

#: Resource types whose ``Ref`` is the ARN (most of the rest return the name).
_REF_IS_ARN = {
    "AWS::SNS::Topic",
    "AWS::SageMaker::Model",
    "AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::ModelPackageGroup",
    "AWS::SageMaker::MonitoringSchedule",
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
    "AWS::SageMaker::Domain",
    "AWS::SageMaker::UserProfile",
    "AWS::SageMaker::Space",
    "AWS::SageMaker::StudioLifecycleConfig",
}

#: Property holding the physical name of a type, and the ARN's resource part.
_NAMING: dict[str, tuple[str, str]] = {
    "AWS::SQS::Queue": ("QueueName", "{name}"),
    "AWS::SNS::Topic": ("TopicName", "{name}"),
    "AWS::S3::Bucket": ("BucketName", "{name}"),
    "AWS::IAM::Role": ("RoleName", "role/{name}"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "policy/{name}"),
    "AWS::Lambda::Function": ("FunctionName", "function:{name}"),
    "AWS::Events::Rule": ("Name", "rule/{name}"),
    "AWS::Logs::LogGroup": ("LogGroupName", "log-group:{name}:*"),
    "AWS::CloudWatch::Alarm": ("AlarmName", "alarm:{name}"),
    "AWS::CloudWatch::CompositeAlarm": ("AlarmName", "alarm:{name}"),
    "AWS::KMS::Key": ("", "key/{name}"),
    "AWS::DynamoDB::Table": ("TableName", "table/{name}"),
    "AWS::DynamoDB::GlobalTable": ("TableName", "table/{name}"),
    "AWS::SageMaker::Model": ("ModelName", "model/{name}"),
    "AWS::SageMaker::EndpointConfig": ("EndpointConfigName", "endpoint-config/{name}"),
    "AWS::SageMaker::Endpoint": ("EndpointName", "endpoint/{name}"),
    "AWS::SageMaker::ModelPackageGroup": ("ModelPackageGroupName", "model-package-group/{name}"),
    "AWS::SageMaker::Pipeline": ("PipelineName", "pipeline/{name}"),
    "AWS::SageMaker::MonitoringSchedule": ("MonitoringScheduleName", "monitoring-schedule/{name}"),
    "AWS::SageMaker::FeatureGroup": ("FeatureGroupName", "feature-group/{name}"),
    "AWS::SageMaker::MlflowTrackingServer": ("TrackingServerName", "mlflow-tracking-server/{name}"),
    "AWS::SageMaker::MlflowApp": ("", "mlflow-app/{name}"),  # its name is not in its ARN
    "AWS::SageMaker::InferenceComponent": ("InferenceComponentName", "inference-component/{name}"),
    "AWS::SageMaker::Domain": ("DomainName", "domain/{name}"),
    "AWS::SageMaker::StudioLifecycleConfig": (
        "StudioLifecycleConfigName",
        "studio-lifecycle-config/{name}",
    ),
}
for _kind, _arn_kind in (
    ("DataQuality", "data-quality"),
    ("ModelQuality", "model-quality"),
    ("ModelBias", "model-bias"),
    ("ModelExplainability", "model-explainability"),
):
    _NAMING[f"AWS::SageMaker::{_kind}JobDefinition"] = (
        "JobDefinitionName",
        f"{_arn_kind}-job-definition/{{name}}",
    )

#: Ids of EC2 resources (``Ref``), by type.
_EC2_ID_PREFIX = {
    "AWS::EC2::VPC": "vpc",
    "AWS::EC2::Subnet": "subnet",
    "AWS::EC2::SecurityGroup": "sg",
    "AWS::EC2::RouteTable": "rtb",
    "AWS::EC2::VPCEndpoint": "vpce",
    "AWS::EC2::InternetGateway": "igw",
    "AWS::EC2::NatGateway": "nat",
}


def name_property(resource_type: str) -> str | None:
    """The property of ``resource_type`` that holds its physical name, if known."""
    return _NAMING.get(resource_type, ("", ""))[0] or None


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class ResourceAt:
    """A resource of the assembly: the stack that holds it and its logical id."""

    stack: StackTemplate
    logical_id: str

    @property
    def resource(self) -> dict[str, Any]:
        return self.stack.resources[self.logical_id]

    @property
    def type(self) -> str:
        return str(self.resource.get("Type", ""))

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.resource.get("Properties") or {})

    @property
    def label(self) -> str:
        """``<stack display name>/<logical id>``, as findings name it."""
        return f"{self.stack.display_name}/{self.logical_id}"


class Resolver:
    """Resolves intrinsic functions of every stack of one assembly (see module docstring)."""

    def __init__(self, stacks: Sequence[StackTemplate]) -> None:
        self.stacks = tuple(stacks)
        self._by_name = {stack.stack_name: stack for stack in self.stacks}
        self._origins: dict[str, tuple[StackTemplate, str]] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._indexed = False

    # --- the resources --------------------------------------------------------------

    def resources(self, *types: str) -> Iterable[ResourceAt]:
        """Every resource of the given types (all when none), stack by stack."""
        for stack in self.stacks:
            for logical_id, resource in stack.resources.items():
                if not types or resource.get("Type") in types:
                    yield ResourceAt(stack, logical_id)

    def origin(self, value: Any) -> ResourceAt | None:
        """The resource whose stand-in name, ARN, id or opaque attribute ``value`` is."""
        if not isinstance(value, str):
            return None
        if not self._indexed:
            self._indexed = True
            for at in self.resources():
                self.reference(at.stack, at.logical_id)
                self.reference(at.stack, at.logical_id, "Arn")
        found = self._origins.get(value)
        return ResourceAt(*found) if found else None

    # --- stand-in values ------------------------------------------------------------

    def partition(self, stack: StackTemplate) -> str:
        return "aws-cn" if stack.region.startswith("cn-") else "aws"

    def physical_name(self, stack: StackTemplate, logical_id: str) -> str:
        """The resource's name: from its name property, else a generated one."""
        key = (stack.stack_name, logical_id)
        if key not in self._names:
            resource = stack.resources[logical_id]
            name_property = _NAMING.get(resource.get("Type", ""), ("", ""))[0]
            given = (resource.get("Properties") or {}).get(name_property) if name_property else None
            if resource.get("Type") == "AWS::KMS::Key":
                name = f"{_digest(stack.stack_name, logical_id, length=8)}-0000-4000-8000-" + (
                    _digest(logical_id, length=12)
                )
            elif given is not None:
                resolved = self.resolve(stack, given)
                name = resolved if isinstance(resolved, str) else f"{logical_id[:36]}-given"
            else:
                # CloudFormation's generated names fit every type's limit (at most 63 here).
                name = f"{logical_id[:36]}-{_digest(stack.stack_name, logical_id, length=12)}"
                if resource.get("Type") == "AWS::S3::Bucket":
                    name = name.lower()
            self._names[key] = name
        return self._names[key]

    def arn(self, stack: StackTemplate, logical_id: str) -> str:
        """The ARN CloudFormation would give the resource."""
        resource_type = str(stack.resources[logical_id].get("Type", ""))
        name = self.physical_name(stack, logical_id)
        service = resource_type.split("::")[1].lower() if "::" in resource_type else "custom"
        pattern = _NAMING.get(
            resource_type, ("", f"{resource_type.rsplit('::', maxsplit=1)[-1].lower()}/{{name}}")
        )[1]
        region, account = stack.region, stack.account
        if service in ("iam", "s3"):
            region = ""
        if service == "s3":
            account = ""
        service = {"cloudwatch": "cloudwatch", "events": "events"}.get(service, service)
        return (
            f"arn:{self.partition(stack)}:{service}:{region}:{account}:{pattern.format(name=name)}"
        )

    def reference(self, stack: StackTemplate, logical_id: str, attribute: str | None = None) -> Any:
        """What ``Ref`` (``attribute`` None) or ``Fn::GetAtt`` returns for the resource."""
        resource = stack.resources.get(logical_id)
        if resource is None:
            return self._opaque(stack, logical_id, attribute or "Ref")
        resource_type = str(resource.get("Type", ""))
        value = self._known_reference(stack, logical_id, resource_type, attribute)
        if value is None:
            value = self._opaque(stack, logical_id, attribute or "Ref")
        if isinstance(value, str):
            self._origins.setdefault(value, (stack, logical_id))
        return value

    def _known_reference(
        self, stack: StackTemplate, logical_id: str, resource_type: str, attribute: str | None
    ) -> Any:
        name = self.physical_name(stack, logical_id)
        arn = self.arn(stack, logical_id)
        region, account = stack.region, stack.account
        if resource_type in _EC2_ID_PREFIX and attribute in (None, "GroupId", "SubnetId", "VpcId"):
            return f"{_EC2_ID_PREFIX[resource_type]}-{_digest(stack.stack_name, logical_id)}"
        if resource_type == "AWS::SQS::Queue":
            url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
            return {None: url, "QueueUrl": url, "Arn": arn, "QueueName": name}.get(attribute)
        if resource_type == "AWS::KMS::Key":
            return {None: name, "KeyId": name, "Arn": arn}.get(attribute)
        if resource_type == "AWS::Logs::LogGroup" and attribute == "Arn":
            return arn
        if resource_type == "AWS::S3::Bucket":
            domain = f"{name}.s3.{region}.amazonaws.com"
            return {None: name, "Arn": arn, "RegionalDomainName": domain}.get(attribute)
        if resource_type == "AWS::IAM::Role" and attribute == "RoleId":
            return f"AROA{_digest(stack.stack_name, logical_id).upper()}"
        if attribute is None:
            return arn if resource_type in _REF_IS_ARN else name
        if attribute == "Arn" or (attribute.endswith("Arn") and attribute[:-3] in resource_type):
            return arn
        if attribute.endswith("Name") and attribute[:-4] in resource_type:
            return name
        return None

    def _opaque(self, stack: StackTemplate, logical_id: str, attribute: str) -> str:
        value = "{{" + f"{stack.stack_name}.{logical_id}.{attribute}" + "}}"
        if logical_id in stack.resources:
            self._origins.setdefault(value, (stack, logical_id))
        return value

    # --- intrinsic functions ----------------------------------------------------------

    def resolve(self, stack: StackTemplate, value: Any) -> Any:
        """``value`` with every intrinsic function of ``stack``'s template replaced."""
        if isinstance(value, list):
            items = [self.resolve(stack, item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(stack, key, argument)
        resolved = {key: self.resolve(stack, item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsic(self, stack: StackTemplate, function: str, argument: Any) -> Any:
        if function == "Ref":
            return self._ref(stack, argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = (
                argument.split(".", 1) if isinstance(argument, str) else argument
            )
            return self.reference(stack, logical_id, self.resolve(stack, attribute))
        if function in ("Fn::GetStackOutput", "Fn::ImportValue"):
            return self._output(function, self.resolve(stack, argument))
        if function == "Fn::Sub":
            return self._sub(stack, argument)
        if function == "Fn::If":
            condition, if_true, if_false = argument
            chosen = if_true if self._condition(stack, condition) else if_false
            return self.resolve(stack, chosen)
        return self._function(stack, function, self.resolve(stack, argument))

    def _function(self, stack: StackTemplate, function: str, argument: Any) -> Any:
        if function == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(_text(item) for item in items)
        if function == "Fn::Select":
            index, items = argument
            return items[int(index)] if isinstance(items, list) else f"{items}[{index}]"
        if function == "Fn::Split":
            delimiter, text = argument
            return _text(text).split(delimiter)
        if function == "Fn::GetAZs":
            return [f"{stack.region}{zone}" for zone in "abc"]
        if function == "Fn::FindInMap":
            mapping, first, second = argument[:3]
            return stack.mappings.get(mapping, {}).get(first, {}).get(second, "")
        if function == "Fn::Base64":
            return _text(argument)
        if function == "Fn::ToJsonString":
            return json.dumps(argument)
        if function == "Fn::Length":
            return len(argument) if isinstance(argument, list) else 1
        if function == "Fn::Equals":
            return argument[0] == argument[1]
        if function in ("Fn::And", "Fn::Or", "Fn::Not"):
            values = [bool(item) for item in argument]
            return {"Fn::And": all, "Fn::Or": any}.get(function, lambda v: not v[0])(values)
        return "{{" + f"{stack.stack_name}.{function}" + "}}"

    def _ref(self, stack: StackTemplate, name: str) -> Any:
        pseudo = {
            "AWS::Region": stack.region,
            "AWS::AccountId": stack.account,
            "AWS::Partition": self.partition(stack),
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{stack.region}:{stack.account}:stack/"
            f"{stack.stack_name}/{_digest(stack.stack_name)}",
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in stack.parameters:
            parameter = stack.parameters[name]
            if str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
                return "{{resolve:ssm:" + str(parameter.get("Default", name)) + "}}"
            return parameter.get("Default", "{{" + f"{stack.stack_name}.{name}" + "}}")
        return self.reference(stack, name)

    def _output(self, function: str, argument: Any) -> Any:
        if function == "Fn::ImportValue":
            for other in self.stacks:
                for output in other.outputs.values():
                    export = self.resolve(other, (output.get("Export") or {}).get("Name"))
                    if export == argument:
                        return self.resolve(other, output["Value"])
            return "{{import:" + _text(argument) + "}}"
        holder = self._by_name.get(str(argument.get("StackName")))
        named = holder.outputs.get(str(argument.get("OutputName"))) if holder else None
        if holder is None or named is None:
            return "{{output:" + json.dumps(argument, sort_keys=True) + "}}"
        return self.resolve(holder, named["Value"])

    def _sub(self, stack: StackTemplate, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(stack, item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return _text(values[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return _text(self.reference(stack, logical_id, attribute))
            return _text(self._ref(stack, name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _condition(self, stack: StackTemplate, name: str) -> bool:
        definition = stack.conditions.get(name)
        if definition is None:
            return True
        return bool(self.resolve(stack, definition))


def _text(value: Any) -> str:
    """A resolved value inside a string (lists joined by commas, as CloudFormation does)."""
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

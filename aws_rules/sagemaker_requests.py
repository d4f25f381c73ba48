"""Every SageMaker request the templates imply, validated with botocore's service model.

Two sources of requests:

- SageMaker resources that map one-to-one to a ``Create*`` call (:data:`RESOURCE_OPERATIONS`):
  CloudFormation's property names are the API's, but for the few in
  :data:`CLOUDFORMATION_ONLY` (handled by CloudFormation itself, or by another call) and
  ``AWS::SageMaker::Pipeline``'s definition, which the API takes as a string;
- every step of every pipeline definition: its ``Arguments`` are the request SageMaker
  Pipelines makes (:data:`STEP_OPERATIONS`; the job name, which the pipeline supplies, is
  filled in); condition steps are followed into their branches; ``Fail``, ``Condition``,
  ``Lambda``, ``Callback`` and ``EMR`` steps make no SageMaker request of their own.

Values known only at deploy or run time become placeholders of the target shape's type:
intrinsic functions are resolved first (``aws_rules.resolve``); pipeline expressions
(``{"Get": "Parameters.X"}``, ``{"Std:Join": ...}``, execution variables, step properties)
and opaque values in a non-string member become a value of that member's type that meets
its constraints (an enum's first value, a string of the minimum length, a structure with
its required members). What CloudFormation converts for the API (a number written as a
string, ``"true"``) is converted as it would.

Checked: ``botocore.validate.ParamValidator`` (types, required members, unknown members,
minimums), then the service model's maximums and enums, which botocore leaves to the
service.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    ServiceModel,
    Shape,
    StringShape,
    StructureShape,
)
from botocore.validate import ParamValidator

from aws_rules.findings import CheckResult, Finding
from aws_rules.resolve import Resolver, ResourceAt, name_property

#: CloudFormation resource type -> the API call that creates it.
RESOURCE_OPERATIONS = {
    "AWS::SageMaker::Model": "CreateModel",
    "AWS::SageMaker::EndpointConfig": "CreateEndpointConfig",
    "AWS::SageMaker::Endpoint": "CreateEndpoint",
    "AWS::SageMaker::DataQualityJobDefinition": "CreateDataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition": "CreateModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition": "CreateModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition": "CreateModelExplainabilityJobDefinition",
    "AWS::SageMaker::MonitoringSchedule": "CreateMonitoringSchedule",
    "AWS::SageMaker::ModelPackageGroup": "CreateModelPackageGroup",
    "AWS::SageMaker::ModelPackage": "CreateModelPackage",
    "AWS::SageMaker::Pipeline": "CreatePipeline",
    "AWS::SageMaker::FeatureGroup": "CreateFeatureGroup",
    "AWS::SageMaker::Domain": "CreateDomain",
    "AWS::SageMaker::UserProfile": "CreateUserProfile",
    "AWS::SageMaker::Space": "CreateSpace",
    "AWS::SageMaker::StudioLifecycleConfig": "CreateStudioLifecycleConfig",
    "AWS::SageMaker::MlflowTrackingServer": "CreateMlflowTrackingServer",
    "AWS::SageMaker::MlflowApp": "CreateMlflowApp",
    "AWS::SageMaker::InferenceComponent": "CreateInferenceComponent",
}

#: Top-level properties that have no member in the API request: CloudFormation uses them
#: itself (``EndpointName`` of a monitor links it to its endpoint for CloudFormation only;
#: the ``Retain*`` flags steer CloudFormation's updates) or makes another call with them
#: (``ModelPackageGroupPolicy`` -> ``PutModelPackageGroupPolicy``).
CLOUDFORMATION_ONLY = {
    "AWS::SageMaker::DataQualityJobDefinition": {"EndpointName"},
    "AWS::SageMaker::ModelQualityJobDefinition": {"EndpointName"},
    "AWS::SageMaker::ModelBiasJobDefinition": {"EndpointName"},
    "AWS::SageMaker::ModelExplainabilityJobDefinition": {"EndpointName"},
    "AWS::SageMaker::MonitoringSchedule": {"EndpointName", "FailureReason", "LastModifiedTime"},
    "AWS::SageMaker::ModelPackageGroup": {"ModelPackageGroupPolicy"},
    # UpdateInferenceComponent's: CloudFormation rolls a changed component out with it.
    "AWS::SageMaker::InferenceComponent": {"DeploymentConfig"},
    "AWS::SageMaker::Endpoint": {
        "RetainAllVariantProperties",
        "RetainDeploymentConfig",
        "ExcludeRetainedVariantProperties",
    },
}

#: Pipeline step type -> (API call, the name member the pipeline fills in).
STEP_OPERATIONS = {
    "Training": ("CreateTrainingJob", "TrainingJobName"),
    "Processing": ("CreateProcessingJob", "ProcessingJobName"),
    "QualityCheck": ("CreateProcessingJob", "ProcessingJobName"),
    "ClarifyCheck": ("CreateProcessingJob", "ProcessingJobName"),
    "Transform": ("CreateTransformJob", "TransformJobName"),
    "Tuning": ("CreateHyperParameterTuningJob", "HyperParameterTuningJobName"),
    "RegisterModel": ("CreateModelPackage", ""),
    "Model": ("CreateModel", "ModelName"),
    "AutoML": ("CreateAutoMLJob", "AutoMLJobName"),
}
#: Steps that make no SageMaker request of their own.
STEPS_WITHOUT_REQUEST = {"Condition", "Fail", "Lambda", "Callback", "EMR", "Emr", "Notebook"}
#: Keys of pipeline expressions (the SDK's ``expr``).
PIPELINE_EXPRESSIONS = {"Get", "Std:Join", "Std:JsonGet", "Std:Function"}


@dataclass(frozen=True)
class ApiRequest:
    """One request: the operation, its parameters, and where the template implies it."""

    operation: str
    params: dict[str, Any]
    source: str


@cache
def sagemaker_model() -> ServiceModel:
    """botocore's SageMaker service model (installed with botocore, no network)."""
    return botocore.session.get_session().get_service_model("sagemaker")


def operation(name: str) -> OperationModel:
    return sagemaker_model().operation_model(name)


def input_shape(name: str) -> StructureShape:
    """The request shape of operation ``name`` (every ``Create*`` call has one)."""
    shape = operation(name).input_shape
    if shape is None:
        raise ValueError(f"SageMaker's {name} takes no input")
    return shape


# --- requests of the templates ---------------------------------------------------------


def resource_requests(resolver: Resolver) -> Iterator[ApiRequest]:
    """The request of each SageMaker resource that maps to a ``Create*`` call."""
    for at in resolver.resources(*RESOURCE_OPERATIONS):
        properties = resolver.resolve(at.stack, at.properties)
        for name in CLOUDFORMATION_ONLY.get(at.type, ()):
            properties.pop(name, None)
        name_member = name_property(at.type)
        if name_member and name_member in input_shape(RESOURCE_OPERATIONS[at.type]).members:
            # CloudFormation names the resource when the template does not.
            properties.setdefault(name_member, resolver.physical_name(at.stack, at.logical_id))
        if at.type == "AWS::SageMaker::Pipeline":
            properties = _pipeline_request(properties)
        yield ApiRequest(RESOURCE_OPERATIONS[at.type], properties, at.label)


def _pipeline_request(properties: dict[str, Any]) -> dict[str, Any]:
    definition = properties.pop("PipelineDefinition", {}) or {}
    if "PipelineDefinitionBody" in definition:
        properties["PipelineDefinition"] = definition["PipelineDefinitionBody"]
    if "PipelineDefinitionS3Location" in definition:
        properties["PipelineDefinitionS3Location"] = definition["PipelineDefinitionS3Location"]
    properties.setdefault("ClientRequestToken", "client-request-token-of-cloudformation")
    return properties


def pipeline_definitions(resolver: Resolver) -> Iterator[tuple[ResourceAt, Any]]:
    """(pipeline resource, parsed definition) of every pipeline whose definition the
    template holds (a definition in S3 is uploaded at deploy time from the same text: its
    ``Custom::CDKBucketDeployment`` is not read here)."""
    for at in resolver.resources("AWS::SageMaker::Pipeline"):
        definition = resolver.resolve(at.stack, at.properties).get("PipelineDefinition") or {}
        body = definition.get("PipelineDefinitionBody")
        if isinstance(body, str):
            try:
                yield at, json.loads(body)
            except json.JSONDecodeError as error:
                yield at, error


def pipeline_steps(definition: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step of a definition, condition branches included."""
    for step in definition.get("Steps", []):
        yield step
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments", {})
            branches = {"Steps": arguments.get("IfSteps", []) + arguments.get("ElseSteps", [])}
            yield from pipeline_steps(branches)


def step_requests(resolver: Resolver) -> Iterator[ApiRequest | Finding]:
    """The request of each pipeline step (or a finding when a step cannot be read)."""
    for at, definition in pipeline_definitions(resolver):
        if isinstance(definition, Exception):
            yield Finding("SMV", at.label, f"pipeline definition is not JSON: {definition}")
            continue
        for step in pipeline_steps(definition):
            step_type, source = step.get("Type"), f"{at.label} step {step.get('Name')}"
            if step_type in STEPS_WITHOUT_REQUEST:
                continue
            if step_type not in STEP_OPERATIONS:
                yield Finding("SMV", source, f"step type {step_type!r} has no known API request")
                continue
            name, name_member = STEP_OPERATIONS[step_type]
            params = dict(step.get("Arguments") or {})
            if step_type == "AutoML" and "AutoMLProblemTypeConfig" in params:
                name, name_member = "CreateAutoMLJobV2", "AutoMLJobName"
            if name_member:
                params.setdefault(name_member, f"{step.get('Name', 'step')}-of-the-pipeline")
            yield ApiRequest(name, params, source)


# --- typed placeholders and CloudFormation's conversions --------------------------------


def is_expression(value: Any) -> bool:
    """A pipeline expression (evaluated by SageMaker Pipelines at run time)."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in PIPELINE_EXPRESSIONS


def is_opaque(value: Any) -> bool:
    """A value :class:`~aws_rules.resolve.Resolver` could not know (``{{...}}``)."""
    return isinstance(value, str) and value.startswith("{{") and value.endswith("}}")


def placeholder(shape: Shape) -> Any:
    """A value of ``shape``'s type that meets its constraints."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if isinstance(shape, StringShape):
        if shape.enum:
            return shape.enum[0]
        length = max(int(low or 1), 1)
        return ("placeholder" * (length // 11 + 1))[: min(max(length, 11), int(high or 11))]
    if shape.type_name in ("integer", "long"):
        return (
            int(low)
            if low is not None and low > 1
            else min(1, int(high if high is not None else 1))
        )
    if shape.type_name in ("float", "double"):
        return float(low) if low is not None else 1.0
    if shape.type_name == "boolean":
        return False
    if isinstance(shape, ListShape):
        return [placeholder(shape.member) for _ in range(max(int(low or 1), 1))]
    if isinstance(shape, StructureShape):
        return {name: placeholder(shape.members[name]) for name in shape.required_members}
    if shape.type_name == "map":
        return {}
    if shape.type_name == "blob":
        return b"placeholder"
    return "2025-01-01T00:00:00Z"


def to_api(value: Any, shape: Shape) -> Any:
    """``value`` made into what CloudFormation or SageMaker Pipelines would send for
    ``shape``: placeholders for run-time values, CloudFormation's scalar conversions."""
    if is_expression(value) or (is_opaque(value) and shape.type_name != "string"):
        return placeholder(shape)
    kind = shape.type_name
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members = shape.members
        return {
            key: to_api(item, members[key]) if key in members else item
            for key, item in value.items()
        }
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [to_api(item, shape.member) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {str(key): to_api(item, shape.value) for key, item in value.items()}
    return _scalar(value, kind)


def _scalar(value: Any, kind: str) -> Any:
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        try:
            if kind in ("integer", "long"):
                return int(value)
            if kind in ("float", "double"):
                return float(value)
        except ValueError:
            return value
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
    return value


# --- validation ----------------------------------------------------------------------------


def validate(request: ApiRequest) -> list[str]:
    """Problems of one request against its operation's input shape (empty when valid)."""
    shape = input_shape(request.operation)
    params = to_api(request.params, shape)
    report = ParamValidator().validate(params, shape)
    problems = report.generate_report().splitlines() if report.has_errors() else []
    problems += list(_limits(params, shape, "params"))
    return [problem.strip() for problem in problems if problem.strip()]


def _limits(value: Any, shape: Shape, path: str) -> Iterator[str]:
    """Maximums and enums of the service model (botocore checks neither)."""
    high = shape.metadata.get("max")
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                yield from _limits(item, shape.members[key], f"{path}.{key}")
    elif isinstance(shape, ListShape) and isinstance(value, list):
        if high is not None and len(value) > high:
            yield f"Invalid length for parameter {path}, value: {len(value)}, valid max length: {high}"
        for index, item in enumerate(value):
            yield from _limits(item, shape.member, f"{path}[{index}]")
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, item in value.items():
            yield from _limits(item, shape.value, f"{path}.{key}")
    elif isinstance(shape, StringShape) and isinstance(value, str):
        if shape.enum and value not in shape.enum and not is_opaque(value):
            yield f"Invalid value for parameter {path}: {value!r}, valid values: {', '.join(shape.enum)}"
        if high is not None and len(value) > high and not is_opaque(value):
            yield f"Invalid length for parameter {path}, value: {len(value)}, valid max length: {high}"
    elif (
        shape.type_name in ("integer", "long", "float", "double")
        and high is not None
        and isinstance(value, (int, float))
        and value > high
    ):
        yield f"Invalid range for parameter {path}, value: {value}, valid max value: {high}"


def requests(resolver: Resolver) -> Iterator[ApiRequest | Finding]:
    """Every request of the assembly (resources first, then pipeline steps)."""
    yield from resource_requests(resolver)
    yield from step_requests(resolver)


def check(resolver: Resolver) -> CheckResult:
    """Validate every request; each problem is a finding (rule ``SMV``)."""
    findings: list[Finding] = []
    checked = 0
    for item in requests(resolver):
        if isinstance(item, Finding):
            findings.append(item)
            continue
        checked += 1
        findings += [
            Finding("SMV", item.source, f"{item.operation}: {problem}")
            for problem in validate(item)
        ]
    return CheckResult(checked, tuple(findings))

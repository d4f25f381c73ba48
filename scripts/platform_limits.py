"""Every CloudFormation, Lambda, IAM and EventBridge limit the synthesized platform meets.

``readings(assembly)`` measures, from the templates alone, each limited quantity of each
stack, function, role, managed policy and rule, and the environment's totals;
``headroom(readings)`` says how many models the environment could have before the first
limit breaks, from what one model adds to the totals. ``python -m scripts.platform_limits
cdk.out`` prints the readings nearest to their limits and exits 1 if one is over.

Sizes that include deploy-time values (ARNs, names resolved by CloudFormation) are measured
with stand-ins a little longer than the real values (:func:`rendered`), so the measure errs
on the safe side.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_rules.cloud_assembly import StackTemplate, read_assembly

CFN_QUOTAS = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
)
LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
EVENTS_QUOTAS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html"
SSM_QUOTAS = "https://docs.aws.amazon.com/general/latest/gr/ssm.html"
SAGEMAKER_API = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/Welcome.html"
CLOUDWATCH_API = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
)

#: Physical names of SageMaker resources the templates set, and the limit each has.
SAGEMAKER_NAMES = {
    "EndpointName": "SageMaker resource name characters",
    "EndpointConfigName": "SageMaker resource name characters",
    "ModelName": "SageMaker resource name characters",
    "ModelPackageGroupName": "SageMaker resource name characters",
    "MonitoringScheduleName": "SageMaker resource name characters",
    "JobDefinitionName": "SageMaker resource name characters",
    "DomainName": "SageMaker resource name characters",
    "UserProfileName": "SageMaker resource name characters",
    "SpaceName": "SageMaker resource name characters",
    "TrackingServerName": "SageMaker resource name characters",
    "InferenceComponentName": "SageMaker resource name characters",
    "PipelineName": "pipeline name characters",
    "FeatureGroupName": "feature group name characters",
}


@dataclass(frozen=True)
class Limit:
    """One documented limit: what it bounds, its value and where AWS documents it."""

    name: str
    maximum: int
    source: str
    #: ``per stack``, ``per function``... or ``per environment`` (grows with the catalogue).
    scope: str


LIMITS = {
    limit.name: limit
    for limit in (
        Limit("resources per stack", 500, CFN_QUOTAS, "per stack"),
        Limit("template bytes per stack", 1_048_576, CFN_QUOTAS, "per stack"),
        Limit("outputs per stack", 200, CFN_QUOTAS, "per stack"),
        Limit("parameters per stack", 200, CFN_QUOTAS, "per stack"),
        Limit("mappings per stack", 200, CFN_QUOTAS, "per stack"),
        Limit("stack name characters", 128, CFN_QUOTAS, "per stack"),
        Limit("environment variable bytes per function", 4096, LAMBDA_QUOTAS, "per function"),
        Limit("inline policy characters per role", 10_240, IAM_QUOTAS, "per role"),
        Limit("managed policies attached per role", 10, IAM_QUOTAS, "per role"),
        Limit("characters per managed policy", 6144, IAM_QUOTAS, "per managed policy"),
        Limit("targets per rule", 5, EVENTS_QUOTAS, "per rule"),
        Limit("event pattern characters per rule", 2048, EVENTS_QUOTAS, "per rule"),
        Limit("SageMaker resource name characters", 63, SAGEMAKER_API, "per name"),
        Limit("pipeline name characters", 256, SAGEMAKER_API, "per name"),
        Limit("feature group name characters", 64, SAGEMAKER_API, "per name"),
        Limit("alarm name characters", 255, CLOUDWATCH_API, "per name"),
        Limit("stacks per account and region", 2000, CFN_QUOTAS, "per environment"),
        Limit("exports per account and region", 5000, CFN_QUOTAS, "per environment"),
        Limit("rules per event bus", 300, EVENTS_QUOTAS, "per environment"),
        Limit(
            "standard SSM parameters per account and region", 10_000, SSM_QUOTAS, "per environment"
        ),
    )
}


@dataclass(frozen=True)
class Reading:
    """The measured value of one limited quantity of one subject."""

    limit: Limit
    subject: str
    value: int

    @property
    def share(self) -> float:
        """How much of the limit is used (1.0 = at the limit)."""
        return self.value / self.limit.maximum


def rendered(value: Any, region: str = "eu-west-1") -> str:
    """``value`` as CloudFormation would render it, with long stand-ins for deploy-time
    values (a resource's ARN, a generated name), for measuring sizes."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)) or value is None:
        return json.dumps(value)
    if isinstance(value, list):
        return json.dumps([rendered(item, region) for item in value], separators=(",", ":"))
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return {"AWS::Partition": "aws", "AWS::Region": region}.get(argument, "x" * 64)
        if key == "Fn::Join":
            return str(argument[0]).join(rendered(part, region) for part in argument[1])
        if key in ("Fn::GetAtt", "Fn::ImportValue", "Fn::GetStackOutput", "Fn::Sub"):
            return "x" * 100
        if key == "Fn::If":
            return max((rendered(branch, region) for branch in argument[1:]), key=len)
        if key.startswith("Fn::"):
            return "x" * 64
    if isinstance(value, dict):
        return json.dumps(
            {key: _structure(item, region) for key, item in value.items()},
            separators=(",", ":"),
        )
    return str(value)


def _structure(value: Any, region: str) -> Any:
    """``value`` with intrinsics replaced by their rendered text, structure kept."""
    if (
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)).startswith(("Ref", "Fn::"))
    ):
        return rendered(value, region)
    if isinstance(value, dict):
        return {key: _structure(item, region) for key, item in value.items()}
    if isinstance(value, list):
        return [_structure(item, region) for item in value]
    return value


def readings(assembly: Path) -> list[Reading]:
    """Every limited quantity of ``assembly``'s stacks, and the environment's totals."""
    stacks = read_assembly(assembly)
    found = [reading for stack in stacks for reading in _stack_readings(assembly, stack)]
    found += _role_readings(stacks)
    found += _environment_readings(stacks)
    return found


def _template(assembly: Path, stack: StackTemplate) -> dict[str, Any]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        properties = artifact.get("properties", {})
        if properties.get("stackName") == stack.stack_name:
            template: dict[str, Any] = json.loads(
                (assembly / properties["templateFile"]).read_text()
            )
            return template
    raise KeyError(stack.stack_name)


def _stack_readings(assembly: Path, stack: StackTemplate) -> Iterator[Reading]:
    template = _template(assembly, stack)
    name = stack.stack_name
    yield Reading(LIMITS["resources per stack"], name, len(stack.resources))
    yield Reading(LIMITS["template bytes per stack"], name, stack.template_bytes)
    yield Reading(LIMITS["outputs per stack"], name, len(stack.outputs))
    yield Reading(LIMITS["parameters per stack"], name, len(template.get("Parameters", {})))
    yield Reading(LIMITS["mappings per stack"], name, len(template.get("Mappings", {})))
    yield Reading(LIMITS["stack name characters"], name, len(name))
    for logical_id, resource in stack.resources.items():
        subject = f"{name}/{logical_id}"
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Lambda::Function":
            variables = properties.get("Environment", {}).get("Variables", {})
            size = sum(
                len(key) + len(rendered(value, stack.region)) for key, value in variables.items()
            )
            yield Reading(LIMITS["environment variable bytes per function"], subject, size)
        elif kind.startswith("AWS::SageMaker::"):
            for field, limit in SAGEMAKER_NAMES.items():
                if isinstance(properties.get(field), str):
                    yield Reading(LIMITS[limit], f"{subject}.{field}", len(properties[field]))
        elif kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            if isinstance(properties.get("AlarmName"), str):
                yield Reading(
                    LIMITS["alarm name characters"], subject, len(properties["AlarmName"])
                )
        elif kind == "AWS::IAM::ManagedPolicy":
            document = rendered(properties.get("PolicyDocument", {}), stack.region)
            yield Reading(LIMITS["characters per managed policy"], subject, len(document))
        elif kind == "AWS::Events::Rule":
            yield Reading(LIMITS["targets per rule"], subject, len(properties.get("Targets", [])))
            pattern = properties.get("EventPattern")
            if pattern is not None:
                size = len(rendered(pattern, stack.region))
                yield Reading(LIMITS["event pattern characters per rule"], subject, size)


def _role_readings(stacks: list[StackTemplate]) -> Iterator[Reading]:
    """Inline policy characters and managed policies of every role, across stacks."""
    exports = _exports(stacks)
    inline: dict[str, int] = {}
    managed: dict[str, int] = {}
    for stack in stacks:
        for logical_id, resource in stack.resources.items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            role = f"{stack.stack_name}/{logical_id}"
            properties = resource.get("Properties", {})
            inline[role] = sum(
                len(rendered(policy.get("PolicyDocument", {}), stack.region))
                for policy in properties.get("Policies", [])
            )
            managed[role] = len(properties.get("ManagedPolicyArns", []))
    for stack in stacks:
        for resource in stack.resources.values():
            if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            properties = resource.get("Properties", {})
            size = len(rendered(properties.get("PolicyDocument", {}), stack.region))
            for reference in properties.get("Roles", []):
                attached = _role_of(reference, stack, exports)
                if attached is None:
                    continue
                if resource["Type"] == "AWS::IAM::Policy":
                    inline[attached] = inline.get(attached, 0) + size
                else:
                    managed[attached] = managed.get(attached, 0) + 1
    for role, size in inline.items():
        yield Reading(LIMITS["inline policy characters per role"], role, size)
    for role, count in managed.items():
        yield Reading(LIMITS["managed policies attached per role"], role, count)


def _exports(stacks: list[StackTemplate]) -> dict[str, str]:
    """Export name -> ``<stack>/<logical id>`` of the role (or resource) it exports by Ref."""
    found = {}
    for stack in stacks:
        for output in stack.outputs.values():
            name = output.get("Export", {}).get("Name")
            value = output.get("Value")
            if isinstance(name, str) and isinstance(value, dict) and "Ref" in value:
                found[name] = f"{stack.stack_name}/{value['Ref']}"
    return found


def _role_of(reference: Any, stack: StackTemplate, exports: dict[str, str]) -> str | None:
    if isinstance(reference, dict) and "Ref" in reference:
        return f"{stack.stack_name}/{reference['Ref']}"
    if isinstance(reference, dict) and "Fn::ImportValue" in reference:
        name = reference["Fn::ImportValue"]
        return exports.get(name) if isinstance(name, str) else None
    return None  # a role named literally, outside the platform's templates


def _environment_readings(stacks: list[StackTemplate]) -> Iterator[Reading]:
    """What the environment adds to its account's totals (one environment per account)."""
    environment = "environment"
    yield Reading(LIMITS["stacks per account and region"], environment, len(stacks))
    exports = sum(1 for stack in stacks for output in stack.outputs.values() if "Export" in output)
    yield Reading(LIMITS["exports per account and region"], environment, exports)
    rules = sum(
        1
        for stack in stacks
        for resource in stack.resources.values()
        if resource["Type"] == "AWS::Events::Rule"
        and "EventBusName" not in resource.get("Properties", {})
    )
    yield Reading(LIMITS["rules per event bus"], environment, rules)
    parameters = sum(
        1
        for stack in stacks
        for resource in stack.resources.values()
        if resource["Type"] in ("AWS::SSM::Parameter", "Custom::ReleaseRecord")
    )
    yield Reading(LIMITS["standard SSM parameters per account and region"], environment, parameters)


_MODEL_STACK = re.compile(r"/Models/(?P<model>[^/]+)/")


def model_count(assembly: Path) -> int:
    """How many models the assembly's environment has (per-model stacks)."""
    names = {
        match["model"]
        for stack in read_assembly(assembly)
        if (match := _MODEL_STACK.search(stack.display_name + "/"))
    }
    return len(names)


def headroom(assembly: Path) -> tuple[int | None, str]:
    """How many models the environment could have, and the limit that would stop it.

    Per-stack, per-function, per-role and per-rule quantities do not grow with the
    catalogue (each model has stacks of its own; the shared stacks are the same for any
    number of models, which the scale gate tests); the environment's totals do, by what one
    model adds. ``None`` when nothing grows.
    """
    stacks = read_assembly(assembly)
    models = model_count(assembly)
    shared = [stack for stack in stacks if not _MODEL_STACK.search(stack.display_name + "/")]
    totals = {r.limit.name: r.value for r in _environment_readings(stacks)}
    base = {r.limit.name: r.value for r in _environment_readings(shared)}
    best: tuple[int | None, str] = (None, "nothing grows with the catalogue")
    for name, total in totals.items():
        if models == 0 or total == base[name]:
            continue
        per_model = (total - base[name]) / models
        most = int((LIMITS[name].maximum - base[name]) / per_model)
        if best[0] is None or most < best[0]:
            best = (most, name)
    return best


def over_limit(found: list[Reading]) -> list[Reading]:
    """The readings over their limit."""
    return [reading for reading in found if reading.value > reading.limit.maximum]


def main(argv: list[str]) -> int:
    assembly = Path(argv[0] if argv else "cdk.out")
    found = readings(assembly)
    nearest: dict[str, Reading] = {}
    for reading in found:
        if reading.limit.name not in nearest or reading.share > nearest[reading.limit.name].share:
            nearest[reading.limit.name] = reading
    for reading in sorted(nearest.values(), key=lambda r: -r.share):
        print(
            f"{reading.share:6.1%}  {reading.limit.name}: {reading.value:,} of"
            f" {reading.limit.maximum:,} ({reading.subject})"
        )
    most, limit = headroom(assembly)
    print(f"headroom: {most if most is not None else 'unbounded'} models ({limit})")
    over = over_limit(found)
    for reading in over:
        print(f"OVER LIMIT: {reading.limit.name}: {reading.value} ({reading.subject})")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

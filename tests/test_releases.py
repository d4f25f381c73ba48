"""Releases through CloudFormation (docs/releases.md), proven on the synthesized templates.

Each model's stack reads its release record as ``AWS::SSM::Parameter::Value<String>``
parameters and creates what needs a package under the ``Released`` condition. The tests
evaluate the templates as CloudFormation would (``conftest.deployed_resources``) with the
record resolved to ``none`` (a fresh environment) and to a package ARN (after an approval).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from platform_contracts.releases import UNRELEASED, package_arn, parse_package_arn
from tests.conftest import (
    ENVIRONMENTS,
    SynthesizedPlatform,
    deployed_resources,
    model_template,
    registry_template,
)

#: What exists only with a package to serve (and what watches it).
NEEDS_A_PACKAGE = {
    "AWS::SageMaker::Model",
    "AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::MonitoringSchedule",
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
    "Custom::ModelPackage",
}


def _references(value: Any) -> set[str]:
    """Names ``value`` refers to: ``Ref`` and ``Fn::GetAtt`` targets, conditions of
    ``Fn::If`` and ``Condition``."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument[0] if isinstance(argument, list) else argument.split(".")[0])
            elif key == "Fn::If":
                found.add(argument[0])
                found |= _references(argument[1:])
            elif key == "Condition" and isinstance(argument, str):
                found.add(argument)
            else:
                found |= _references(argument)
    return found


def _records(platform: SynthesizedPlatform, template: dict[str, Any]) -> dict[str, str]:
    """The release record parameters of a model stack: logical id -> slot."""
    path = f"/{platform.config.name_prefix}/releases/"
    return {
        name: parameter["Default"].rsplit("/", 1)[1]
        for name, parameter in template.get("Parameters", {}).items()
        if parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        and parameter["Default"].startswith(path)
    }


def _needing_a_record(template: dict[str, Any], records: set[str]) -> set[str]:
    """Resources and conditions that read a record, directly or through a chain of
    conditions, ``Ref`` and ``Fn::GetAtt`` (and ``DependsOn``) leading to one."""
    nodes = {**template.get("Conditions", {}), **template["Resources"]}
    edges = {
        name: _references(node.get("Properties", node) if name in template["Resources"] else node)
        | set(node.get("DependsOn", []) if name in template["Resources"] else [])
        for name, node in nodes.items()
    }
    tainted = set(records)
    while True:
        more = {name for name, refs in edges.items() if refs & tainted} - tainted
        if not more:
            return tainted - set(records)
        tainted |= more


def _released_condition(template: dict[str, Any], records: dict[str, str]) -> str:
    """The condition "the champion names a package": Not(Equals(champion, none))."""
    (champion,) = [name for name, slot in records.items() if slot == "champion"]
    expected = {"Fn::Not": [{"Fn::Equals": [{"Ref": champion}, UNRELEASED]}]}
    (name,) = [n for n, c in template.get("Conditions", {}).items() if c == expected]
    return name


# --- a fresh environment deploys in one command ----------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_with_every_record_empty_nothing_cloudformation_creates_needs_a_package(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    served = 0
    for model in platform.config.models:
        template = model_template(platform, model.name)
        records = _records(platform, template)
        if not records:
            assert not any(r["Type"] in NEEDS_A_PACKAGE for r in template["Resources"].values())
            continue
        released = _released_condition(template, records)
        resources = template["Resources"]
        # Whatever reads the record (or reads what reads it) is created only once released.
        for name in _needing_a_record(template, set(records)) & set(resources):
            assert resources[name].get("Condition") == released, (model.name, name)
        for name, output in template.get("Outputs", {}).items():
            if _references(output) & (set(records) | _needing_a_record(template, set(records))):
                assert output.get("Condition") == released, (model.name, name)
        # ... and so is every model, endpoint and monitor of the model.
        for name, resource in resources.items():
            if resource["Type"] in NEEDS_A_PACKAGE:
                served += 1
                assert resource.get("Condition") == released, (model.name, name)
        # With the records as the registry stack creates them, the stack still trains.
        fresh = deployed_resources(template, dict.fromkeys(records, UNRELEASED))
        types = {r["Type"] for r in fresh.values()}
        assert not types & NEEDS_A_PACKAGE, model.name
        assert "AWS::SageMaker::Pipeline" in types and "AWS::SSM::Parameter" in types
    assert served
    # Nothing outside the model stacks names a package: no resolver of "latest", no model.
    for stack in platform.platform.stacks:
        if any(stack is pair.model for pair in platform.platform.models.values()):
            continue
        text = json.dumps(platform.template_json(stack))
        assert "ModelPackageName" not in text and "Custom::ModelPackage" not in text, (
            stack.stack_name
        )


# --- the same commit serves a model once its record names a version ---------------------------


def _served_packages(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Package ARN each endpoint variant serves, by variant name (production and shadow)."""
    served = {}
    for config in (r for r in resources.values() if r["Type"] == "AWS::SageMaker::EndpointConfig"):
        properties = config["Properties"]
        for variant in properties["ProductionVariants"] + properties.get(
            "ShadowProductionVariants", []
        ):
            name = variant.get("ModelName") or next(  # else an endpoint of inference components
                r["Properties"]["Specification"]["ModelName"]
                for r in resources.values()
                if r["Type"] == "AWS::SageMaker::InferenceComponent"
            )
            model = resources[name["Fn::GetAtt"][0]]
            served[variant["VariantName"]] = _package_of(resources, model)
    return served


def _package_of(resources: dict[str, dict[str, Any]], model: dict[str, Any]) -> str:
    container = model["Properties"]["PrimaryContainer"]
    if "ModelPackageName" in container:
        return str(container["ModelPackageName"])
    lookup = resources[container["ModelDataUrl"]["Fn::GetAtt"][0]]  # an image override
    assert lookup["Type"] == "Custom::ModelPackage"
    return str(lookup["Properties"]["ModelPackageArn"])


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_once_a_record_names_a_version_the_same_templates_serve_it(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    config = platform.config
    for model in platform.config.models:
        template = model_template(platform, model.name)
        records = _records(platform, template)
        if not records:
            continue
        (group,) = [
            r["Properties"]["ModelPackageGroupName"]
            for r in registry_template(platform, model.name)["Resources"].values()
            if r["Type"] == "AWS::SageMaker::ModelPackageGroup"
        ]
        v3, v4 = (package_arn("aws", config.region, config.account, group, v) for v in (3, 4))
        slot_of = {slot: name for name, slot in records.items()}
        first = deployed_resources(
            template, dict.fromkeys(records, UNRELEASED) | {slot_of["champion"]: v3}
        )
        types = [r["Type"] for r in first.values()]
        assert "AWS::SageMaker::Model" in types, model.name
        spec = model.serving
        assert spec is not None
        if spec.kind.value == "batch":
            (transform,) = [r for r in first.values() if r["Type"] == "AWS::SageMaker::Model"]
            assert _package_of(first, transform) == v3
            assert types.count("AWS::SageMaker::Pipeline") == 2  # training and batch
            continue
        assert types.count("AWS::SageMaker::Endpoint") == 1, model.name
        (endpoint,) = [r for r in first.values() if r["Type"] == "AWS::SageMaker::Endpoint"]
        assert endpoint["Properties"]["EndpointName"] == group
        served = _served_packages(first)
        pinned = {
            v.name: package_arn("aws", config.region, config.account, group, int(v.model_version))
            for v in spec.production_variants + spec.shadow
            if v.model_version is not None
        }
        # Every variant serves the champion (the candidate slot is empty), or its pinned one.
        assert served == {
            v.name: pinned.get(v.name, v3) for v in spec.production_variants + spec.shadow
        }
        if "candidate" in slot_of:
            second = deployed_resources(
                template, {slot_of["champion"]: v3, slot_of["candidate"]: v4}
            )
            after = _served_packages(second)
            assert set(after.values()) - set(pinned.values()) == {v3, v4}, model.name
            first_variant = spec.production_variants[0].name
            assert after[first_variant] == v3  # the champion keeps serving
        monitors = [r for r in first.values() if r["Type"] == "AWS::SageMaker::MonitoringSchedule"]
        assert len(monitors) == sum(
            (
                model.monitoring.data_quality,
                model.monitoring.model_quality,
                model.monitoring.bias,
                model.monitoring.explainability,
            )
        ) * (spec.captures_data and model.monitoring.enabled)


# --- an unchanged redeploy changes no endpoint ------------------------------------------------

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _closure(template: dict[str, Any], logical_id: str) -> set[str]:
    """``logical_id`` and every resource or parameter it reads, transitively."""
    resources = template["Resources"]
    found, todo = {logical_id}, [logical_id]
    while todo:
        resource = resources[todo.pop()]
        refs = _references(resource.get("Properties", {})) | set(resource.get("DependsOn", []))
        for name in refs - found:
            found.add(name)
            if name in resources:
                todo.append(name)
    return found


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_what_an_endpoint_serves_depends_only_on_its_release_record(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    endpoints = 0
    for model in platform.config.models:
        template = model_template(platform, model.name)
        records = set(_records(platform, template))
        resources = template["Resources"]
        for logical_id, resource in resources.items():
            if resource["Type"] not in ("AWS::SageMaker::Endpoint", "AWS::SageMaker::Model"):
                continue
            endpoints += resource["Type"] == "AWS::SageMaker::Endpoint"
            closure = _closure(template, logical_id)
            parameters = closure & set(template.get("Parameters", {}))
            assert parameters <= records, (model.name, logical_id, parameters)
            for name in closure & set(resources):
                read = resources[name]
                text = json.dumps(read.get("Properties", {}))
                assert not _ASSET_HASH.search(text), (model.name, name)
                assert not _TIMESTAMP.search(text), (model.name, name)
                assert "latest" not in text.lower(), (model.name, name)
                if read["Type"].startswith("Custom::"):
                    # A deploy-time lookup is keyed on the recorded package alone: it runs
                    # again only when the record changes.
                    assert read["Type"] == "Custom::ModelPackage", (model.name, name)
                    assert set(read["Properties"]) == {"ServiceToken", "ModelPackageArn"}
                    assert _references(read["Properties"]["ModelPackageArn"]) <= records
    assert endpoints


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_an_approval_changes_one_record_read_by_one_model_stack_with_one_endpoint(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    readers: dict[str, list[str]] = {}
    for stack in platform.platform.stacks:
        template = platform.template_json(stack)
        for name in _records(platform, template):
            record = template["Parameters"][name]["Default"]
            readers.setdefault(record, []).append(stack.stack_name)
    assert readers
    for record, stacks in readers.items():
        model = record.split("/")[-2]
        assert stacks == [f"{platform.config.name_prefix}-model-{model}"], record
        endpoints = [
            r
            for r in model_template(platform, model)["Resources"].values()
            if r["Type"] == "AWS::SageMaker::Endpoint"
        ]
        assert len(endpoints) <= 1, record
    # a pinned version is the model's own group's
    for model in platform.config.models:
        for resource in model_template(platform, model.name)["Resources"].values():
            package = (
                resource.get("Properties", {}).get("PrimaryContainer", {}).get("ModelPackageName")
            )
            if isinstance(package, str):
                assert (
                    parse_package_arn(package)[0] == f"{platform.config.name_prefix}-{model.name}"
                )

"""Session fixtures: each environment's app is built and synthesized once per test session.

Also the one place of the helpers every stack test uses to find its templates and
resources: a model's two stacks (:func:`model_template`, :func:`registry_template`), the
shared automation stack (:func:`automation_template`), every resource of a type across all
stacks (:func:`resources_of_type`) and the synthesized resource of a construct
(:func:`resource_of`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii starts Node when aws_cdk is imported: the repository's Node 22 (package.json) must
# come first on PATH before that, also when pytest is run without `make test`.
REPO = Path(__file__).resolve().parent.parent
os.environ["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from constructs import IConstruct  # noqa: E402

from platform_config import (  # noqa: E402
    EnvironmentConfig,
    available_environments,
    load_environment,
)
from platform_contracts.model_settings import (  # noqa: E402
    ModelSettings,
    settings_parameter_name,
)
from stacks import MlPlatform, build_platform  # noqa: E402
from stacks.ml_platform import ModelStacks  # noqa: E402
from stacks.platform_app import APP_CONTEXT  # noqa: E402

ENVIRONMENTS = available_environments()


def cdk_context() -> dict[str, object]:
    """The feature flags and settings of ``cdk.json``, as the CLI would pass them."""
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    return {**APP_CONTEXT, **{key: value for key, value in context.items() if key != "env"}}


@dataclass(frozen=True)
class SynthesizedPlatform:
    """One environment's app, built and synthesized."""

    config: EnvironmentConfig
    platform: MlPlatform
    assembly: cdk.cx_api.CloudAssembly
    outdir: Path

    def template(self, stack: cdk.Stack) -> Template:
        """The synthesized template, for assertions (no second synthesis)."""
        return Template.from_json(self.template_json(stack))

    def template_json(self, stack: cdk.Stack) -> dict[str, Any]:
        """The synthesized template as written to the cloud assembly (a fresh copy)."""
        artifact = self.assembly.get_stack_artifact(stack.artifact_id)
        return json.loads(_template_text(artifact.template_full_path))  # type: ignore[no-any-return]

    def model(self, model: str) -> ModelStacks:
        """The two stacks of catalogue model ``model``."""
        return self.platform.models[model]


_TEMPLATE_TEXT: dict[str, str] = {}


def _template_text(path: str) -> str:
    """A template file's text, read once per session (tests read the same ones often)."""
    if path not in _TEMPLATE_TEXT:
        _TEMPLATE_TEXT[path] = Path(path).read_text()
    return _TEMPLATE_TEXT[path]


def model_template(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    """Template of ``<prefix>-model-<model>``: pipelines, settings, serving, monitoring."""
    return platform.template_json(platform.model(model).model)


def registry_template(platform: SynthesizedPlatform, model: str) -> dict[str, Any]:
    """Template of ``<prefix>-registry-<model>``: package group and release records."""
    return platform.template_json(platform.model(model).registry)


def automation_template(platform: SynthesizedPlatform) -> dict[str, Any]:
    """Template of ``<prefix>-automation``: alerts, provider, step code, automation."""
    return platform.template_json(platform.platform.automation)


def resources_of_type(platform: SynthesizedPlatform, kind: str) -> dict[str, dict[str, Any]]:
    """Every resource of type ``kind`` in every stack, by ``<stack name>/<logical id>``."""
    return {
        f"{stack.stack_name}/{logical_id}": resource
        for stack in platform.platform.stacks
        for logical_id, resource in platform.template_json(stack)["Resources"].items()
        if resource["Type"] == kind
    }


def settings_document(platform: SynthesizedPlatform, model: str) -> ModelSettings:
    """The settings document of ``model`` as its stack writes it (parsed the way the
    functions read it)."""
    name = settings_parameter_name(platform.config.name_prefix, model)
    (parameter,) = [
        resource["Properties"]
        for resource in model_template(platform, model)["Resources"].values()
        if resource["Type"] == "AWS::SSM::Parameter" and resource["Properties"]["Name"] == name
    ]
    assert parameter["Type"] == "String"
    assert isinstance(parameter["Value"], str), "a literal document (no deploy-time value)"
    return ModelSettings.from_json(parameter["Value"])


def stack_output(platform: SynthesizedPlatform, reference: dict[str, Any]) -> Any:
    """The value a cross-stack reference (``Fn::GetStackOutput``) reads, from the output of
    the producing stack's template."""
    spec = reference["Fn::GetStackOutput"]
    (stack,) = [s for s in platform.platform.stacks if s.stack_name == spec["StackName"]]
    return platform.template_json(stack)["Outputs"][spec["OutputName"]]["Value"]


def logical_id_of(construct: IConstruct) -> str:
    """The logical id of a CloudFormation resource, or of an L2 construct's resource."""
    resource = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    assert isinstance(resource, cdk.CfnElement), construct.node.path
    return cdk.Stack.of(resource).get_logical_id(resource)


def resource_of(platform: SynthesizedPlatform, construct: IConstruct) -> dict[str, Any]:
    """The synthesized resource (``Type``, ``Properties``, ...) of ``construct``."""
    template = platform.template_json(cdk.Stack.of(construct))
    return template["Resources"][logical_id_of(construct)]  # type: ignore[no-any-return]


_CACHE: dict[str, SynthesizedPlatform] = {}


def synthesize(env_name: str, outdir: Path) -> SynthesizedPlatform:
    """Build and synthesize ``env_name``'s app as ``app.py`` does (rule packs included).

    CDK's built-in template validation is off here (it costs ~2 s an app); the real synth
    through the CLI, exercised in ``test_synth_command.py``, runs it.
    """
    if env_name not in _CACHE:
        _CACHE[env_name] = synthesize_config(load_environment(env_name), outdir)
    return _CACHE[env_name]


def synthesize_config(config: EnvironmentConfig, outdir: Path) -> SynthesizedPlatform:
    """Build and synthesize the platform of ``config`` exactly as :func:`synthesize` does
    (for a test that changes the configuration; not cached)."""
    app = cdk.App(
        context=cdk_context(),
        outdir=str(outdir),
        stack_traces=False,
        builtin_cloud_formation_validation=False,
    )
    platform = build_platform(app, config)
    return SynthesizedPlatform(config, platform, app.synth(), outdir)


@pytest.fixture(scope="session")
def platforms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedPlatform]:
    """Every environment of ``config/``, synthesized once."""
    return {name: synthesize(name, tmp_path_factory.mktemp(f"cdk-{name}")) for name in ENVIRONMENTS}


@pytest.fixture(scope="session")
def sandbox(platforms: dict[str, SynthesizedPlatform]) -> SynthesizedPlatform:
    return platforms["sandbox"]


# --- What CloudFormation would create ------------------------------------------------------

#: ``{"Ref": "AWS::NoValue"}``, resolved: the property is dropped.
_NO_VALUE = object()


def deployed_resources(
    template: dict[str, Any], parameters: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The resources CloudFormation would create from ``template`` given ``parameters``
    (values of SSM parameter types as resolved; other parameters take their defaults).

    Conditions are evaluated, resources whose condition is false are left out, and in the
    properties of the others ``Ref`` to a parameter, ``Fn::If``, ``Fn::Join``,
    ``Fn::Select`` and ``Fn::Split`` are resolved; every other intrinsic (references to
    resources or to other stacks) is kept as it is.
    """
    values = {
        name: parameters.get(name, parameter.get("Default"))
        for name, parameter in template.get("Parameters", {}).items()
    }
    definitions = template.get("Conditions", {})
    conditions: dict[str, bool] = {}

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(evaluate(definitions[name]))
        return conditions[name]

    def evaluate(value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (evaluate(item) for item in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and argument == "AWS::NoValue":
                return _NO_VALUE
            if key == "Ref" and argument in values:
                return values[argument]
            if key == "Condition":
                return condition(argument)
            if key == "Fn::If":
                name, when_true, when_false = argument
                return evaluate(when_true if condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = evaluate(argument)
                return left == right
            if key == "Fn::Not":
                return not evaluate(argument[0])
            if key == "Fn::And":
                return all(evaluate(argument))
            if key == "Fn::Or":
                return any(evaluate(argument))
            if key in ("Fn::Join", "Fn::Select", "Fn::Split"):
                return _function(key, evaluate(argument))
        return {k: v for k, v in ((k, evaluate(v)) for k, v in value.items()) if v is not _NO_VALUE}

    return {
        logical_id: evaluate(resource)
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }


def _function(key: str, argument: list[Any]) -> Any:
    """``Fn::Join``, ``Fn::Select`` or ``Fn::Split`` of evaluated arguments, when they are
    all known; else the function itself."""
    if key == "Fn::Join" and all(isinstance(part, str) for part in argument[1]):
        return str(argument[0]).join(argument[1])
    if key == "Fn::Select" and isinstance(argument[1], list):
        return argument[1][int(argument[0])]
    if key == "Fn::Split" and isinstance(argument[1], str):
        return argument[1].split(argument[0])
    return {key: argument}

"""A pipeline kind registered without editing the library: examples/custom_pipeline_kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from examples.custom_pipeline_kind import PROCESSING_ONLY, ProcessingOnlySettings
from examples.custom_pipeline_kind.processing_only_pipeline import SPLITS
from platform_config import ConfigError, load_environment
from platform_config.loader import DEFAULT_CONFIG_DIR
from tests.conftest import cdk_context

PLUGIN = "examples.custom_pipeline_kind"
MODEL = {
    "name": "feature-refresh",
    "description": "Refreshes the churn features weekly (one processing job).",
    "pipeline": {
        "kind": "processing_only",
        "settings": {"instance_type": "ml.m5.2xlarge", "target_column": "churned"},
    },
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the committed configuration, for a test to change."""
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _catalogue(config_dir: Path, *, plugins: Any = None, model: dict[str, Any] = MODEL) -> int:
    """Add ``model`` (and ``pipeline_plugins: plugins``) to the catalogue; its index."""
    path = config_dir / "models.yaml"
    data = yaml.safe_load(path.read_text())
    if plugins is not None:
        data = {"pipeline_plugins": plugins, **data}
    data["models"].append(model)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return len(data["models"]) - 1


def _definition(template: Template, pipeline_name: str) -> dict[str, Any]:
    """The definition of ``pipeline_name``, deploy-time values shown as ``<deploy-time>``."""
    pipelines = template.find_resources(
        "AWS::SageMaker::Pipeline", {"Properties": {"PipelineName": pipeline_name}}
    )
    (resource,) = pipelines.values()
    body = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    if isinstance(body, dict):
        body = "".join(p if isinstance(p, str) else "<deploy-time>" for p in body["Fn::Join"][1])
    return json.loads(body)  # type: ignore[no-any-return]


def test_listed_plugin_kind_synthesizes_the_plugins_pipeline(
    config_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from stacks import build_platform

    _catalogue(config_dir, plugins=[PLUGIN])
    config = load_environment("sandbox", config_dir)
    spec = config.models[-1].pipeline
    assert spec.kind == PROCESSING_ONLY.name
    assert spec.settings == ProcessingOnlySettings(
        instance_type="ml.m5.2xlarge", target_column="churned"
    )

    app = cdk.App(
        context=cdk_context(),
        outdir=str(tmp_path_factory.mktemp("cdk.out")),
        builtin_cloud_formation_validation=False,
    )
    platform = build_platform(app, config)
    assembly = app.synth()

    def template_of(model: str) -> Template:
        artifact = assembly.get_stack_artifact(platform.models[model].model.artifact_id)
        return Template.from_json(json.loads(Path(artifact.template_full_path).read_text()))

    # The plugin's model gets its own stack with its one pipeline, and nothing that serves.
    template = template_of("feature-refresh")
    template.resource_count_is("AWS::SageMaker::Pipeline", 1)
    template.resource_count_is("AWS::SageMaker::Endpoint", 0)
    definition = _definition(template, "ml-platform-sandbox-feature-refresh")
    assert [step["Name"] for step in definition["Steps"]] == ["Prepare"]
    (step,) = definition["Steps"]
    assert step["Type"] == "Processing"
    job = step["Arguments"]
    assert job["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.2xlarge"
    assert job["AppSpecification"]["ContainerArguments"][-3:] == ["churned", "--train-shards", "1"]
    assert sorted(o["OutputName"] for o in job["ProcessingOutputConfig"]["Outputs"]) == sorted(
        SPLITS
    )
    assert [p["Name"] for p in definition["Parameters"]] == ["InputDataUri"]
    # The built-in kinds are still built by their own builders beside it.
    churn = template_of("churn-prediction")
    assert "Train" in json.dumps(_definition(churn, "ml-platform-sandbox-churn-prediction"))


def test_unlisted_plugin_kind_is_one_config_error_line_naming_the_registered_kinds(
    config_dir: Path,
) -> None:
    # Registered in this process by the test above (or by the import at the top), the kind
    # is still refused: a catalogue may use only the kinds of the plugins it lists.
    index = _catalogue(config_dir)
    with pytest.raises(ConfigError) as raised:
        load_environment("sandbox", config_dir)
    message = str(raised.value)
    assert "\n" not in message
    assert message.endswith(
        f"models.yaml: models[{index}].pipeline.kind: 'processing_only' is not allowed"
        " (allowed: automl, fine_tuning, training)"
    ), message


@pytest.mark.parametrize(
    ("plugins", "pipeline", "expected"),
    [
        (
            ["examples.no_such_plugin"],
            MODEL["pipeline"],
            (
                "models.yaml: pipeline_plugins[0]: 'examples.no_such_plugin' is not a module of this"
                " repository (looked for examples/no_such_plugin.py;"
            ),
        ),
        (
            ["examples.custom_monitor"],
            MODEL["pipeline"],
            (
                "models.yaml: pipeline_plugins[0]: 'examples.custom_monitor' does not define"
                " PIPELINE_KINDS, a list of PipelineKindPlugin"
            ),
        ),
        (
            "examples.custom_pipeline_kind",
            MODEL["pipeline"],
            "models.yaml: pipeline_plugins: must be a list of module paths",
        ),
        (
            [PLUGIN],
            {"kind": "processing_only", "settings": {"instance_type": "ml.m5.huge"}},
            (
                "models.yaml: models[{index}].pipeline.settings.instance_type: 'ml.m5.huge' is not an"
                " instance type SageMaker accepts for processing jobs"
            ),
        ),
        (
            [PLUGIN],
            {"kind": "processing_only", "settings": {"retries": 3}},
            "models.yaml: models[{index}].pipeline.settings.retries: 3 is not a known field",
        ),
        (
            [PLUGIN],
            {"kind": "processing_only", "target_column": "churned"},
            (
                "models.yaml: models[{index}].pipeline.target_column: 'churned' is set but kind is"
                " processing_only (it applies to: training, automl)"
            ),
        ),
        (
            [PLUGIN],
            {"kind": "training", "settings": {"instance_type": "ml.m5.xlarge"}},
            (
                "models.yaml: models[{index}].pipeline.settings: {...} is set but kind is training"
                " (it applies to: kinds of pipeline_plugins)"
            ),
        ),
    ],
)
def test_plugin_mistakes_are_one_config_error_line(
    config_dir: Path, plugins: Any, pipeline: dict[str, Any], expected: str
) -> None:
    index = _catalogue(config_dir, plugins=plugins, model={**MODEL, "pipeline": pipeline})
    with pytest.raises(ConfigError) as raised:
        load_environment("sandbox", config_dir)
    assert "\n" not in str(raised.value)
    assert expected.replace("{index}", str(index)) in str(raised.value), str(raised.value)


@pytest.mark.parametrize("name", ["training", PROCESSING_ONLY.name])
def test_a_kind_cannot_take_a_built_in_or_listed_kinds_name(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import examples.custom_pipeline_kind as plugin_module
    from pipeline_definitions.pipeline_kinds import PipelineKindPlugin

    again = PipelineKindPlugin(name=name, build=PROCESSING_ONLY.build)
    monkeypatch.setattr(plugin_module, "PIPELINE_KINDS", (PROCESSING_ONLY, again))
    _catalogue(config_dir, plugins=[PLUGIN])
    with pytest.raises(ConfigError) as raised:
        load_environment("sandbox", config_dir)
    assert str(raised.value).endswith(
        f"models.yaml: pipeline_plugins[0]: '{PLUGIN}': pipeline kind {name!r} is already"
        " registered"
    ), raised.value


def test_a_catalogue_without_the_plugin_refuses_its_kind_even_after_one_that_lists_it(
    config_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    listed = config_dir
    _catalogue(listed, plugins=[PLUGIN])
    assert load_environment("sandbox", listed).models[-1].pipeline.kind == PROCESSING_ONLY.name
    unlisted = tmp_path_factory.mktemp("unlisted")
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, unlisted / path.name)
    _catalogue(unlisted)
    with pytest.raises(ConfigError, match="'processing_only' is not allowed"):
        load_environment("sandbox", unlisted)

"""Each model's settings document: what the automation functions read instead of an
environment variable per model (``platform_contracts.model_settings``).

The document is the SSM parameter the model's stack writes. It must parse the way the
functions parse it, and every name in it must be a name the templates really give: the
pipeline, the registry group, the stack a release updates, the drift alarm, the monitoring
schedules, the release record's slots, pinned versions and the baselines' location.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from platform_contracts.model_settings import ModelSettings
from platform_contracts.releases import package_arn, parse_package_arn
from tests.conftest import (
    ENVIRONMENTS,
    SynthesizedPlatform,
    deployed_resources,
    model_template,
    registry_template,
    settings_document,
)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _record_parameters(platform: SynthesizedPlatform, template: dict[str, Any]) -> dict[str, str]:
    """Release record parameters of a model stack: logical id -> slot."""
    records = f"/{platform.config.name_prefix}/releases/"
    return {
        name: parameter["Default"].rsplit("/", 1)[1]
        for name, parameter in template["Parameters"].items()
        if parameter["Default"].startswith(records)
    }


def _candidate_variant(template: dict[str, Any], candidate: str) -> str | None:
    """``shadow`` or ``challenger``: which variant's model reads the candidate record."""
    models = _of_type(template, "AWS::SageMaker::Model")
    reads = {
        logical_id
        for logical_id, model in models.items()
        if f'"{candidate}"' in json.dumps(model["Properties"])
    }
    for config in _of_type(template, "AWS::SageMaker::EndpointConfig").values():
        properties = config["Properties"]
        for kind, variants in (
            ("shadow", properties.get("ShadowProductionVariants", [])),
            ("challenger", properties["ProductionVariants"]),
        ):
            if any(v["ModelName"]["Fn::GetAtt"][0] in reads for v in variants):
                return kind
    return None


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_each_document_parses_and_names_what_the_templates_build(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    platform = platforms[env_name]
    for model in platform.config.models:
        template = model_template(platform, model.name)
        settings = settings_document(platform, model.name)
        assert settings.model == model.name
        training = [
            r["Properties"]["PipelineName"]
            for r in _of_type(template, "AWS::SageMaker::Pipeline").values()
            if "Condition" not in r  # the batch pipeline exists only once released
        ]
        assert [settings.pipeline_name] == training, model.name
        (group,) = _of_type(
            registry_template(platform, model.name), "AWS::SageMaker::ModelPackageGroup"
        ).values()
        assert settings.model_package_group_name == group["Properties"]["ModelPackageGroupName"]
        retraining = settings.retraining
        alarms = [
            a["Properties"]["AlarmName"]
            for a in _of_type(template, "AWS::CloudWatch::CompositeAlarm").values()
        ]
        assert [retraining.drift_alarm_name] == (alarms or [None]), model.name
        schedules = [
            s["Properties"]["MonitoringScheduleName"]
            for s in _of_type(template, "AWS::SageMaker::MonitoringSchedule").values()
        ]
        assert sorted(retraining.monitoring_schedule_names) == sorted(schedules), model.name
        _check_release(platform, model.name, template, settings)


def _check_release(
    platform: SynthesizedPlatform, model: str, template: dict[str, Any], settings: ModelSettings
) -> None:
    records = _record_parameters(platform, template)
    release = settings.release
    assert (release is None) == (not records), model
    if release is None:
        return
    stack = platform.model(model).model
    artifact = platform.assembly.get_stack_artifact(stack.artifact_id)
    assert release.stack_name == artifact.stack_name
    assert sorted(release.slots) == sorted(records.values())
    candidate = next((name for name, slot in records.items() if slot == "candidate"), None)
    assert release.candidate_variant == (candidate and _candidate_variant(template, candidate))
    pinned = sorted(
        parse_package_arn(m["Properties"]["PrimaryContainer"]["ModelPackageName"])[1]
        for m in _of_type(template, "AWS::SageMaker::Model").values()
        if isinstance(m["Properties"]["PrimaryContainer"].get("ModelPackageName"), str)
    )
    assert list(release.pinned_versions) == pinned
    # The monitors read the baselines where the release automation copies a version's.
    arn = package_arn("aws", platform.config.region, platform.config.account, "g", 42)
    released = deployed_resources(template, dict.fromkeys(records, arn))
    uris = [
        uri
        for r in released.values()
        if r["Type"].endswith("JobDefinition")
        for uri in _baseline_uris(r["Properties"])
    ]
    if release.baselines_uri is None:
        assert uris == [], model
    else:
        assert uris, model
        assert all(uri.startswith(f"{release.baselines_uri}/42/") for uri in uris), uris


def _baseline_uris(properties: dict[str, Any]) -> list[str]:
    """The ``S3Uri`` of every baseline a job definition reads."""
    found = []
    for key, value in properties.items():
        if key.endswith("BaselineConfig"):
            found += [v["S3Uri"] for v in value.values() if isinstance(v, dict) and "S3Uri" in v]
    return found


def test_documents_are_checked_when_read() -> None:
    # The functions refuse a document that is not of this shape: the check is real.
    with pytest.raises(ValueError, match=re.escape("retraining.cooldown_seconds is missing")):
        ModelSettings.from_json(
            json.dumps(
                {
                    "schema_version": 1,
                    "model": "m",
                    "pipeline_name": "p",
                    "model_package_group_name": "g",
                    "retraining": {"on_drift": True},
                }
            )
        )

"""The retraining table (``platform_contracts/retraining.py``): complete, what the issue
asks of drift retraining, standard library only, and the same in ``docs/retraining.md``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from platform_contracts import retraining
from platform_contracts.retraining import (
    DEFAULT_RUN,
    INPUT_DATA_URI,
    REGISTER_NEW_BASELINE,
    RULES,
    SKIP_DRIFT_CHECK,
    TrainingData,
    Trigger,
    rule_for,
    training_data_prefix,
    training_data_uri,
)

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "retraining.md"
_DATA_WORDS = {
    TrainingData.TRAINING_PREFIX: "the training prefix",
    TrainingData.TRAINING_PREFIX_AFTER_QUIET_PERIOD: "the training prefix, after the quiet period",
}


def test_every_trigger_has_exactly_one_rule() -> None:
    assert set(RULES) == set(Trigger)
    assert all(rule.trigger is trigger for trigger, rule in RULES.items())


@pytest.mark.parametrize("trigger", [Trigger.DRIFT_ALARM, Trigger.MONITORING_VIOLATION])
def test_drift_retraining_skips_the_check_and_registers_a_new_baseline(trigger: Trigger) -> None:
    rule = RULES[trigger]
    assert rule.skip_drift_check and rule.register_new_baseline


def test_the_pipeline_defaults_are_the_routine_schedule() -> None:
    assert DEFAULT_RUN is RULES[Trigger.SCHEDULE]
    assert not DEFAULT_RUN.skip_drift_check and not DEFAULT_RUN.register_new_baseline


def test_parameters_are_the_pipelines_names_and_api_strings() -> None:
    uri = training_data_uri("mlp-dev-111122223333-eu-west-1-datasets", "churn-prediction")
    assert uri == "s3://mlp-dev-111122223333-eu-west-1-datasets/churn-prediction/training/"
    assert RULES[Trigger.DRIFT_ALARM].parameters(uri) == {
        INPUT_DATA_URI: uri,
        SKIP_DRIFT_CHECK: "true",
        REGISTER_NEW_BASELINE: "true",
    }
    assert RULES[Trigger.NEW_DATA].parameters(uri)[SKIP_DRIFT_CHECK] == "false"
    assert training_data_prefix("churn-prediction") == "churn-prediction/training/"


@pytest.mark.parametrize(
    "uri",
    [
        "s3://datasets/churn-prediction/training/batch-7/part-0.csv",
        "s3://datasets/churn-prediction/training",
        "/data/churn/",
    ],
)
def test_one_object_is_never_the_input(uri: str) -> None:
    with pytest.raises(ValueError, match=r"InputDataUri=.* allowed: an s3:// prefix ending in '/'"):
        RULES[Trigger.NEW_DATA].parameters(uri)


def test_without_an_approved_version_every_trigger_runs_as_a_first_run() -> None:
    first = RULES[Trigger.FIRST_RUN]
    for trigger in Trigger:
        rule = rule_for(trigger, has_approved_version=False)
        assert (rule.skip_drift_check, rule.register_new_baseline) == (
            first.skip_drift_check,
            first.register_new_baseline,
        )
        assert rule.training_data is RULES[trigger].training_data
        assert rule_for(trigger, has_approved_version=True) is RULES[trigger]


def test_the_module_imports_the_standard_library_only() -> None:
    """It is vendored into Lambda packages, which carry no third-party library for it."""
    tree = ast.parse(Path(retraining.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"__future__", "enum", "collections", "dataclasses", "types"}, imported


def test_the_documented_table_is_the_modules() -> None:
    rows = re.findall(
        r"^\| `([a-z-]+)` \| ([^|]+) \| (true|false) \| (true|false) \| ([^|]+) \|$",
        DOC.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    documented = {
        Trigger(trigger): (data.strip(), skip == "true", register == "true", why.strip())
        for trigger, data, skip, register, why in rows
    }
    expected = {
        trigger: (
            _DATA_WORDS[rule.training_data],
            rule.skip_drift_check,
            rule.register_new_baseline,
            rule.why,
        )
        for trigger, rule in RULES.items()
    }
    assert documented == expected

"""Run a training pipeline definition here: its step scripts on local data, its checks'
decisions as SageMaker Pipelines documents them, its registration resolved.

What runs for real: ``preprocess.py``, ``train.py`` (standing in for the built-in XGBoost
algorithm, with the definition's hyperparameters) and ``evaluate.py``, with the command
lines the definition gives them, ``/opt/ml`` mapped to a temporary directory.

What is a stand-in: the Model Monitor analyzer of the ``QualityCheck`` steps (a Spark and
Deequ container that cannot run here). :class:`DataQualityAnalyzer` computes per-feature
statistics and flags a feature as drifted when its two-sample Kolmogorov-Smirnov distance to
the baseline exceeds 0.1 (the analyzer's default ``comparison_threshold``; its own distance
measure differs). :class:`ModelQualityAnalyzer` flags an AUC below the baseline's. The
*decisions* around them are SageMaker's documented ``QualityCheck`` semantics
(``docs.aws.amazon.com/sagemaker/latest/dg/pipelines-quality-clarify-baseline-lifecycle``):
every run calculates a baseline; with ``SkipCheck`` false it is compared with the latest
approved package's ``DriftCheckBaselines`` and a violation fails the step
(``FailOnViolation``); ``BaselineUsedForDriftCheck*`` is the new baseline with
``RegisterNewBaseline`` true, the approved one otherwise.
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

DRIFT_THRESHOLD = 0.1
_OUTPUT = re.compile(
    r"^Steps\.(\w+)\.ProcessingOutputConfig\.Outputs\['([\w-]+)'\]\.S3Output\.S3Uri$"
)
_TRAINED_MODEL = "Steps.Train.ModelArtifacts.S3ModelArtifacts"


class CheckFailedError(Exception):
    """A check step found violations and fails the run (``FailOnViolation``)."""

    def __init__(self, step: str, violations: list[str]) -> None:
        super().__init__(f"{step}: {', '.join(violations)}")
        self.step = step
        self.violations = violations


class DataQualityAnalyzer:
    """Stand-in for Model Monitor's data-quality analyzer (see the module's docstring)."""

    check_type = "DATA_QUALITY"

    def baseline(self, data_dir: Path, out: Path) -> None:
        frame = pd.concat([pd.read_csv(p) for p in sorted(data_dir.glob("*.csv"))])
        out.mkdir(parents=True, exist_ok=True)
        statistics = {c: frame[c].astype(float).tolist() for c in frame.columns}
        (out / "statistics.json").write_text(json.dumps({"features": statistics}))
        constraints = {"features": list(frame.columns), "comparison_threshold": DRIFT_THRESHOLD}
        (out / "constraints.json").write_text(json.dumps(constraints))

    def violations(self, current: Path, baseline: Path) -> list[str]:
        now = json.loads((current / "statistics.json").read_text())["features"]
        then = json.loads((baseline / "statistics.json").read_text())["features"]
        threshold = json.loads((baseline / "constraints.json").read_text())["comparison_threshold"]
        found = [f"missing_column_check: {c}" for c in then if c not in now]
        for column in [c for c in then if c in now]:
            distance = ks_2samp(now[column], then[column]).statistic
            if distance > threshold:
                found.append(f"baseline_drift_check: {column} (distance {distance:.2f})")
        return found


class ModelQualityAnalyzer:
    """Stand-in for Model Monitor's model-quality analyzer: the AUC of the predictions."""

    check_type = "MODEL_QUALITY"

    def baseline(self, data_dir: Path, out: Path) -> None:
        frame = pd.concat([pd.read_csv(p) for p in sorted(data_dir.glob("*.csv"))])
        auc = float(roc_auc_score(frame["label"], frame["probability"]))
        out.mkdir(parents=True, exist_ok=True)
        metrics = {"binary_classification_metrics": {"auc": {"value": auc}}}
        (out / "statistics.json").write_text(json.dumps(metrics))
        constraints = {"auc": {"threshold": auc, "comparison_operator": "LessThanThreshold"}}
        (out / "constraints.json").write_text(
            json.dumps({"binary_classification_constraints": constraints})
        )

    def violations(self, current: Path, baseline: Path) -> list[str]:
        now = json.loads((current / "statistics.json").read_text())
        auc = now["binary_classification_metrics"]["auc"]["value"]
        limit = json.loads((baseline / "constraints.json").read_text())
        threshold = limit["binary_classification_constraints"]["auc"]["threshold"]
        return [f"auc {auc:.3f} below {threshold:.3f}"] if auc < threshold else []


ANALYZERS = {"DATA_QUALITY": DataQualityAnalyzer(), "MODEL_QUALITY": ModelQualityAnalyzer()}
_BASELINE_SECTIONS = {"DATA_QUALITY": "ModelDataQuality", "MODEL_QUALITY": "ModelQuality"}


@dataclass
class LocalRun:
    """One execution of a definition, its files under ``root``.

    Parameters
    ----------
    definition:
        The pipeline definition (parsed JSON).
    parameters:
        ``StartPipelineExecution`` parameters (strings, as the API takes them); others
        keep their defaults. ``InputDataUri`` is a local directory here.
    approved:
        ``DescribeModelPackage`` of the group's latest approved package, or ``None``.
    steps_dir:
        Where the step scripts are.
    load_step:
        Imports a step script by name.
    """

    definition: dict[str, Any]
    parameters: Mapping[str, str]
    approved: dict[str, Any] | None
    root: Path
    load_step: Callable[[str], Any]
    properties: dict[str, Any] = field(default_factory=dict)

    def parameter(self, name: str) -> Any:
        (declared,) = [p for p in self.definition["Parameters"] if p["Name"] == name]
        if name not in self.parameters:
            return declared["DefaultValue"]
        value = self.parameters[name]
        return value == "true" if declared["Type"] == "Boolean" else value

    def resolve(self, value: Any) -> Any:
        """Pipeline expressions replaced by this run's values (local paths for S3 URIs)."""
        if isinstance(value, dict) and set(value) == {"Get"}:
            return self._get(value["Get"])
        if isinstance(value, dict) and set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return join["On"].join(str(self.resolve(v)) for v in join["Values"])
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _get(self, path: str) -> Any:
        if path.startswith("Parameters."):
            return self.parameter(path.removeprefix("Parameters."))
        if path.startswith("Execution."):
            return f"<{path}>"
        return self.properties[path]

    def local(self, container_path: str) -> Path:
        return self.root / "opt" / container_path.removeprefix("/opt/")

    # --- the DAG --------------------------------------------------------------------------

    def steps(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}

        def visit(steps: list[dict[str, Any]]) -> None:
            for step in steps:
                found[step["Name"]] = step
                visit(step.get("Arguments", {}).get("IfSteps", []))

        visit(self.definition["Steps"])
        return found

    def run(self) -> dict[str, Any]:
        """Run every step in order; return the registered package's request, resolved.

        Raises
        ------
        CheckFailedError
            A check step failed the run.
        """
        steps = self.steps()
        self.processing(steps["Preprocess"], "preprocess")
        self.training(steps["Train"])
        self.processing(steps["Evaluate"], "evaluate")
        for name in ("DataQualityBaseline", "ModelQualityBaseline"):
            self.check(steps[name])
        return self.resolve(steps["RegisterModel"]["Arguments"])

    def processing(self, step: dict[str, Any], script: str) -> None:
        arguments = step["Arguments"]
        for entry in arguments["ProcessingInputs"]:
            if entry["InputName"] == "code":
                continue
            source = Path(str(self.resolve(entry["S3Input"]["S3Uri"])))
            target = self.local(entry["S3Input"]["LocalPath"])
            shutil.copytree(source, target) if source.is_dir() else _copy_file(source, target)
        command = [
            str(self.local(a)) if a.startswith("/opt/ml") else a
            for a in arguments["AppSpecification"]["ContainerArguments"]
        ]
        self.load_step(script).main(command)
        for output in arguments["ProcessingOutputConfig"]["Outputs"]:
            key = f"Steps.{step['Name']}.ProcessingOutputConfig.Outputs['{output['OutputName']}'].S3Output.S3Uri"
            self.properties[key] = self.local(output["S3Output"]["LocalPath"])

    def training(self, step: dict[str, Any]) -> None:
        """``train.py`` with the definition's channels and hyperparameters."""
        arguments = step["Arguments"]
        channels = {}
        for channel in arguments["InputDataConfig"]:
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            channels[channel["ChannelName"]] = self.resolve(uri)
        hyperparameters = {
            k: v
            for k, v in arguments["HyperParameters"].items()
            if k not in ("objective", "eval_metric")
        }
        model_dir = self.root / "opt" / "ml" / "model"
        command = [
            "--train", str(channels["train"]),
            "--validation", str(channels["validation"]),
            "--model-dir", str(model_dir),
            "--checkpoint-dir", str(self.root / "opt" / "ml" / "checkpoints"),
        ]  # fmt: skip
        for name, value in hyperparameters.items():
            command += [f"--{name}", str(value)]
        with xgboost.config_context(nthread=1):
            self.load_step("train").main(command)
        artifacts = self.root / "training-output"
        artifacts.mkdir(parents=True)
        with tarfile.open(artifacts / "model.tar.gz", "w:gz") as tar:
            for path in model_dir.iterdir():
                tar.add(path, arcname=path.name)
        self.properties[_TRAINED_MODEL] = artifacts

    def check(self, step: dict[str, Any]) -> None:
        """A QualityCheck step, with SageMaker's documented decisions."""
        name, analyzer = step["Name"], ANALYZERS[step["CheckType"]]
        data = Path(str(self.resolve(step["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"])))
        calculated = self.root / "checks" / name
        analyzer.baseline(data, calculated)
        skip = self.resolve(step["SkipCheck"])
        register = self.resolve(step["RegisterNewBaseline"])
        approved = self._approved_baseline(step["CheckType"])
        if (not skip or not register) and approved is None:
            raise CheckFailedError(name, ["no approved model package to take the baseline from"])
        if not skip:
            violations = analyzer.violations(calculated, approved)
            if violations and step["FailOnViolation"]:
                raise CheckFailedError(name, violations)
        used = calculated if register else approved
        for kind in ("Statistics", "Constraints"):
            self.properties[f"Steps.{name}.CalculatedBaseline{kind}"] = (
                calculated / f"{kind.lower()}.json"
            )
            self.properties[f"Steps.{name}.BaselineUsedForDriftCheck{kind}"] = (
                used / f"{kind.lower()}.json"
            )

    def _approved_baseline(self, check_type: str) -> Path | None:
        if self.approved is None:
            return None
        section = self.approved["DriftCheckBaselines"][_BASELINE_SECTIONS[check_type]]
        return Path(section["Constraints"]["S3Uri"]).parent


def _copy_file(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target / source.name)


def feature_values(statistics_file: str | Path, feature: str) -> np.ndarray:
    """A feature's values in a :class:`DataQualityAnalyzer` statistics file."""
    return np.asarray(json.loads(Path(statistics_file).read_text())["features"][feature])

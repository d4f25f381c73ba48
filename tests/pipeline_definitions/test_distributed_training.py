"""Distributed XGBoost training: sharded training data on several instances.

The definition gives each training instance its own share of the ``train`` files
(``ShardedByS3Key``) and asks ``preprocess.py`` for as many files; the script really
writes them (run here on scikit-learn's breast-cancer data).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.datasets import load_breast_cancer

from pipeline_definitions.training_pipeline import StepCodeUris, build_training_pipeline
from platform_config.pipeline_spec import TrainingPipelineSpec

REGION = "eu-west-1"
STEPS_DIR = Path(__file__).resolve().parents[2] / "pipeline_definitions" / "steps"


def _arguments(spec: TrainingPipelineSpec) -> dict[str, Any]:
    return {
        "spec": spec,
        "pipeline_name": "ml-platform-dev-fraud-detection",
        "region": REGION,
        "role_arn": "arn:aws:iam::111122223333:role/ml-platform-dev-pipeline",
        "default_bucket": "ml-platform-dev-artifacts",
        "code_uris": StepCodeUris(
            preprocess="s3://ml-platform-dev-code/steps/preprocess.py",
            evaluate="s3://ml-platform-dev-code/steps/evaluate.py",
        ),
        "model_package_group_name": "ml-platform-dev-fraud-detection",
        "kms_key_arn": f"arn:aws:kms:{REGION}:111122223333:key/1234abcd",
    }


@pytest.fixture(scope="module")
def steps() -> dict[str, dict[str, Any]]:
    spec = TrainingPipelineSpec(
        training_instance_type="ml.m5.2xlarge",
        training_instance_count=3,
        distribution="sharded_by_s3_key",
    )
    definition = json.loads(build_training_pipeline(**_arguments(spec)))
    return {step["Name"]: step for step in definition["Steps"]}


def test_each_instance_reads_its_share_of_the_training_files(
    steps: dict[str, dict[str, Any]],
) -> None:
    arguments = steps["Train"]["Arguments"]
    assert arguments["ResourceConfig"]["InstanceCount"] == 3
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in arguments["InputDataConfig"]
    }
    assert channels["train"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert channels["validation"]["S3DataDistributionType"] == "FullyReplicated"


def test_preprocess_writes_one_training_file_per_instance(
    steps: dict[str, dict[str, Any]],
) -> None:
    arguments = steps["Preprocess"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--train-shards") + 1] == "3"


def test_unsharded_training_keeps_one_file_and_full_copies() -> None:
    text = build_training_pipeline(**_arguments(TrainingPipelineSpec()))
    steps = {step["Name"]: step for step in json.loads(text)["Steps"]}
    arguments = steps["Preprocess"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--train-shards") + 1] == "1"
    assert "ShardedByS3Key" not in text


def test_sharding_needs_two_instances() -> None:
    with pytest.raises(ValidationError, match=r"needs training_instance_count of 2 or more"):
        TrainingPipelineSpec(distribution="sharded_by_s3_key")


def test_preprocess_script_writes_the_shards(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("step_preprocess", STEPS_DIR / "preprocess.py")
    assert spec is not None and spec.loader is not None
    preprocess = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up while they are defined.
    sys.modules[spec.name] = preprocess
    spec.loader.exec_module(preprocess)
    raw = tmp_path / "input"
    raw.mkdir()
    data = load_breast_cancer(as_frame=True).frame
    data.to_csv(raw / "data.csv", index=False)
    output = tmp_path / "output"
    preprocess.main(["--input-dir", str(raw), "--output-dir", str(output), "--train-shards", "3"])
    shards = sorted((output / "train").glob("*.csv"))
    assert [path.name for path in shards] == [f"train-{i:05d}.csv" for i in range(3)]
    sizes = [len(pd.read_csv(path, header=None)) for path in shards]
    assert max(sizes) - min(sizes) <= 1
    validation = pd.read_csv(output / "validation" / "validation.csv", header=None)
    test = pd.read_csv(output / "test" / "test.csv", header=None)
    assert sum(sizes) + len(validation) + len(test) == len(data)
    assert (output / "baseline" / "baseline.csv").is_file()

"""End-to-end tests of the step scripts that run inside SageMaker containers.

The default tabular pipeline runs once per session on scikit-learn's bundled
breast-cancer data set (569 rows, 30 features), in a temporary directory laid out like
the containers' ``/opt/ml``: preprocess -> train -> ``model.tar.gz`` -> evaluate ->
the serving functions. The scripts are standalone files shipped to containers, not a
package, so they are loaded from their paths.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import shutil
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

STEPS_DIR = Path(__file__).resolve().parents[2] / "pipeline_definitions" / "steps"

TARGET = "target"
IMPUTED_FEATURE = "mean radius"
CONSTANT_FEATURE = "collection site"
NUM_ROUND = 60
METRIC_NAMES = {"auc", "accuracy", "precision", "recall", "f1"}


def load_step(name: str) -> ModuleType:
    """Import ``pipeline_definitions/steps/<name>.py`` under a private module name."""
    spec = importlib.util.spec_from_file_location(f"step_{name}", STEPS_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first, as an import would: dataclasses look their module up by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


preprocess = load_step("preprocess")
train = load_step("train")
evaluate = load_step("evaluate")
inference = load_step("inference")


@dataclass(frozen=True)
class Container:
    """``/opt/ml`` of the processing, training and serving containers, under a tmp dir."""

    root: Path

    @property
    def raw_input(self) -> Path:
        return self.root / "processing" / "input"

    @property
    def processing(self) -> Path:
        return self.root / "processing"

    def split(self, name: str) -> Path:
        return self.processing / name / f"{name}.csv"

    @property
    def channels(self) -> Path:
        return self.root / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def evaluation(self) -> Path:
        return self.processing / "evaluation" / "evaluation.json"

    @property
    def predictions(self) -> Path:
        return self.processing / "predictions" / "predictions.csv"


def raw_breast_cancer() -> pd.DataFrame:
    """The bundled data set, with a constant column and 5% of one feature missing."""
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    frame[CONSTANT_FEATURE] = 7.0
    missing = np.random.default_rng(3).random(len(frame)) < 0.05
    frame.loc[missing, IMPUTED_FEATURE] = np.nan
    return frame


def run_preprocess(input_dir: Path, output_dir: Path, *extra: str) -> None:
    preprocess.main(["--input-dir", str(input_dir), "--output-dir", str(output_dir), *extra])


def read_split(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, header=None)


def train_args(container: Container, *extra: str) -> list[str]:
    return [
        "--train",
        str(container.channels / "train"),
        "--validation",
        str(container.channels / "validation"),
        "--model-dir",
        str(container.model_dir),
        "--checkpoint-dir",
        str(container.checkpoints),
        *extra,
    ]


def load_model(model_dir: Path) -> xgboost.Booster:
    return inference.model_fn(str(model_dir))


@pytest.fixture(scope="session", autouse=True)
def single_threaded_xgboost() -> Iterator[None]:
    """One XGBoost thread: on a busy shared machine OpenMP threads spin and a one-second
    run takes fifteen. The data set is far too small to gain from more threads."""
    with xgboost.config_context(nthread=1):
        yield


@pytest.fixture(scope="session")
def raw() -> pd.DataFrame:
    return raw_breast_cancer()


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory, raw: pd.DataFrame) -> Container:
    """Run preprocess, train (through SageMaker's env vars), package and evaluate once."""
    container = Container(tmp_path_factory.mktemp("opt_ml"))
    container.raw_input.mkdir(parents=True)
    raw.to_csv(container.raw_input / "breast_cancer.csv", index=False)

    run_preprocess(container.raw_input, container.processing)

    # SageMaker copies each channel's S3 prefix into /opt/ml/input/data/<channel>.
    for channel in ("train", "validation"):
        (container.channels / channel).mkdir(parents=True)
        shutil.copy(container.split(channel), container.channels / channel)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SM_CHANNEL_TRAIN", str(container.channels / "train"))
        env.setenv("SM_CHANNEL_VALIDATION", str(container.channels / "validation"))
        env.setenv("SM_MODEL_DIR", str(container.model_dir))
        train.main(
            [
                "--checkpoint-dir",
                str(container.checkpoints),
                "--num_round",
                str(NUM_ROUND),
                "--max_depth",
                "3",
            ]
        )

    # SageMaker packs the model directory's contents into model.tar.gz.
    delivered = container.processing / "model"
    delivered.mkdir()
    with tarfile.open(delivered / "model.tar.gz", "w:gz") as tar:
        for path in container.model_dir.iterdir():
            tar.add(path, arcname=path.name)

    evaluate.main(
        [
            "--model-dir",
            str(delivered),
            "--test-dir",
            str(container.split("test").parent),
            "--evaluation-dir",
            str(container.evaluation.parent),
            "--predictions-dir",
            str(container.predictions.parent),
            "--bootstrap-samples",
            "50",
        ]
    )
    return container


@pytest.fixture(scope="session")
def report(pipeline: Container) -> dict:
    return json.loads(pipeline.evaluation.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def splits(pipeline: Container) -> dict[str, pd.DataFrame]:
    return {name: read_split(pipeline.split(name)) for name in ("train", "validation", "test")}


@pytest.fixture(scope="session")
def model(pipeline: Container) -> xgboost.Booster:
    return load_model(pipeline.model_dir)


# --- preprocess ---------------------------------------------------------------------


def test_preprocess_splits_add_up_to_every_input_row(splits, raw):
    sizes = {name: len(frame) for name, frame in splits.items()}
    assert sum(sizes.values()) == len(raw)
    assert sizes["test"] == pytest.approx(0.15 * len(raw), abs=1)
    assert sizes["validation"] == pytest.approx(0.15 * len(raw), abs=1)


def assert_label_balance(labels: pd.Series, overall_rate: float, context: str) -> None:
    # Stratification leaves at most one row of rounding per class; a random split of
    # 86 rows misses by about four (the hypergeometric standard deviation).
    assert abs(labels.sum() - overall_rate * len(labels)) <= 1.0, context


def test_preprocess_splits_keep_the_label_balance_of_the_input(splits, raw):
    for name, frame in splits.items():
        assert_label_balance(frame[0], raw[TARGET].mean(), name)


@pytest.mark.parametrize("seed", range(10))
def test_preprocess_split_is_stratified_for_any_seed(raw, seed):
    for name, frame in zip(
        ("train", "validation", "test"),
        preprocess.stratified_split(raw, TARGET, 0.15, 0.15, seed),
        strict=True,
    ):
        assert_label_balance(frame[TARGET], raw[TARGET].mean(), f"{name}, seed {seed}")


def test_preprocess_writes_label_first_and_no_header(splits, raw):
    feature_count = raw.shape[1] - 2  # minus the target and the constant column
    for name, frame in splits.items():
        assert frame.shape[1] == 1 + feature_count, name
        assert set(frame[0].unique()) == {0, 1}, name
        assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns), name


def test_preprocess_baseline_has_feature_header_and_no_label(pipeline, splits, raw):
    baseline = pd.read_csv(pipeline.processing / "baseline" / "baseline.csv")
    expected = [c for c in raw.columns if c not in (TARGET, CONSTANT_FEATURE)]
    assert list(baseline.columns) == expected
    np.testing.assert_allclose(baseline.to_numpy(), splits["train"].iloc[:, 1:].to_numpy())


def test_preprocess_drops_column_constant_in_train(pipeline):
    header = (pipeline.processing / "baseline" / "baseline.csv").read_text().splitlines()[0]
    assert CONSTANT_FEATURE not in header
    assert IMPUTED_FEATURE in header


def test_preprocess_fills_missing_values_with_the_train_median(splits, raw):
    # Map each output row back to its raw row through the features that were not altered.
    key_columns = [c for c in raw.columns if c not in (TARGET, CONSTANT_FEATURE, IMPUTED_FEATURE)]
    imputed_position = 1 + [c for c in raw.columns if c not in (TARGET, CONSTANT_FEATURE)].index(
        IMPUTED_FEATURE
    )
    raw_index = {tuple(row): i for i, row in enumerate(raw[key_columns].to_numpy())}
    assert len(raw_index) == len(raw), "key columns must identify rows"

    def origin(frame: pd.DataFrame) -> list[int]:
        keys = frame.drop(columns=[0, imputed_position]).to_numpy()
        return [raw_index[tuple(row)] for row in keys]

    train_rows = origin(splits["train"])
    train_median = raw[IMPUTED_FEATURE].iloc[train_rows].median()
    all_median = raw[IMPUTED_FEATURE].median()
    assert train_median != all_median  # otherwise the test could not tell them apart
    was_missing = raw[IMPUTED_FEATURE].isna().to_numpy()
    checked = 0
    for name, frame in splits.items():
        assert not frame.isna().any().any(), name
        for row, raw_row in zip(frame[imputed_position], origin(frame), strict=True):
            if was_missing[raw_row]:
                assert row == pytest.approx(train_median), name
                checked += 1
    assert checked == was_missing.sum()


def test_preprocess_same_seed_gives_identical_splits(pipeline, tmp_path):
    run_preprocess(pipeline.raw_input, tmp_path)
    for name in ("train", "validation", "test", "baseline"):
        assert (tmp_path / name / f"{name}.csv").read_bytes() == pipeline.split(name).read_bytes()


def test_preprocess_other_seed_gives_other_test_rows(pipeline, tmp_path):
    run_preprocess(pipeline.raw_input, tmp_path, "--seed", "7")
    assert (tmp_path / "test" / "test.csv").read_bytes() != pipeline.split("test").read_bytes()


def test_preprocess_rejects_input_without_the_target_column(pipeline, tmp_path):
    with pytest.raises(ValueError, match=r"target column 'label' not found in input columns"):
        run_preprocess(pipeline.raw_input, tmp_path, "--target-column", "label")
    assert not (tmp_path / "train").exists()


def test_preprocess_rejects_a_non_binary_target(tmp_path, raw):
    (tmp_path / "input").mkdir()
    raw.assign(target=raw[TARGET] + 1).to_csv(tmp_path / "input" / "data.csv", index=False)
    with pytest.raises(ValueError, match=r"must hold the two labels 0 and 1, found \[1, 2\]"):
        run_preprocess(tmp_path / "input", tmp_path / "out")


def test_preprocess_rejects_fractions_leaving_no_training_rows(pipeline, tmp_path):
    with pytest.raises(ValueError, match="must be below 1"):
        run_preprocess(
            pipeline.raw_input, tmp_path, "--validation-fraction", "0.5", "--test-fraction", "0.5"
        )


# --- preprocess: categorical features and batches -----------------------------------

CONTRACTS = ("month-to-month", "one-year", "two-year")


def with_contract_type(raw: pd.DataFrame) -> pd.DataFrame:
    """The bundled data with the sample feature group's string feature ``contract_type``
    (a few cells missing), mostly following the label so that it carries signal of its
    own (as a customer's contract says much about churn)."""
    frame = raw.copy()
    rng = np.random.default_rng(5)
    follows = rng.random(len(frame)) < 0.8
    chosen = np.where(follows, frame[TARGET].to_numpy() * 2, rng.integers(0, 3, len(frame)))
    frame["contract_type"] = [CONTRACTS[int(c)] for c in chosen]
    frame.loc[frame.index % 37 == 0, "contract_type"] = np.nan
    return frame


@pytest.fixture(scope="module")
def categorical(tmp_path_factory: pytest.TempPathFactory, raw: pd.DataFrame) -> Path:
    """preprocess.py over two batches of a training prefix, each in its own sub-prefix."""
    root = tmp_path_factory.mktemp("categorical")
    frame = with_contract_type(raw)
    for index, part in enumerate((frame.iloc[:300], frame.iloc[300:])):
        batch = root / "training" / f"batch-{index:04d}"
        batch.mkdir(parents=True)
        part.to_csv(batch / "part-0.csv", index=False)
    (root / "training" / "batch-0001" / "_SUCCESS").write_text("")
    run_preprocess(root / "training", root / "out")
    return root / "out"


def test_preprocess_reads_every_batch_under_the_input_prefix(categorical, raw):
    rows = sum(
        len(read_split(categorical / n / f"{n}.csv")) for n in ("train", "validation", "test")
    )
    assert rows == len(raw)


def test_preprocess_encodes_a_categorical_column_as_ordinal_codes_of_the_training_split(
    categorical, raw
):
    schema = json.loads((categorical / "schema" / "schema.json").read_text())
    assert schema["categories"] == {"contract_type": sorted(CONTRACTS)}
    position = 1 + schema["features"].index("contract_type")
    for name in ("train", "validation", "test"):
        codes = set(read_split(categorical / name / f"{name}.csv")[position])
        assert codes <= {preprocess.UNKNOWN_CATEGORY, 0, 1, 2}, name
    train_codes = read_split(categorical / "train" / "train.csv")[position]
    assert (train_codes == preprocess.UNKNOWN_CATEGORY).sum() > 0  # the missing cells


def test_preprocess_unseen_and_missing_categories_get_the_unknown_code():
    frame = pd.DataFrame(
        {"target": [0, 1, 0, 1], "x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", None]}
    )
    encoding = preprocess.FeatureEncoding.fit(frame, "target", max_categories=10)
    later = pd.DataFrame({"target": [1, 0], "x": [np.nan, 5.0], "c": ["z", None]})
    encoded = encoding.transform(later)
    assert encoded["c"].tolist() == [preprocess.UNKNOWN_CATEGORY] * 2
    assert encoded["x"].tolist() == [2.5, 5.0]  # median of the training split


def test_preprocess_trains_a_model_that_uses_the_categorical_feature(categorical):
    schema = json.loads((categorical / "schema" / "schema.json").read_text())
    train_split = read_split(categorical / "train" / "train.csv")
    matrix = xgboost.DMatrix(train_split.iloc[:, 1:], label=train_split[0])
    with xgboost.config_context(nthread=1):
        booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3}, matrix, 20)
    used = booster.get_score(importance_type="weight")
    column = 1 + schema["features"].index("contract_type")  # the label is column 0
    assert str(column) in used, used


def test_preprocess_refuses_an_identifier_as_a_categorical_feature(tmp_path, raw):
    (tmp_path / "input").mkdir()
    raw.assign(customer_id=[f"c-{i}" for i in range(len(raw))]).to_csv(
        tmp_path / "input" / "data.csv", index=False
    )
    with pytest.raises(ValueError, match=r"categorical column 'customer_id' has \d+ distinct"):
        run_preprocess(tmp_path / "input", tmp_path / "out", "--max-categories", "100")


# --- train --------------------------------------------------------------------------


def test_training_writes_xgboost_model_with_every_round(pipeline, model):
    assert (pipeline.model_dir / "xgboost-model").is_file()
    assert model.num_boosted_rounds() == NUM_ROUND
    assert model.attr(train.FINGERPRINT_ATTRIBUTE) is None


def test_training_uses_the_binary_logistic_objective_with_auc(model):
    config = json.loads(model.save_config())
    assert config["learner"]["objective"]["name"] == "binary:logistic"
    # The evaluation metric is a training setting; the saved model does not keep it.
    assert train.booster_params(train.parse_args([]))["eval_metric"] == "auc"


@pytest.fixture
def reference_run(pipeline: Container, tmp_path: Path) -> Container:
    """An uninterrupted 20-round training with a checkpoint every 5 rounds."""
    run = Container(tmp_path / "reference")
    shutil.copytree(pipeline.channels, run.channels)
    train.main(
        train_args(
            run, "--num_round", "20", "--checkpoint_frequency", "5", "--checkpoints_to_keep", "10"
        )
    )
    return run


def checkpoint_rounds(directory: Path) -> list[int]:
    return [rounds for rounds, _ in train.list_checkpoints(directory)]


def predict(model_dir: Path, features: np.ndarray) -> np.ndarray:
    booster = load_model(model_dir)
    return inference.predict_fn(xgboost.DMatrix(features), booster)


def test_training_resumes_from_the_latest_checkpoint_after_an_interruption(
    reference_run, splits, tmp_path, caplog
):
    assert checkpoint_rounds(reference_run.checkpoints) == [5, 10, 15, 20]
    # A spot interruption between rounds 10 and 15: SageMaker restores the checkpoints
    # synced so far into the restarted job's checkpoint directory.
    restarted = Container(tmp_path / "restarted")
    shutil.copytree(reference_run.channels, restarted.channels)
    restarted.checkpoints.mkdir(parents=True)
    for rounds in (5, 10):
        name = train.checkpoint_name(rounds)
        shutil.copy2(reference_run.checkpoints / name, restarted.checkpoints / name)
    restored = {p.name: p.stat().st_ino for p in restarted.checkpoints.iterdir()}

    caplog.set_level(logging.INFO, logger="train")
    train.main(
        train_args(
            restarted,
            "--num_round",
            "20",
            "--checkpoint_frequency",
            "5",
            "--checkpoints_to_keep",
            "10",
        )
    )

    assert "Resuming from checkpoint after 10 of 20 rounds" in caplog.text
    assert checkpoint_rounds(restarted.checkpoints) == [5, 10, 15, 20]
    # Rounds 1-10 were not redone: their checkpoint files were not rewritten.
    assert {n: (restarted.checkpoints / n).stat().st_ino for n in restored} == restored
    assert load_model(restarted.model_dir).num_boosted_rounds() == 20
    features = splits["test"].iloc[:, 1:].to_numpy(dtype=np.float32)
    np.testing.assert_allclose(
        predict(restarted.model_dir, features),
        predict(reference_run.model_dir, features),
        rtol=1e-5,
    )


def test_training_ignores_a_checkpoint_of_other_hyperparameters(reference_run, caplog):
    caplog.set_level(logging.INFO, logger="train")
    train.main(
        train_args(
            reference_run, "--num_round", "20", "--max_depth", "2", "--checkpoint_frequency", "5"
        )
    )
    assert "trained on other data or parameters" in caplog.text
    assert "Resuming" not in caplog.text
    trees = json.loads(load_model(reference_run.model_dir).save_raw(raw_format="json"))
    depths = [
        int(t["tree_param"]["num_nodes"])
        for t in trees["learner"]["gradient_booster"]["model"]["trees"]
    ]
    assert max(depths) <= 7  # a depth-2 tree has at most 7 nodes: all trees are new


def test_training_keeps_only_the_newest_checkpoints(pipeline, tmp_path):
    run = Container(tmp_path)
    shutil.copytree(pipeline.channels, run.channels)
    train.main(
        train_args(
            run, "--num_round", "12", "--checkpoint_frequency", "2", "--checkpoints_to_keep", "3"
        )
    )
    assert checkpoint_rounds(run.checkpoints) == [8, 10, 12]
    assert not list(run.checkpoints.glob("*.sagemaker-ignore"))


def test_training_never_deletes_checkpoints_of_another_job(pipeline, tmp_path):
    run = Container(tmp_path)
    shutil.copytree(pipeline.channels, run.channels)
    # Another job (other hyperparameters) left a checkpoint in a shared directory.
    train.main(
        train_args(run, "--num_round", "30", "--max_depth", "2", "--checkpoint_frequency", "30")
    )
    foreign = (run.checkpoints / train.checkpoint_name(30)).read_bytes()
    train.main(
        train_args(
            run, "--num_round", "12", "--checkpoint_frequency", "2", "--checkpoints_to_keep", "2"
        )
    )
    assert checkpoint_rounds(run.checkpoints) == [10, 12, 30]
    assert (run.checkpoints / train.checkpoint_name(30)).read_bytes() == foreign
    assert load_model(run.model_dir).num_boosted_rounds() == 12


# --- evaluate -----------------------------------------------------------------------


def test_evaluation_report_has_exactly_the_shape_the_quality_gate_reads(report):
    assert set(report) == {"binary_classification_metrics"}
    metrics = report["binary_classification_metrics"]
    assert set(metrics) == METRIC_NAMES
    for name, entry in metrics.items():
        assert set(entry) == {"value", "standard_deviation"}, name
        assert isinstance(entry["value"], float) and 0.0 <= entry["value"] <= 1.0, name
        assert isinstance(entry["standard_deviation"], float), name
        assert 0.0 < entry["standard_deviation"] < 0.2, name


def test_held_out_auc_is_at_least_0_95(report):
    assert report["binary_classification_metrics"]["auc"]["value"] >= 0.95


def test_predictions_file_is_a_model_quality_baseline_of_the_test_split(pipeline, splits, report):
    predictions = pd.read_csv(pipeline.predictions)
    assert list(predictions.columns) == ["label", "probability", "prediction"]
    assert predictions["label"].tolist() == splits["test"][0].tolist()
    assert predictions["probability"].between(0.0, 1.0).all()
    assert (predictions["prediction"] == (predictions["probability"] >= 0.5)).all()
    auc = roc_auc_score(predictions["label"], predictions["probability"])
    assert auc == pytest.approx(report["binary_classification_metrics"]["auc"]["value"])


def test_evaluation_refuses_an_archive_escaping_its_directory(tmp_path):
    payload = tmp_path / "xgboost-model"
    payload.write_text("{}")
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:
        tar.add(payload, arcname="../xgboost-model")
    with pytest.raises(ValueError, match=re.escape("unsafe member '../xgboost-model'")):
        evaluate.extract_model(tmp_path / "model.tar.gz", tmp_path / "out")


# --- inference ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def held_out_features(splits) -> np.ndarray:
    return splits["test"].iloc[:, 1:].to_numpy()


def csv_body(rows: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows)


def serve(model, body, content_type: str, accept: str) -> tuple[str, str]:
    data = inference.input_fn(body, content_type)
    return inference.output_fn(inference.predict_fn(data, model), accept)


def test_inference_returns_a_probability_per_csv_row(model, pipeline, held_out_features):
    body = csv_body(held_out_features).encode("utf-8")
    response, content_type = serve(model, body, "text/csv", "text/csv")
    assert content_type == "text/csv"
    scores = np.array([float(line) for line in response.splitlines()])
    assert len(scores) == len(held_out_features)
    assert ((scores >= 0.0) & (scores <= 1.0)).all()
    assert len(np.unique(scores)) > 10  # not a constant answer
    # The endpoint scores exactly as the evaluation step did.
    expected = pd.read_csv(pipeline.predictions)["probability"].to_numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_inference_reads_json_instances_and_missing_values(model, held_out_features):
    rows = held_out_features[:3].tolist()
    rows[0][0] = None
    body = json.dumps({"instances": rows})
    response, content_type = serve(
        model, body, "application/json; charset=utf-8", "application/json"
    )
    assert content_type == "application/json"
    scores = [p["score"] for p in json.loads(response)["predictions"]]
    assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)


def test_inference_answers_csv_when_any_type_is_accepted(model, held_out_features):
    body = csv_body(held_out_features[:1])
    _, content_type = serve(model, body, "text/csv", "*/*")
    assert content_type == "text/csv"


def test_inference_rejects_an_unsupported_content_type():
    with pytest.raises(ValueError, match=r"unsupported request content type 'application/x-npy'"):
        inference.input_fn(b"\x93NUMPY", "application/x-npy")


def test_inference_rejects_an_unsupported_accept_type():
    with pytest.raises(ValueError, match=r"unsupported accept type 'application/x-recordio'"):
        inference.output_fn(np.array([0.5]), "application/x-recordio")


def test_inference_rejects_rows_with_the_wrong_number_of_features(model, held_out_features):
    body = csv_body(held_out_features[:1, :-1])
    with pytest.raises(ValueError, match=rf"must have {held_out_features.shape[1]} features, got"):
        serve(model, body, "text/csv", "text/csv")


def test_inference_rejects_a_csv_field_that_is_not_a_number():
    with pytest.raises(ValueError, match=r"line 2: 'abc' is not a number"):
        inference.input_fn("1,2\n3,abc\n", "text/csv")

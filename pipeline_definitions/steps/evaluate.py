"""Score the trained model on the held-out test split and write the quality report.

Runs as a processing job in the SageMaker XGBoost framework container (the image
that trained the model, so the booster loads with the same XGBoost version; it also
ships scikit-learn and pandas). Only APIs present in scikit-learn 0.24 and pandas 1.2,
the versions in that image, are used.

Inputs
------
``--model-dir`` (default ``/opt/ml/processing/model``) ``/model.tar.gz``
    The training job's artefact as SageMaker delivers it, holding ``xgboost-model``.
``--test-dir`` (default ``/opt/ml/processing/test``)
    Headerless ``*.csv`` files, label in the first column (from ``preprocess.py``).

Outputs
-------
``--evaluation-dir`` (default ``/opt/ml/processing/evaluation``) ``/evaluation.json``
    The model-metrics document SageMaker's Model Registry shows, and the property file
    of the pipeline's quality gate, which reads ``binary_classification_metrics.auc.value``::

        {"binary_classification_metrics": {
            "auc": {"value": 0.99, "standard_deviation": 0.004},
            "accuracy": {...}, "precision": {...}, "recall": {...}, "f1": {...}}}

    ``standard_deviation`` is estimated by a stratified bootstrap of the test rows.
``--predictions-dir`` (default ``/opt/ml/processing/predictions``) ``/predictions.csv``
    CSV with the header ``label,probability,prediction``, one row per test row: the
    model-quality baseline for Model Monitor (``problem_type="BinaryClassification"``,
    ``ground_truth_attribute="label"``, ``probability_attribute="probability"``,
    ``inference_attribute="prediction"``, ``DatasetFormat.csv(header=True)``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

LOGGER = logging.getLogger("evaluate")

MODEL_ARCHIVE_NAME = "model.tar.gz"
MODEL_FILE_NAME = "xgboost-model"


def _auc(labels: np.ndarray, probabilities: np.ndarray, _: np.ndarray) -> float:
    return float(roc_auc_score(labels, probabilities))


def _accuracy(labels: np.ndarray, _: np.ndarray, predictions: np.ndarray) -> float:
    return float(accuracy_score(labels, predictions))


def _precision(labels: np.ndarray, _: np.ndarray, predictions: np.ndarray) -> float:
    return float(precision_score(labels, predictions, zero_division=0))


def _recall(labels: np.ndarray, _: np.ndarray, predictions: np.ndarray) -> float:
    return float(recall_score(labels, predictions, zero_division=0))


def _f1(labels: np.ndarray, _: np.ndarray, predictions: np.ndarray) -> float:
    return float(f1_score(labels, predictions, zero_division=0))


# Names as in SageMaker's binary-classification model-quality metrics.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "auc": _auc,
    "accuracy": _accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; every default is the container layout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=Path("/opt/ml/processing/model"),
        help="Directory holding model.tar.gz (default: %(default)s).",
    )
    parser.add_argument(
        "--test-dir",
        type=Path,
        default=Path("/opt/ml/processing/test"),
        help="Directory of the headerless test CSV (default: %(default)s).",
    )
    parser.add_argument(
        "--evaluation-dir",
        type=Path,
        default=Path("/opt/ml/processing/evaluation"),
        help="Where evaluation.json is written (default: %(default)s).",
    )
    parser.add_argument(
        "--predictions-dir",
        type=Path,
        default=Path("/opt/ml/processing/predictions"),
        help="Where predictions.csv is written (default: %(default)s).",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="Probability at or above which a row is predicted positive (default: %(default)s).",
    )
    parser.add_argument(
        "--bootstrap-samples",
        type=int,
        default=200,
        help="Bootstrap resamples for the standard deviations; 0 reports "
        "0.0 (default: %(default)s).",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="Seed of the bootstrap (default: %(default)s)."
    )
    args = parser.parse_args(argv)
    if not 0.0 < args.threshold < 1.0:
        parser.error(f"--threshold must be between 0 and 1, got {args.threshold}")
    if args.bootstrap_samples < 0:
        parser.error(f"--bootstrap-samples must be >= 0, got {args.bootstrap_samples}")
    return args


def extract_model(archive: Path, destination: Path) -> Path:
    """Extract ``archive`` into ``destination`` and return the path of the booster file.

    Members with absolute paths, ``..`` components or links are refused, since this
    image's Python predates ``tarfile``'s extraction filters.

    Raises
    ------
    ValueError
        If the archive is missing, holds an unsafe member or lacks ``xgboost-model``.
    """
    if not archive.is_file():
        raise ValueError(f"model archive {archive} not found")
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or member.issym() or member.islnk():
                raise ValueError(f"refusing unsafe member {member.name!r} in {archive}")
        tar.extractall(destination)
    model_path = destination / MODEL_FILE_NAME
    if not model_path.is_file():
        raise ValueError(f"{archive} holds no {MODEL_FILE_NAME!r} at its top level")
    return model_path


def load_booster(model_path: Path) -> xgb.Booster:
    """Load a booster; the format (JSON, UBJSON) is detected from the content."""
    booster = xgb.Booster()
    booster.load_model(bytearray(model_path.read_bytes()))
    return booster


def read_test_set(test_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels and features from every headerless ``*.csv`` in ``test_dir``.

    Raises
    ------
    ValueError
        If there is no CSV file or the labels are not all 0 or 1.
    """
    files = sorted(test_dir.glob("*.csv"))
    if not files:
        raise ValueError(f"no *.csv file found in test directory {test_dir}")
    frame = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    labels = frame.iloc[:, 0].to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"test labels must be 0 or 1, found {sorted(set(labels.tolist()))}")
    return labels.astype(int), frame.iloc[:, 1:].to_numpy(dtype=np.float32)


def score(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    """Every metric of :data:`METRICS` on one set of rows."""
    predictions = (probabilities >= threshold).astype(int)
    return {name: metric(labels, probabilities, predictions) for name, metric in METRICS.items()}


def bootstrap_standard_deviations(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float, samples: int, seed: int
) -> dict[str, float]:
    """Standard deviation of each metric over stratified bootstrap resamples.

    Resampling within each class keeps both classes in every resample, so AUC is
    always defined.
    """
    if samples == 0:
        return dict.fromkeys(METRICS, 0.0)
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(labels == value) for value in (0, 1)]
    draws: dict[str, list[float]] = {name: [] for name in METRICS}
    for _ in range(samples):
        rows = np.concatenate([rng.choice(idx, size=idx.size, replace=True) for idx in by_class])
        for name, value in score(labels[rows], probabilities[rows], threshold).items():
            draws[name].append(value)
    return {name: float(np.std(values, ddof=1)) for name, values in draws.items()}


def build_report(
    values: dict[str, float], deviations: dict[str, float]
) -> dict[str, dict[str, dict[str, float]]]:
    """The SageMaker model-metrics document for binary classification."""
    return {
        "binary_classification_metrics": {
            name: {"value": values[name], "standard_deviation": deviations[name]}
            for name in METRICS
        }
    }


def write_json(document: dict[str, Any], path: Path) -> None:
    """Write ``document`` as indented JSON, creating the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    LOGGER.info("Wrote %s", path)


def write_predictions(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float, path: Path
) -> None:
    """Write ``label,probability,prediction`` rows for the model-quality baseline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {
            "label": labels,
            "probability": probabilities,
            "prediction": (probabilities >= threshold).astype(int),
        }
    )
    frame.to_csv(path, index=False)
    LOGGER.info("Wrote %d predictions to %s", len(frame), path)


def main(argv: Sequence[str] | None = None) -> None:
    """Extract the model, score the test split, write the report and predictions."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        booster = load_booster(extract_model(args.model_dir / MODEL_ARCHIVE_NAME, Path(scratch)))
    labels, features = read_test_set(args.test_dir)
    if features.shape[1] != booster.num_features():
        raise ValueError(
            f"the test set has {features.shape[1]} features, the model expects "
            f"{booster.num_features()}"
        )
    probabilities = booster.predict(xgb.DMatrix(features))
    values = score(labels, probabilities, args.threshold)
    deviations = bootstrap_standard_deviations(
        labels, probabilities, args.threshold, args.bootstrap_samples, args.seed
    )
    LOGGER.info("Test metrics: %s", values)
    write_json(build_report(values, deviations), args.evaluation_dir / "evaluation.json")
    write_predictions(
        labels, probabilities, args.threshold, args.predictions_dir / "predictions.csv"
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    main()

"""Split and clean a tabular binary-classification data set for XGBoost.

Runs in the SageMaker scikit-learn processing container (framework version 1.2-1,
so only APIs available in scikit-learn 1.2 and pandas 1.x are used), as the first
step of the default tabular training pipeline.

Inputs
------
``--input-dir`` (default ``/opt/ml/processing/input``)
    One or more ``*.csv`` files with a header row. They are concatenated in file-name
    order. One column is the binary label (``--target-column``, default ``target``),
    holding 0 and 1; every other column is a numeric feature (empty cells are missing
    values).

Outputs, under ``--output-dir`` (default ``/opt/ml/processing``)
----------------------------------------------------------------
``train/train.csv``, ``validation/validation.csv``, ``test/test.csv``
    Headerless CSV, label in the first column, features after it: the layout the
    SageMaker XGBoost container (built-in and script mode) expects for ``text/csv``.
``baseline/baseline.csv``
    The processed training features **without the label**, with a header row: the
    data-quality baseline for Model Monitor, whose captured endpoint requests carry
    features only (``DatasetFormat.csv(header=True)``).

Feature engineering, all fitted on the training split only so nothing leaks from the
validation and test splits: columns that hold at most one distinct value in the
training split are dropped, and missing values are replaced by the training median.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

LOGGER = logging.getLogger("preprocess")

SPLIT_NAMES = ("train", "validation", "test")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; every default is the container layout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--input-dir",
        type=Path,
        default=Path("/opt/ml/processing/input"),
        help="Directory holding the raw CSV files (default: %(default)s).",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("/opt/ml/processing"),
        help="Base of the train/validation/test/baseline output directories "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--target-column",
        default="target",
        help="Name of the binary label column (default: %(default)s).",
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=0.15,
        help="Fraction of all rows held out for validation (default: %(default)s).",
    )
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=0.15,
        help="Fraction of all rows held out for the final test (default: %(default)s).",
    )
    parser.add_argument(
        "--train-shards",
        type=int,
        default=1,
        help="Write the training split as this many files of about equal size, so that "
        "distributed training can give each instance its own share (ShardedByS3Key) "
        "(default: %(default)s, one train.csv).",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="Random seed of the stratified split (default: %(default)s).",
    )
    args = parser.parse_args(argv)
    check_fractions(args.validation_fraction, args.test_fraction)
    if args.train_shards < 1:
        parser.error(f"--train-shards must be 1 or more, got {args.train_shards}")
    return args


def check_fractions(validation_fraction: float, test_fraction: float) -> None:
    """Reject split fractions that leave no training data.

    Raises
    ------
    ValueError
        If a fraction is outside (0, 1) or both together are 1 or more.
    """
    for name, value in (("validation", validation_fraction), ("test", test_fraction)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"--{name}-fraction must be between 0 and 1 (exclusive), got {value}")
    if validation_fraction + test_fraction >= 1.0:
        raise ValueError(
            "--validation-fraction plus --test-fraction must be below 1 to leave training "
            f"rows, got {validation_fraction} + {test_fraction}"
        )


def read_input(input_dir: Path) -> pd.DataFrame:
    """Read and concatenate every CSV file in ``input_dir`` (sorted by name).

    Raises
    ------
    ValueError
        If the directory holds no CSV file.
    """
    files = sorted(input_dir.glob("*.csv"))
    if not files:
        raise ValueError(f"no *.csv file found in input directory {input_dir}")
    LOGGER.info("Reading %s", ", ".join(str(f) for f in files))
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def validate_input(frame: pd.DataFrame, target_column: str) -> None:
    """Check that the label is present and binary and that features are numeric.

    Raises
    ------
    ValueError
        Naming the column and what is allowed, for the first problem found.
    """
    if target_column not in frame.columns:
        raise ValueError(
            f"target column {target_column!r} not found in input columns "
            f"{list(frame.columns)}; pass --target-column with the label's name"
        )
    labels = frame[target_column]
    if labels.isna().any():
        raise ValueError(
            f"target column {target_column!r} has {int(labels.isna().sum())} missing values"
        )
    values = set(pd.unique(labels).tolist())
    if not values <= {0, 1} or len(values) != 2:
        raise ValueError(
            f"target column {target_column!r} must hold the two labels 0 and 1, "
            f"found {sorted(values, key=str)}"
        )
    features = frame.drop(columns=[target_column])
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ValueError(f"feature columns must be numeric; not numeric: {non_numeric}")
    if features.shape[1] == 0:
        raise ValueError("the input has no feature column besides the target")


def stratified_split(
    frame: pd.DataFrame,
    target_column: str,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split rows into train, validation and test, each with the label balance of all rows.

    Deterministic for a given ``seed`` and input row order.
    """
    rest, test = train_test_split(
        frame,
        test_size=test_fraction,
        stratify=frame[target_column],
        random_state=seed,
    )
    # The validation fraction is of all rows; rescale it to what remains after test.
    train, validation = train_test_split(
        rest,
        test_size=validation_fraction / (1.0 - test_fraction),
        stratify=rest[target_column],
        random_state=seed,
    )
    return train, validation, test


def constant_columns(features: pd.DataFrame) -> list[str]:
    """Columns with at most one distinct non-missing value: they carry no signal."""
    return [c for c in features.columns if features[c].nunique(dropna=True) <= 1]


def fit_medians(features: pd.DataFrame) -> dict[str, float]:
    """Median of each column, the imputation value for its missing cells."""
    return {c: float(features[c].median()) for c in features.columns}


def transform(
    frame: pd.DataFrame,
    target_column: str,
    dropped: Sequence[str],
    medians: dict[str, float],
) -> pd.DataFrame:
    """Apply the fitted feature engineering; return label first, then features."""
    features = frame.drop(columns=[target_column, *dropped]).fillna(value=medians)
    labelled = pd.concat([frame[target_column].astype(int), features], axis=1)
    return labelled.reset_index(drop=True)


def write_split(frame: pd.DataFrame, directory: Path, name: str, header: bool) -> Path:
    """Write ``frame`` as ``<directory>/<name>.csv`` without the index."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.csv"
    frame.to_csv(path, header=header, index=False)
    LOGGER.info("Wrote %d rows x %d columns to %s", frame.shape[0], frame.shape[1], path)
    return path


def write_shards(frame: pd.DataFrame, directory: Path, name: str, shards: int) -> list[Path]:
    """Write ``frame`` as ``<name>-00000.csv``... ``shards`` files of consecutive rows.

    Raises ``ValueError`` when there are fewer rows than shards (an instance would get
    no data).
    """
    if len(frame) < shards:
        raise ValueError(f"{len(frame)} {name} rows cannot be split into {shards} shards")
    bounds = [round(index * len(frame) / shards) for index in range(shards + 1)]
    return [
        write_split(frame.iloc[start:end], directory, f"{name}-{index:05d}", header=False)
        for index, (start, end) in enumerate(zip(bounds, bounds[1:]))
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Read, validate, split, engineer features and write the four outputs."""
    args = parse_args(argv)
    frame = read_input(args.input_dir)
    validate_input(frame, args.target_column)
    splits = stratified_split(
        frame, args.target_column, args.validation_fraction, args.test_fraction, args.seed
    )
    train_features = splits[0].drop(columns=[args.target_column])
    dropped = constant_columns(train_features)
    if dropped:
        LOGGER.info("Dropping columns constant in the training split: %s", dropped)
    medians = fit_medians(train_features.drop(columns=dropped))
    for name, split in zip(SPLIT_NAMES, splits):
        processed = transform(split, args.target_column, dropped, medians)
        if name == "train" and args.train_shards > 1:
            write_shards(processed, args.output_dir / name, name, args.train_shards)
        else:
            write_split(processed, args.output_dir / name, name, header=False)
        if name == "train":
            baseline = processed.drop(columns=[args.target_column])
            write_split(baseline, args.output_dir / "baseline", "baseline", header=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    main()

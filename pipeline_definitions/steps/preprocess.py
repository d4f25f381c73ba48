"""Split and clean a tabular binary-classification data set for XGBoost.

Runs in the SageMaker scikit-learn processing container (framework version 1.2-1,
so only APIs available in scikit-learn 1.2 and pandas 1.x are used), as the first
step of the default tabular training pipeline.

Inputs
------
``--input-dir`` (default ``/opt/ml/processing/input``)
    One or more ``*.csv`` files with a header row, anywhere under the directory (the
    pipeline's ``InputDataUri`` is a prefix: each batch of new data is a sub-prefix). They
    are concatenated in path order. One column is the binary label (``--target-column``,
    default ``target``), holding 0 and 1; every other column is a feature: numeric, or
    categorical (any column that is not numeric, e.g. ``contract_type``). Empty cells are
    missing values.

Outputs, under ``--output-dir`` (default ``/opt/ml/processing``)
----------------------------------------------------------------
``train/train.csv``, ``validation/validation.csv``, ``test/test.csv``
    Headerless CSV, label in the first column, features after it: the layout the
    SageMaker XGBoost container (built-in and script mode) expects for ``text/csv``.
``baseline/baseline.csv``
    The processed training features **without the label**, with a header row: the
    data-quality baseline for Model Monitor, whose captured endpoint requests carry
    features only (``DatasetFormat.csv(header=True)``).
``schema/schema.json``
    What a client must do to a raw row before the model can score it: the feature columns
    in order, the codes of each categorical column, the dropped columns and the medians
    (``{"label", "features", "categories", "dropped", "medians"}``).
``clarify-bias/analysis_config.json``, ``clarify-explainability/analysis_config.json``
    With ``--clarify-facet`` / ``--shap-samples``: the SageMaker Clarify analysis
    configurations of the pipeline's model-bias and explainability checks, run on the test
    split. They are written here, not when the pipeline definition is built, because the
    column headers (and the codes of a categorical facet) are only known once the data has
    been read.
``clarify-monitors/bias_analysis_config.json``, ``.../explainability_analysis_config.json``
    The analysis configurations the model-bias and explainability *monitors* read (the
    ``ConfigFile`` of the package's ``DriftCheckBaselines``): the same facet and SHAP
    settings, for the captured requests (features only).

Feature engineering, all fitted on the training split only so nothing leaks from the
validation and test splits: columns that hold at most one distinct value in the
training split are dropped; a categorical column is encoded as **ordinal codes** (its
categories in sorted order are 0, 1, 2, ...; a category not seen in training, or a missing
value, is -1), which keeps one column per raw feature, so drift alarms and bias facets keep
the column's name; missing numeric values are replaced by the training median.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

LOGGER = logging.getLogger("preprocess")

SPLIT_NAMES = ("train", "validation", "test")

UNKNOWN_CATEGORY = -1
"""Code of a categorical value not seen in the training split (and of a missing one)."""


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
    parser.add_argument(
        "--max-categories",
        type=int,
        default=1000,
        help="Most distinct values a categorical column may have in the training split; "
        "more looks like an identifier, not a feature (default: %(default)s).",
    )
    add_clarify_args(parser)
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
    """Read and concatenate every CSV file under ``input_dir``, in sub-directories too
    (sorted by path).

    Raises
    ------
    ValueError
        If the directory holds no CSV file.
    """
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise ValueError(f"no *.csv file found in input directory {input_dir}")
    LOGGER.info("Reading %s", ", ".join(str(f) for f in files))
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def validate_input(frame: pd.DataFrame, target_column: str) -> None:
    """Check that the label is present and binary and that there are features.

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


def categorical_columns(features: pd.DataFrame) -> list[str]:
    """Columns that are not numeric: their values are categories (strings)."""
    return [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]


@dataclass(frozen=True)
class FeatureEncoding:
    """The feature engineering fitted on the training split, applied to every split.

    Attributes
    ----------
    label:
        The label column.
    features:
        The feature columns the model sees, in order (raw order, dropped ones removed).
    categories:
        Each categorical column's categories, sorted; a value's code is its position.
    dropped:
        Columns constant in the training split.
    medians:
        Fill value of each numeric column's missing cells.
    """

    label: str
    features: tuple[str, ...]
    categories: dict[str, list[str]]
    dropped: tuple[str, ...]
    medians: dict[str, float]

    @classmethod
    def fit(cls, train: pd.DataFrame, label: str, max_categories: int) -> FeatureEncoding:
        """Fit on the training split.

        Raises
        ------
        ValueError
            A categorical column has more than ``max_categories`` distinct values.
        """
        features = train.drop(columns=[label])
        dropped = constant_columns(features)
        kept = features.drop(columns=dropped)
        categorical = categorical_columns(kept)
        categories = {c: sorted(kept[c].dropna().astype(str).unique()) for c in categorical}
        for column, values in categories.items():
            if len(values) > max_categories:
                raise ValueError(
                    f"categorical column {column!r} has {len(values)} distinct values in the "
                    f"training split, more than --max-categories {max_categories}: an "
                    "identifier is not a feature; drop it or raise the limit"
                )
        numeric = [c for c in kept.columns if c not in categories]
        return cls(
            label=label,
            features=tuple(kept.columns),
            categories=categories,
            dropped=tuple(dropped),
            medians={c: float(kept[c].median()) for c in numeric},
        )

    def code(self, column: str, value: object) -> int:
        """The ordinal code of ``value`` in categorical ``column`` (-1: unseen)."""
        values = self.categories[column]
        text = str(value)
        return values.index(text) if text in values else UNKNOWN_CATEGORY

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Label first, then the encoded features."""
        columns = {}
        for column in self.features:
            values = frame[column]
            if column in self.categories:
                codes = {value: code for code, value in enumerate(self.categories[column])}
                encoded = values.astype("string").map(codes)
                columns[column] = encoded.fillna(UNKNOWN_CATEGORY).astype(int)
            else:
                columns[column] = values.fillna(self.medians[column])
        labelled = pd.concat(
            [frame[self.label].astype(int), pd.DataFrame(columns, index=frame.index)], axis=1
        )
        return labelled.reset_index(drop=True)

    def to_json(self) -> str:
        """``schema.json``: how a raw row becomes the model's input."""
        return json.dumps(
            {
                "label": self.label,
                "features": list(self.features),
                "categories": self.categories,
                "dropped": list(self.dropped),
                "medians": self.medians,
            },
            indent=2,
            sort_keys=True,
        )


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
        # The container's Python 3.8 has neither itertools.pairwise nor zip(strict=).
        for index, (start, end) in enumerate(zip(bounds, bounds[1:]))  # noqa: B905, RUF007
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Read, validate, split, engineer features and write the outputs."""
    args = parse_args(argv)
    frame = read_input(args.input_dir)
    validate_input(frame, args.target_column)
    splits = stratified_split(
        frame, args.target_column, args.validation_fraction, args.test_fraction, args.seed
    )
    encoding = FeatureEncoding.fit(splits[0], args.target_column, args.max_categories)
    if encoding.dropped:
        LOGGER.info("Dropping columns constant in the training split: %s", list(encoding.dropped))
    if encoding.categories:
        LOGGER.info("Ordinal codes of categorical columns: %s", encoding.categories)
    for name, split in zip(SPLIT_NAMES, splits):  # noqa: B905  # Python 3.8: no strict=
        processed = encoding.transform(split)
        if name == "train" and args.train_shards > 1:
            write_shards(processed, args.output_dir / name, name, args.train_shards)
        else:
            write_split(processed, args.output_dir / name, name, header=False)
        if name == "train":
            baseline = processed.drop(columns=[args.target_column])
            write_split(baseline, args.output_dir / "baseline", "baseline", header=True)
            shap_baseline = [[float(v) for v in baseline.median().to_numpy()]]
    schema = args.output_dir / "schema"
    schema.mkdir(parents=True, exist_ok=True)
    (schema / "schema.json").write_text(encoding.to_json(), encoding="utf-8")
    write_clarify_configs(args, encoding, shap_baseline)


# --- SageMaker Clarify analysis configurations ----------------------------------------


def add_clarify_args(parser: argparse.ArgumentParser) -> None:
    """The options of the Clarify analysis configurations (all off by default)."""
    group = parser.add_argument_group("SageMaker Clarify checks")
    group.add_argument(
        "--clarify-facet",
        help="Feature whose groups bias is measured between (raw column name); writes the "
        "model-bias configurations.",
    )
    group.add_argument(
        "--clarify-facet-value",
        action="append",
        default=[],
        help="Value of the facet that marks the sensitive group (repeatable; for a "
        "categorical facet, a category as it appears in the raw data).",
    )
    group.add_argument(
        "--clarify-facet-threshold",
        type=float,
        help="For a numeric facet: values above it form the sensitive group.",
    )
    group.add_argument(
        "--shap-samples",
        type=int,
        help="Samples of the SHAP analysis; writes the explainability configurations.",
    )
    group.add_argument(
        "--clarify-instance-type",
        default="ml.m5.xlarge",
        help="Instance of the shadow endpoint Clarify scores the model on (default: %(default)s).",
    )
    group.add_argument(
        "--clarify-endpoint-prefix",
        default="clarify-shadow",
        help="Name prefix of the shadow endpoint (default: %(default)s).",
    )
    group.add_argument(
        "--probability-threshold",
        type=float,
        default=0.5,
        help="Score at or above which a prediction is positive (default: %(default)s).",
    )


def clarify_predictor(args: argparse.Namespace) -> dict[str, object]:
    """The ``predictor`` section: the model answers one probability per CSV row."""
    return {
        "instance_type": args.clarify_instance_type,
        "initial_instance_count": 1,
        "accept_type": "text/csv",
        "content_type": "text/csv",
        "endpoint_name_prefix": args.clarify_endpoint_prefix,
    }


def bias_config(args: argparse.Namespace, encoding: FeatureEncoding) -> dict[str, object]:
    """Clarify's ``BiasConfig``: label value 1 against the facet's sensitive group.

    Raises
    ------
    ValueError
        The facet is not a feature the model sees, or its values do not suit its type.
    """
    facet = args.clarify_facet
    if facet not in encoding.features:
        raise ValueError(
            f"--clarify-facet {facet!r} is not a feature of the processed data "
            f"({', '.join(encoding.features)})"
        )
    if facet in encoding.categories:
        if not args.clarify_facet_value or args.clarify_facet_threshold is not None:
            raise ValueError(
                f"--clarify-facet {facet!r} is categorical: give --clarify-facet-value"
                f" (one of {encoding.categories[facet]}), not a threshold"
            )
        values: object = [encoding.code(facet, v) for v in args.clarify_facet_value]
    elif args.clarify_facet_threshold is not None:
        values = args.clarify_facet_threshold
    else:
        values = [float(v) for v in args.clarify_facet_value]
    return {
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": facet, "value_or_threshold": values}],
    }


def shap_config(samples: int, baseline: list[list[float]]) -> dict[str, object]:
    """Clarify's ``SHAPConfig``: the training medians as the baseline row."""
    return {
        "shap": {
            "use_logit": False,
            "save_local_shap_values": True,
            "baseline": baseline,
            "num_samples": samples,
            "agg_method": "mean_abs",
        }
    }


def write_clarify_configs(
    args: argparse.Namespace, encoding: FeatureEncoding, shap_baseline: list[list[float]]
) -> None:
    """Write the analysis configurations the options ask for (none without options)."""
    headers = [encoding.label, *encoding.features]
    predictor = clarify_predictor(args)
    data = {"dataset_type": "text/csv", "headers": headers, "label": encoding.label}
    report = {"report": {"name": "report", "title": "Analysis Report"}}
    monitors = args.output_dir / "clarify-monitors"
    if args.clarify_facet is not None:
        bias = bias_config(args, encoding)
        job = {
            **data,
            **bias,
            "methods": {"post_training_bias": {"methods": "all"}, **report},
            "predictor": predictor,
            "probability_threshold": args.probability_threshold,
        }
        write_json(args.output_dir / "clarify-bias" / "analysis_config.json", job)
        monitor = {**bias, "headers": headers, "label": encoding.label}
        write_json(monitors / "bias_analysis_config.json", monitor)
    if args.shap_samples is not None:
        methods = shap_config(args.shap_samples, shap_baseline)
        job = {**data, "methods": {**methods, **report}, "predictor": predictor}
        write_json(args.output_dir / "clarify-explainability" / "analysis_config.json", job)
        monitor = {"methods": methods, "predictor": predictor, "headers": list(encoding.features)}
        write_json(monitors / "explainability_analysis_config.json", monitor)


def write_json(path: Path, document: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
    LOGGER.info("Wrote %s", path)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    main()

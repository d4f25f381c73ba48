"""Train a binary XGBoost classifier, resumable from checkpoints (managed spot training).

Runs in the SageMaker XGBoost framework container in script mode (the
``sagemaker-xgboost`` image, e.g. 1.7-1, used as the entry point of a training job).
It trains the same objective as the built-in algorithm's default tabular setup:
``binary:logistic`` with ``auc`` as the evaluation metric.

Inputs
------
``--train`` (env ``SM_CHANNEL_TRAIN``, default ``/opt/ml/input/data/train``) and
``--validation`` (env ``SM_CHANNEL_VALIDATION``, default ``/opt/ml/input/data/validation``)
    Directories of headerless ``*.csv`` files, label in the first column, as written by
    ``preprocess.py``.
Hyperparameters
    Command-line options. SageMaker passes hyperparameters as ``--<name> <value>`` with
    the names as given in the estimator, so both ``--num_round`` and ``--num-round``
    spellings are accepted.
``--checkpoint-dir`` (default ``/opt/ml/checkpoints``)
    Where SageMaker syncs checkpoints to and from S3. If it holds a checkpoint of this
    same training data and parameters, training resumes from the latest one instead of
    starting over; checkpoints of other data or parameters are ignored.

Outputs
-------
``<checkpoint-dir>/xgboost-checkpoint.<rounds>.json``
    The booster after ``<rounds>`` boosting rounds, every ``--checkpoint-frequency``
    rounds and at the end; only the newest ``--checkpoints-to-keep`` are kept.
``--model-dir`` (env ``SM_MODEL_DIR``, default ``/opt/ml/model``) ``/xgboost-model``
    The final booster in XGBoost's JSON format, under the file name the built-in
    container uses. SageMaker packs the model directory into ``model.tar.gz``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

LOGGER = logging.getLogger("train")

MODEL_FILE_NAME = "xgboost-model"
CHECKPOINT_PATTERN = re.compile(r"^xgboost-checkpoint\.(\d+)\.json$")
# SageMaker does not upload files with this suffix from the checkpoint directory, so a
# half-written checkpoint never reaches S3.
TEMP_SUFFIX = ".sagemaker-ignore"
# SageMaker creates "<file>.sagemaker-uploading" while it copies a checkpoint to S3.
UPLOADING_SUFFIX = ".sagemaker-uploading"
UPLOADED_SUFFIX = ".sagemaker-uploaded"
# Booster attribute tying a checkpoint to the data and parameters it was trained on.
FINGERPRINT_ATTRIBUTE = "checkpoint_fingerprint"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse paths and hyperparameters; path defaults come from the SageMaker environment."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    paths = parser.add_argument_group("paths")
    paths.add_argument(
        "--train",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")),
        help="Training channel directory (default: $SM_CHANNEL_TRAIN or %(default)s).",
    )
    paths.add_argument(
        "--validation",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation")),
        help="Validation channel directory (default: $SM_CHANNEL_VALIDATION or %(default)s).",
    )
    paths.add_argument(
        "--model-dir",
        "--model_dir",
        dest="model_dir",
        type=Path,
        default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")),
        help="Where the final model is written (default: $SM_MODEL_DIR or %(default)s).",
    )
    paths.add_argument(
        "--checkpoint-dir",
        "--checkpoint_dir",
        dest="checkpoint_dir",
        type=Path,
        default=Path("/opt/ml/checkpoints"),
        help="Checkpoint directory synced with S3 (default: %(default)s).",
    )
    checkpoints = parser.add_argument_group("checkpointing")
    checkpoints.add_argument(
        "--checkpoint-frequency",
        "--checkpoint_frequency",
        dest="checkpoint_frequency",
        type=int,
        default=10,
        help="Save a checkpoint every this many rounds; 0 disables checkpoints "
        "(default: %(default)s).",
    )
    checkpoints.add_argument(
        "--checkpoints-to-keep",
        "--checkpoints_to_keep",
        dest="checkpoints_to_keep",
        type=int,
        default=5,
        help="Number of newest checkpoints kept on disk (default: %(default)s).",
    )
    hyper = parser.add_argument_group("hyperparameters")
    hyper.add_argument(
        "--num-round",
        "--num_round",
        dest="num_round",
        type=int,
        default=100,
        help="Total boosting rounds (default: %(default)s).",
    )
    hyper.add_argument(
        "--max-depth",
        "--max_depth",
        dest="max_depth",
        type=int,
        default=5,
        help="Maximum tree depth (default: %(default)s).",
    )
    hyper.add_argument(
        "--eta", type=float, default=0.2, help="Learning rate (default: %(default)s)."
    )
    hyper.add_argument(
        "--gamma",
        type=float,
        default=0.0,
        help="Minimum loss reduction to split (default: %(default)s).",
    )
    hyper.add_argument(
        "--min-child-weight",
        "--min_child_weight",
        dest="min_child_weight",
        type=float,
        default=1.0,
        help="Minimum hessian sum in a child (default: %(default)s).",
    )
    hyper.add_argument(
        "--subsample",
        type=float,
        default=1.0,
        help="Row sampling ratio per tree (default: %(default)s).",
    )
    hyper.add_argument(
        "--colsample-bytree",
        "--colsample_bytree",
        dest="colsample_bytree",
        type=float,
        default=1.0,
        help="Column sampling ratio per tree (default: %(default)s).",
    )
    hyper.add_argument(
        "--reg-lambda",
        "--lambda",
        dest="reg_lambda",
        type=float,
        default=1.0,
        help="L2 regularisation on weights (default: %(default)s).",
    )
    hyper.add_argument(
        "--reg-alpha",
        "--alpha",
        dest="reg_alpha",
        type=float,
        default=0.0,
        help="L1 regularisation on weights (default: %(default)s).",
    )
    hyper.add_argument(
        "--seed",
        type=int,
        default=0,
        help="Random seed for row and column sampling (default: %(default)s).",
    )
    args = parser.parse_args(argv)
    if args.num_round < 1:
        parser.error(f"--num_round must be at least 1, got {args.num_round}")
    if args.checkpoint_frequency < 0 or args.checkpoints_to_keep < 1:
        parser.error("--checkpoint_frequency must be >= 0 and --checkpoints_to_keep >= 1")
    return args


def booster_params(args: argparse.Namespace) -> dict[str, Any]:
    """XGBoost parameters for the binary objective from the parsed hyperparameters."""
    return {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "tree_method": "hist",
        "max_depth": args.max_depth,
        "eta": args.eta,
        "gamma": args.gamma,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "colsample_bytree": args.colsample_bytree,
        "lambda": args.reg_lambda,
        "alpha": args.reg_alpha,
        "seed": args.seed,
    }


def channel_files(channel_dir: Path) -> list[Path]:
    """The ``*.csv`` files of a channel, sorted by name.

    Raises
    ------
    ValueError
        If the channel holds no CSV file.
    """
    files = sorted(channel_dir.glob("*.csv"))
    if not files:
        raise ValueError(f"no *.csv file found in channel directory {channel_dir}")
    return files


def read_channel(files: Sequence[Path]) -> xgb.DMatrix:
    """Load headerless CSV files into one matrix; the first column is the label."""
    frame = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    labels = frame.iloc[:, 0].to_numpy(dtype=np.float32)
    features = frame.iloc[:, 1:].to_numpy(dtype=np.float32)
    return xgb.DMatrix(features, label=labels)


def training_fingerprint(train_files: Sequence[Path], params: dict[str, Any]) -> str:
    """Digest of the training data and parameters a checkpoint belongs to.

    A checkpoint directory reused by another job (a shared checkpoint S3 prefix, new
    data) must not be resumed from: its trees were fitted to something else.
    """
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode("utf-8"))
    for path in train_files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def write_booster(booster: xgb.Booster, path: Path) -> None:
    """Write ``booster`` as JSON to ``path`` atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=str(path.parent), suffix=TEMP_SUFFIX)
    with os.fdopen(handle, "wb") as temp_file:
        temp_file.write(bytes(booster.save_raw(raw_format="json")))
    Path(temp_name).replace(path)


def read_booster(path: Path) -> xgb.Booster:
    """Load a booster written by :func:`write_booster` (format detected from content)."""
    booster = xgb.Booster()
    booster.load_model(bytearray(path.read_bytes()))
    return booster


def list_checkpoints(checkpoint_dir: Path) -> list[tuple[int, Path]]:
    """Checkpoints in ``checkpoint_dir`` as ``(rounds, path)``, oldest first."""
    if not checkpoint_dir.is_dir():
        return []
    found = []
    for path in checkpoint_dir.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def load_latest_checkpoint(
    checkpoint_dir: Path, fingerprint: str
) -> tuple[xgb.Booster | None, int]:
    """Newest usable checkpoint and its number of rounds, or ``(None, 0)``.

    A checkpoint that cannot be read (for example truncated by an interruption while
    S3 was syncing it) or that was trained on other data or parameters (its
    ``FINGERPRINT_ATTRIBUTE`` differs from ``fingerprint``) is skipped.
    """
    for rounds, path in reversed(list_checkpoints(checkpoint_dir)):
        try:
            booster = read_booster(path)
        except xgb.core.XGBoostError:
            LOGGER.warning("Skipping unreadable checkpoint %s", path)
            continue
        if booster.attr(FINGERPRINT_ATTRIBUTE) != fingerprint:
            LOGGER.warning("Skipping checkpoint %s: trained on other data or parameters", path)
            continue
        if booster.num_boosted_rounds() != rounds:
            LOGGER.warning(
                "Skipping checkpoint %s: it holds %d rounds", path, booster.num_boosted_rounds()
            )
            continue
        return booster, rounds
    return None, 0


class CheckpointSaver(xgb.callback.TrainingCallback):
    """Save the booster every ``frequency`` rounds and at the end; prune old ones.

    Parameters
    ----------
    checkpoint_dir
        Directory the checkpoints are written to.
    fingerprint
        Stored in each checkpoint; see :func:`training_fingerprint`.
    frequency
        Save after every round whose total count is a multiple of this.
    keep
        Number of newest checkpoints kept. Only checkpoints this run wrote or resumed
        from are ever deleted (never files of another job sharing the directory), and
        none that SageMaker is still uploading.
    resumed_from
        Rounds of the checkpoint training resumed from, if any.
    """

    def __init__(
        self,
        checkpoint_dir: Path,
        fingerprint: str,
        frequency: int,
        keep: int,
        resumed_from: int | None = None,
    ) -> None:
        super().__init__()
        self.checkpoint_dir = checkpoint_dir
        self.fingerprint = fingerprint
        self.frequency = frequency
        self.keep = keep
        self.owned: list[int] = [] if resumed_from is None else [resumed_from]

    def after_iteration(
        self,
        model: xgb.Booster,
        epoch: int,  # noqa: ARG002  # xgboost.callback.TrainingCallback's signature
        evals_log: Any,  # noqa: ARG002  # (the same)
    ) -> bool:
        # ``epoch`` restarts at 0 when training resumes; the booster knows its true count.
        rounds = model.num_boosted_rounds()
        if rounds % self.frequency == 0:
            self.save(model, rounds)
        return False

    def after_training(self, model: xgb.Booster) -> xgb.Booster:
        rounds = model.num_boosted_rounds()
        if not self.owned or self.owned[-1] != rounds:
            self.save(model, rounds)
        return model

    def save(self, model: xgb.Booster, rounds: int) -> None:
        """Write the checkpoint for ``rounds`` and delete owned ones beyond ``keep``."""
        model.set_attr(**{FINGERPRINT_ATTRIBUTE: self.fingerprint})
        write_booster(model, self.checkpoint_dir / checkpoint_name(rounds))
        LOGGER.info("Saved checkpoint after %d rounds", rounds)
        self.owned.append(rounds)
        for old_rounds in list(self.owned[: -self.keep]):
            old = self.checkpoint_dir / checkpoint_name(old_rounds)
            if is_uploading(old):
                continue  # retried after the next save
            if old.exists():
                old.unlink()
            self.owned.remove(old_rounds)


def checkpoint_name(rounds: int) -> str:
    """File name of the checkpoint taken after ``rounds`` boosting rounds."""
    return f"xgboost-checkpoint.{rounds}.json"


def is_uploading(path: Path) -> bool:
    """Whether SageMaker is still copying ``path`` to S3."""
    uploading = path.with_name(path.name + UPLOADING_SUFFIX).exists()
    uploaded = path.with_name(path.name + UPLOADED_SUFFIX).exists()
    return uploading and not uploaded


def train(args: argparse.Namespace) -> xgb.Booster:
    """Train to ``args.num_round`` rounds in total, resuming from a checkpoint if any."""
    train_files = channel_files(args.train)
    dtrain = read_channel(train_files)
    dvalidation = read_channel(channel_files(args.validation))
    params = booster_params(args)
    callbacks: list[xgb.callback.TrainingCallback] = []
    start_model, done = None, 0
    if args.checkpoint_frequency > 0:
        fingerprint = training_fingerprint(train_files, params)
        start_model, done = load_latest_checkpoint(args.checkpoint_dir, fingerprint)
        callbacks.append(
            CheckpointSaver(
                args.checkpoint_dir,
                fingerprint,
                args.checkpoint_frequency,
                args.checkpoints_to_keep,
                resumed_from=done or None,
            )
        )
    if start_model is not None:
        LOGGER.info("Resuming from checkpoint after %d of %d rounds", done, args.num_round)
    if done > args.num_round:
        raise ValueError(
            f"the checkpoint in {args.checkpoint_dir} already holds {done} rounds, more than "
            f"--num_round {args.num_round}; use a fresh checkpoint directory"
        )
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=args.num_round - done,
        evals=[(dtrain, "train"), (dvalidation, "validation")],
        xgb_model=start_model,
        callbacks=callbacks,
        verbose_eval=max(args.checkpoint_frequency, 1),
    )
    booster.set_attr(**{FINGERPRINT_ATTRIBUTE: None})  # bookkeeping, not part of the model
    return booster


def main(argv: Sequence[str] | None = None) -> None:
    """Train and write ``xgboost-model`` to the model directory."""
    args = parse_args(argv)
    booster = train(args)
    model_path = args.model_dir / MODEL_FILE_NAME
    write_booster(booster, model_path)
    LOGGER.info("Wrote model with %d rounds to %s", booster.num_boosted_rounds(), model_path)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    main()

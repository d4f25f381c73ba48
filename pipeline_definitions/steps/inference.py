"""Serve the trained booster: probability of the positive class for each request row.

Runs in the SageMaker XGBoost framework container in script mode (real-time,
serverless and asynchronous endpoints, and batch transform). The model server calls
``model_fn`` once, then ``input_fn``, ``predict_fn`` and ``output_fn`` per request.

Requests
--------
Rows of the processed features, in the column order of the data-quality baseline
(``baseline/baseline.csv`` written by ``preprocess.py``), without the label:

``text/csv``
    One row per line, no header; an empty field is a missing value.
``application/json``
    ``{"instances": [[f1, f2, ...], ...]}``, a list of rows, or one flat row;
    ``null`` is a missing value.

Responses
---------
``text/csv`` (the default, also for ``*/*`` or no Accept header)
    One probability per line, in request order; what batch transform joins back.
``application/json``
    ``{"predictions": [{"score": p}, ...]}``, the shape of the built-in XGBoost
    algorithm's JSON output.

Any other request or response type raises ``ValueError`` naming the type.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Union

import numpy as np
import xgboost as xgb

MODEL_FILE_NAME = "xgboost-model"
CSV = "text/csv"
JSON = "application/json"
SUPPORTED_TYPES = (CSV, JSON)

# A runtime alias, so typing.Union: the container's Python 3.8 has no ``X | Y`` types.
Body = Union[bytes, bytearray, str]  # noqa: UP007


def model_fn(model_dir: str) -> xgb.Booster:
    """Load ``xgboost-model`` from the unpacked model archive.

    Raises
    ------
    ValueError
        If the directory holds no ``xgboost-model``.
    """
    path = Path(model_dir) / MODEL_FILE_NAME
    if not path.is_file():
        raise ValueError(f"no {MODEL_FILE_NAME!r} in model directory {model_dir}")
    booster = xgb.Booster()
    booster.load_model(bytearray(path.read_bytes()))
    return booster


def input_fn(request_body: Body, request_content_type: str | None) -> xgb.DMatrix:
    """Decode a CSV or JSON request into a feature matrix.

    Raises
    ------
    ValueError
        If the content type is not supported or the body is not a rectangular table
        of numbers.
    """
    media_type = media_type_of(request_content_type)
    if media_type not in SUPPORTED_TYPES:
        raise ValueError(
            f"unsupported request content type {request_content_type!r}; "
            f"send one of {', '.join(SUPPORTED_TYPES)}"
        )
    text = decode(request_body)
    rows = parse_csv(text) if media_type == CSV else parse_json(text)
    return xgb.DMatrix(to_matrix(rows))


def predict_fn(input_data: xgb.DMatrix, model: xgb.Booster) -> np.ndarray:
    """Probability of the positive class for each row.

    Raises
    ------
    ValueError
        If the rows do not have as many features as the model was trained on.
    """
    if input_data.num_col() != model.num_features():
        raise ValueError(
            f"each row must have {model.num_features()} features, got {input_data.num_col()}"
        )
    return model.predict(input_data)


def output_fn(prediction: np.ndarray, accept: str | None) -> tuple[str, str]:
    """Encode probabilities as ``(body, content_type)`` for the first supported Accept type.

    Raises
    ------
    ValueError
        If no type in the Accept header is supported.
    """
    media_type = negotiate(accept)
    values = [float(p) for p in np.asarray(prediction).ravel()]
    if media_type == JSON:
        return json.dumps({"predictions": [{"score": v} for v in values]}), JSON
    return "\n".join(repr(v) for v in values) + "\n", CSV


def media_type_of(content_type: str | None) -> str:
    """``"text/csv; charset=utf-8"`` -> ``"text/csv"``; ``None`` -> ``""``."""
    return (content_type or "").split(";")[0].strip().lower()


def negotiate(accept: str | None) -> str:
    """First supported media type in an Accept header; CSV when any type will do."""
    wanted = [media_type_of(part) for part in (accept or "").split(",")]
    for media_type in wanted:
        if media_type in ("", "*/*"):
            return CSV
        if media_type in SUPPORTED_TYPES:
            return media_type
    raise ValueError(
        f"unsupported accept type {accept!r}; accept one of {', '.join(SUPPORTED_TYPES)}"
    )


def decode(body: Body) -> str:
    """The request body as text; the model server may pass bytes or str."""
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"request body is not UTF-8 text: {error}") from None


def parse_csv(text: str) -> list[list[float]]:
    """Rows of a headerless CSV body; blank lines are skipped, empty fields are missing."""
    rows = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            rows.append([to_number(field, line_number) for field in line.split(",")])
    return rows


def parse_json(text: str) -> list[list[float | None]]:
    """Rows of a JSON body: ``{"instances": rows}``, ``rows`` or a single flat row."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"request body is not valid JSON: {error}") from error
    rows = document.get("instances") if isinstance(document, dict) else document
    if not isinstance(rows, list):  # a malformed request is a ValueError, as all others are
        raise ValueError('a JSON request must be {"instances": [[...], ...]} or a list of rows')
    if rows and not isinstance(rows[0], list):
        rows = [rows]
    return rows


def to_number(field: str, line_number: int) -> float:
    """A CSV field as a float; an empty field is NaN (missing to XGBoost)."""
    stripped = field.strip()
    if not stripped:
        return math.nan
    try:
        return float(stripped)
    except ValueError:
        raise ValueError(f"line {line_number}: {stripped!r} is not a number") from None


def to_matrix(rows: Sequence[Sequence[float | None]]) -> np.ndarray:
    """Rows of equal length as a float32 matrix; ``None`` becomes NaN.

    Raises
    ------
    ValueError
        If there is no row, rows differ in length or a value is not a number.
    """
    if not rows:
        raise ValueError("the request holds no rows")
    if not all(isinstance(row, (list, tuple)) for row in rows):
        raise ValueError("every row must be a list of values")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(f"all rows must have the same number of values, got {sorted(widths)}")
    try:
        return np.array(
            [[math.nan if v is None else v for v in row] for row in rows], dtype=np.float32
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"every value must be a number or missing: {error}") from None

"""Build a point-in-time-correct training set from a feature group's offline store.

Runs as the first processing job of a training pipeline whose model reads its features
from SageMaker Feature Store (``pipeline.training_source.feature_group``), in the
scikit-learn processing container (pandas 1.x, boto3, Python 3.8: nothing newer is used). It needs the network (Athena and
SageMaker APIs, through the VPC's interface endpoints), so this one job runs without
network isolation.

Inputs
------
``--labels-dir`` (the pipeline's ``InputDataUri``)
    CSV files with a header, anywhere under the directory, with three columns: the
    feature group's record identifier, its event-time feature (the moment the label's
    prediction would have been made: only features recorded at or before it may be used)
    and the label (``--target-column``).
The feature group's offline store (an Iceberg table in the Glue catalog, found with
``DescribeFeatureGroup``), read with one Athena query.

Output
------
``--output-dir`` ``/dataset.csv``: one row per label row that has features, the chosen
features then the label, with a header: the input ``preprocess.py`` reads.

Point in time
-------------
The query returns every record of the group, one per identifier and event time (the
latest write wins when a record was written twice). Each label row then takes, for its
identifier, the record with the latest event time **at or before** the label's event time
(``pandas.merge_asof``, backward): a feature value recorded after the moment of the
prediction can never leak into training. A label whose latest record is a deletion
(``is_deleted``), or that has no record before it, is left out (and counted in the log).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

LOGGER = logging.getLogger("feature_store_dataset")

#: Columns SageMaker Feature Store adds to every offline-store record.
WRITE_TIME = "write_time"
API_INVOCATION_TIME = "api_invocation_time"
IS_DELETED = "is_deleted"

#: Athena states after which a query no longer changes.
_FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature-group", required=True, help="Deployed feature group name.")
    parser.add_argument("--record-identifier", required=True)
    parser.add_argument("--event-time", required=True)
    parser.add_argument("--event-time-type", choices=("string", "fractional"), required=True)
    parser.add_argument(
        "--features", required=True, help="Comma-separated features to train on, in order."
    )
    parser.add_argument("--target-column", required=True)
    parser.add_argument("--labels-dir", type=Path, default=Path("/opt/ml/processing/input/labels"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/output"))
    parser.add_argument(
        "--query-results-uri", required=True, help="s3:// prefix for Athena's result files."
    )
    parser.add_argument("--kms-key-arn", help="KMS key Athena encrypts its results with.")
    parser.add_argument("--workgroup", default="primary", help="Athena workgroup.")
    parser.add_argument(
        "--query-timeout-seconds",
        type=int,
        default=3000,
        help="Give up on the query after this long (default: %(default)s).",
    )
    return parser.parse_args(argv)


def quote(identifier: str) -> str:
    """An SQL identifier in double quotes (Athena/Trino and SQLite alike)."""
    return '"' + identifier.replace('"', '""') + '"'


def records_query(
    *, database: str, table: str, record_identifier: str, event_time: str, features: Sequence[str]
) -> str:
    """Every record of the offline store, one per identifier and event time.

    When a record was written more than once for the same event time, the latest write
    (``api_invocation_time``, then ``write_time``) wins.
    """
    columns = [record_identifier, event_time, *features, IS_DELETED]
    selected = ", ".join(quote(c) for c in columns)
    return (
        f"SELECT {selected} FROM ("
        f"SELECT {selected}, row_number() OVER ("
        f"PARTITION BY {quote(record_identifier)}, {quote(event_time)} "
        f"ORDER BY {quote(API_INVOCATION_TIME)} DESC, {quote(WRITE_TIME)} DESC"
        f') AS "version" FROM {quote(database)}.{quote(table)}'
        ') AS "records" WHERE "version" = 1'
    )


def event_times(values: pd.Series, event_time_type: str) -> pd.Series:
    """Event times as UTC timestamps: ISO 8601 strings, or epoch seconds."""
    if event_time_type == "fractional":
        return pd.to_datetime(values.astype(float), unit="s", utc=True)
    return pd.to_datetime(values, utc=True)


def point_in_time_join(
    labels: pd.DataFrame,
    records: pd.DataFrame,
    *,
    record_identifier: str,
    event_time: str,
    event_time_type: str,
    features: Sequence[str],
    target_column: str,
) -> pd.DataFrame:
    """Each label row with its identifier's latest record at or before the label's time.

    Label rows whose latest record is a deletion, or that have none, are left out.
    Returns the features then the label, in the labels' order of time.
    """
    left = labels[[record_identifier, event_time, target_column]].copy()
    right = records[[record_identifier, event_time, *features, IS_DELETED]].copy()
    time_key = "__point_in_time"
    left[time_key] = event_times(left[event_time], event_time_type)
    right[time_key] = event_times(right[event_time], event_time_type)
    # merge_asof needs the same dtype on both "by" columns.
    left[record_identifier] = left[record_identifier].astype(str)
    right[record_identifier] = right[record_identifier].astype(str)
    right[IS_DELETED] = right[IS_DELETED].astype(str).str.lower() == "true"
    joined = pd.merge_asof(
        left.sort_values(time_key),
        right.drop(columns=[event_time]).sort_values(time_key),
        on=time_key,
        by=record_identifier,
        direction="backward",
        allow_exact_matches=True,
    )
    usable = joined[IS_DELETED].eq(False)
    if not usable.all():
        LOGGER.info(
            "Left out %d of %d label rows: no record at or before their time, or deleted",
            int((~usable).sum()),
            len(joined),
        )
    return joined.loc[usable, [*features, target_column]].reset_index(drop=True)


def read_labels(labels_dir: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Every CSV under ``labels_dir``; each must have ``columns``.

    Raises
    ------
    ValueError
        No CSV file, or one without a required column.
    """
    files = sorted(labels_dir.rglob("*.csv"))
    if not files:
        raise ValueError(f"no *.csv label file found under {labels_dir}")
    frames = []
    for path in files:
        frame = pd.read_csv(path)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"label file {path} has no column(s) {missing}; needs {list(columns)}")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


class AthenaQuery:
    """Runs one query with Athena and reads its result file from S3."""

    def __init__(
        self,
        *,
        athena: object,
        s3: object,
        results_uri: str,
        workgroup: str,
        kms_key_arn: str | None,
        timeout_seconds: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.athena, self.s3 = athena, s3
        self.results_uri, self.workgroup = results_uri, workgroup
        self.kms_key_arn, self.timeout_seconds, self.sleep = kms_key_arn, timeout_seconds, sleep

    def run(self, sql: str, *, catalog: str, database: str) -> pd.DataFrame:
        """Start ``sql``, wait for it, return its result as a data frame (all strings).

        Raises
        ------
        RuntimeError
            The query failed, was cancelled or did not finish in time.
        """
        encryption = (
            {"EncryptionOption": "SSE_KMS", "KmsKey": self.kms_key_arn}
            if self.kms_key_arn
            else {"EncryptionOption": "SSE_S3"}
        )
        started = self.athena.start_query_execution(  # type: ignore[attr-defined]  # an untyped boto3 client
            QueryString=sql,
            QueryExecutionContext={"Catalog": catalog, "Database": database},
            ResultConfiguration={
                "OutputLocation": self.results_uri,
                "EncryptionConfiguration": encryption,
            },
            WorkGroup=self.workgroup,
        )
        execution = self._wait(started["QueryExecutionId"])
        location = execution["ResultConfiguration"]["OutputLocation"]
        # The container's Python predates str.removeprefix.
        bucket, _, key = location[len("s3://") :].partition("/")
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]  # an untyped boto3 client
        return pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, na_values=[""])

    def _wait(self, query_id: str) -> dict[str, Any]:
        waited, delay = 0.0, 1.0
        while True:
            execution: dict[str, Any] = self.athena.get_query_execution(  # type: ignore[attr-defined]  # an untyped boto3 client
                QueryExecutionId=query_id
            )["QueryExecution"]
            state = execution["Status"]["State"]
            if state == "SUCCEEDED":
                return execution
            if state in _FINAL_STATES:
                reason = execution["Status"].get("StateChangeReason", "no reason given")
                raise RuntimeError(f"Athena query {query_id} {state}: {reason}")
            if waited >= self.timeout_seconds:
                raise RuntimeError(
                    f"Athena query {query_id} still {state} after {self.timeout_seconds} s"
                )
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)


def offline_table(sagemaker: object, feature_group: str) -> tuple[str, str, str]:
    """(catalog, database, table) of the group's offline store.

    Raises
    ------
    RuntimeError
        The group has no active offline store.
    """
    described = sagemaker.describe_feature_group(FeatureGroupName=feature_group)  # type: ignore[attr-defined]  # an untyped boto3 client
    status = (described.get("OfflineStoreStatus") or {}).get("Status")
    catalog = (described.get("OfflineStoreConfig") or {}).get("DataCatalogConfig")
    if status != "Active" or not catalog:
        raise RuntimeError(
            f"feature group {feature_group} has no active offline store (status {status!r})"
        )
    return catalog["Catalog"], catalog["Database"], catalog["TableName"]


def main(argv: Sequence[str] | None = None, *, clients: dict[str, object] | None = None) -> None:
    """Query the offline store, join the labels point-in-time, write ``dataset.csv``."""
    args = parse_args(argv)
    features = [name for name in args.features.split(",") if name]
    if clients is None:
        import boto3

        clients = {name: boto3.client(name) for name in ("sagemaker", "athena", "s3")}
    labels = read_labels(
        args.labels_dir, [args.record_identifier, args.event_time, args.target_column]
    )
    catalog, database, table = offline_table(clients["sagemaker"], args.feature_group)
    query = AthenaQuery(
        athena=clients["athena"],
        s3=clients["s3"],
        results_uri=args.query_results_uri,
        workgroup=args.workgroup,
        kms_key_arn=args.kms_key_arn,
        timeout_seconds=args.query_timeout_seconds,
    )
    sql = records_query(
        database=database,
        table=table,
        record_identifier=args.record_identifier,
        event_time=args.event_time,
        features=features,
    )
    records = query.run(sql, catalog=catalog, database=database)
    LOGGER.info("Read %d records of %s.%s", len(records), database, table)
    dataset = point_in_time_join(
        labels,
        records,
        record_identifier=args.record_identifier,
        event_time=args.event_time,
        event_time_type=args.event_time_type,
        features=features,
        target_column=args.target_column,
    )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    dataset.to_csv(args.output_dir / "dataset.csv", index=False)
    LOGGER.info("Wrote %d rows to %s", len(dataset), args.output_dir / "dataset.csv")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    main()

"""``feature_store_dataset.py``: a point-in-time-correct training set from the offline store.

The query runs on SQLite (standard library) over a table shaped like the offline store's
Iceberg table (the group's features plus ``write_time``, ``api_invocation_time`` and
``is_deleted``); the Athena and SageMaker calls are stubbed with botocore's ``Stubber``,
which checks each request against the service model; the output goes through
``preprocess.py``.
"""

from __future__ import annotations

import importlib.util
import io
import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

STEPS_DIR = Path(__file__).resolve().parents[2] / "pipeline_definitions" / "steps"
FEATURES = ["tenure_months", "monthly_charges", "contract_type"]
DATABASE, TABLE = "sagemaker_featurestore", "ml_platform_dev_customer_activity_1700000000"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"fs_{name}", STEPS_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


dataset = load("feature_store_dataset")


def record(customer: str, at: str, tenure: int, contract: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "event_time": at,
        "tenure_months": tenure,
        "monthly_charges": 20.0 + tenure,
        "contract_type": contract,
        "write_time": extra.get("write_time", at),
        "api_invocation_time": extra.get("api_invocation_time", at),
        "is_deleted": extra.get("is_deleted", "false"),
    }


# Customer c1 changes contract on 03-01 and again (in the future of every label) on 09-01;
# its 02-01 record was written twice, the second write correcting the tenure; c2 is
# deleted on 05-01; c3 has no record before its label.
OFFLINE_STORE = pd.DataFrame(
    [
        record("c1", "2026-01-01T00:00:00Z", 10, "month-to-month"),
        record("c1", "2026-02-01T00:00:00Z", 99, "month-to-month"),
        record(
            "c1",
            "2026-02-01T00:00:00Z",
            11,
            "month-to-month",
            api_invocation_time="2026-02-02T00:00:00Z",
        ),
        record("c1", "2026-03-01T00:00:00Z", 12, "one-year"),
        record("c1", "2026-09-01T00:00:00Z", 18, "two-year"),
        record("c2", "2026-01-15T00:00:00Z", 3, "month-to-month"),
        record("c2", "2026-05-01T00:00:00Z", 3, "month-to-month", is_deleted="true"),
        record("c3", "2026-08-01T00:00:00Z", 1, "one-year"),
    ]
)
LABELS = pd.DataFrame(
    {
        "customer_id": ["c1", "c1", "c2", "c2", "c3"],
        "event_time": [
            "2026-02-15T00:00:00Z",
            "2026-03-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-06-01T00:00:00Z",
            "2026-04-01T00:00:00Z",
        ],
        "churned": [0, 1, 1, 0, 1],
    }
)


def query_offline_store(sql: str) -> pd.DataFrame:
    """Run the step's query on SQLite, the table in a schema named like the Glue database."""
    connection = sqlite3.connect(":memory:")
    connection.execute(f"ATTACH DATABASE ':memory:' AS {DATABASE}")
    OFFLINE_STORE.to_sql("records", connection, index=False)
    connection.execute(f'CREATE TABLE {DATABASE}."{TABLE}" AS SELECT * FROM records')
    result = pd.read_sql_query(sql, connection)
    connection.close()
    return result.astype(str)


def build_query() -> str:
    return dataset.records_query(
        database=DATABASE,
        table=TABLE,
        record_identifier="customer_id",
        event_time="event_time",
        features=FEATURES,
    )


def join(records: pd.DataFrame) -> pd.DataFrame:
    return dataset.point_in_time_join(
        LABELS,
        records,
        record_identifier="customer_id",
        event_time="event_time",
        event_time_type="string",
        features=FEATURES,
        target_column="churned",
    )


def test_query_keeps_the_latest_write_of_each_record() -> None:
    records = query_offline_store(build_query())
    c1 = records[
        (records["customer_id"] == "c1") & (records["event_time"].str.startswith("2026-02"))
    ]
    assert c1["tenure_months"].tolist() == ["11"]
    assert len(records) == len(OFFLINE_STORE) - 1


def test_each_label_gets_the_features_as_they_were_at_its_time() -> None:
    joined = join(query_offline_store(build_query()))
    assert joined.to_dict("records") == [
        # c2 on 02-01: its 01-15 record. c1 on 02-15: the corrected 02-01 write.
        {
            "tenure_months": "3",
            "monthly_charges": "23.0",
            "contract_type": "month-to-month",
            "churned": 1,
        },
        {
            "tenure_months": "11",
            "monthly_charges": "31.0",
            "contract_type": "month-to-month",
            "churned": 0,
        },
        # c1 on 03-01: the record of that very moment, never the 09-01 one.
        {
            "tenure_months": "12",
            "monthly_charges": "32.0",
            "contract_type": "one-year",
            "churned": 1,
        },
    ]


def test_deleted_or_not_yet_recorded_customers_are_left_out() -> None:
    joined = join(query_offline_store(build_query()))
    assert len(joined) == 3  # c2 on 06-01 (deleted on 05-01), c3 on 04-01 (first record 08-01)


def test_epoch_seconds_event_times_join_the_same_way() -> None:
    epoch = lambda text: str(pd.Timestamp(text).timestamp())  # noqa: E731
    records = query_offline_store(build_query())
    records["event_time"] = records["event_time"].map(epoch)
    labels = LABELS.assign(event_time=LABELS["event_time"].map(epoch))
    joined = dataset.point_in_time_join(
        labels,
        records,
        record_identifier="customer_id",
        event_time="event_time",
        event_time_type="fractional",
        features=FEATURES,
        target_column="churned",
    )
    assert joined.equals(join(query_offline_store(build_query())))


# --- the AWS calls, stubbed -----------------------------------------------------------------


def clients() -> dict[str, Any]:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )
    return {name: session.client(name) for name in ("sagemaker", "athena", "s3")}


def result_body(frame: pd.DataFrame) -> StreamingBody:
    text = frame.to_csv(index=False).encode()
    return StreamingBody(io.BytesIO(text), len(text))


def stub_calls(aws: dict[str, Any], results: pd.DataFrame, states: list[str]) -> list[Stubber]:
    sagemaker, athena, s3 = (Stubber(aws[n]) for n in ("sagemaker", "athena", "s3"))
    sagemaker.add_response(
        "describe_feature_group",
        {
            "FeatureGroupArn": "arn:aws:sagemaker:eu-west-1:111122223333:feature-group/g",
            "FeatureGroupName": "ml-platform-dev-customer-activity",
            "RecordIdentifierFeatureName": "customer_id",
            "EventTimeFeatureName": "event_time",
            "FeatureDefinitions": [{"FeatureName": "customer_id", "FeatureType": "String"}],
            "CreationTime": pd.Timestamp("2026-01-01").to_pydatetime(),
            "NextToken": "",
            "OfflineStoreConfig": {
                "S3StorageConfig": {"S3Uri": "s3://datasets/feature-store"},
                "DataCatalogConfig": {
                    "TableName": TABLE,
                    "Catalog": "AwsDataCatalog",
                    "Database": DATABASE,
                },
            },
            "OfflineStoreStatus": {"Status": "Active"},
        },
        {"FeatureGroupName": "ml-platform-dev-customer-activity"},
    )
    athena.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": build_query(),
            "QueryExecutionContext": {"Catalog": "AwsDataCatalog", "Database": DATABASE},
            "ResultConfiguration": {
                "OutputLocation": "s3://artifacts/p/e/athena-results/",
                "EncryptionConfiguration": {
                    "EncryptionOption": "SSE_KMS",
                    "KmsKey": "arn:aws:kms:eu-west-1:111122223333:key/k",
                },
            },
            "WorkGroup": "primary",
        },
    )
    for state in states:
        athena.add_response(
            "get_query_execution",
            {
                "QueryExecution": {
                    "QueryExecutionId": "q-1",
                    "Status": {"State": state, "StateChangeReason": "syntax error"},
                    "ResultConfiguration": {
                        "OutputLocation": "s3://artifacts/p/e/athena-results/q-1.csv"
                    },
                }
            },
            {"QueryExecutionId": "q-1"},
        )
    if states[-1] == "SUCCEEDED":
        s3.add_response(
            "get_object",
            {"Body": result_body(results)},
            {"Bucket": "artifacts", "Key": "p/e/athena-results/q-1.csv"},
        )
    stubbers = [sagemaker, athena, s3]
    for stubber in stubbers:
        stubber.activate()
    return stubbers


def command(tmp_path: Path) -> list[str]:
    labels = tmp_path / "labels" / "2026-06"
    labels.mkdir(parents=True)
    LABELS.to_csv(labels / "labels.csv", index=False)
    return [
        "--feature-group", "ml-platform-dev-customer-activity",
        "--record-identifier", "customer_id",
        "--event-time", "event_time",
        "--event-time-type", "string",
        "--features", ",".join(FEATURES),
        "--target-column", "churned",
        "--labels-dir", str(tmp_path / "labels"),
        "--output-dir", str(tmp_path / "out"),
        "--query-results-uri", "s3://artifacts/p/e/athena-results/",
        "--kms-key-arn", "arn:aws:kms:eu-west-1:111122223333:key/k",
    ]  # fmt: skip


def test_the_job_queries_athena_waits_and_writes_the_training_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset.time, "sleep", lambda seconds: None)
    aws = clients()
    stubbers = stub_calls(aws, query_offline_store(build_query()), ["RUNNING", "SUCCEEDED"])
    dataset.main(command(tmp_path), clients=aws)
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
    written = pd.read_csv(tmp_path / "out" / "dataset.csv")
    assert list(written.columns) == [*FEATURES, "churned"]
    assert written["tenure_months"].tolist() == [3, 11, 12]


def test_a_failed_query_fails_the_job_with_athenas_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset.time, "sleep", lambda seconds: None)
    aws = clients()
    stub_calls(aws, pd.DataFrame(), ["QUEUED", "FAILED"])
    with pytest.raises(RuntimeError, match=r"Athena query q-1 FAILED: syntax error"):
        dataset.main(command(tmp_path), clients=aws)
    assert not (tmp_path / "out" / "dataset.csv").exists()


def test_the_training_set_goes_through_preprocess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Categorical ``contract_type`` included: the chain runs to the XGBoost layout."""
    monkeypatch.setattr(dataset.time, "sleep", lambda seconds: None)
    aws = clients()
    stub_calls(aws, query_offline_store(build_query()), ["SUCCEEDED"])
    many_labels = pd.concat(
        [LABELS.assign(customer_id=LABELS["customer_id"], churned=i % 2) for i in range(20)]
    )
    labels = tmp_path / "labels"
    labels.mkdir()
    many_labels.to_csv(labels / "labels.csv", index=False)
    arguments = command(tmp_path / "unused")
    arguments[arguments.index("--labels-dir") + 1] = str(labels)
    arguments[arguments.index("--output-dir") + 1] = str(tmp_path / "out")
    dataset.main(arguments, clients=aws)
    preprocess = load("preprocess")
    preprocess.main(
        [
            "--input-dir", str(tmp_path / "out"),
            "--output-dir", str(tmp_path / "processed"),
            "--target-column", "churned",
        ]
    )  # fmt: skip
    schema = (tmp_path / "processed" / "schema" / "schema.json").read_text()
    assert '"contract_type"' in schema
    train = pd.read_csv(tmp_path / "processed" / "train" / "train.csv", header=None)
    assert all(pd.api.types.is_numeric_dtype(train[c]) for c in train.columns)

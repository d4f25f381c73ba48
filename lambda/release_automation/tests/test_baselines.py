"""Every drift-check baseline a package can carry lands where its monitor reads it."""

from __future__ import annotations

import boto3
from baselines import BASELINE_FILES, publish


def test_every_baseline_kind_is_copied_to_its_monitors_folder_under_the_version(aws):
    s3 = boto3.client("s3")
    for bucket in ("training-output", "reports"):
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    baselines: dict[str, dict[str, dict[str, str]]] = {}
    for section, name in BASELINE_FILES:
        key = f"run-7/{section}/{name}.json"
        s3.put_object(Bucket="training-output", Key=key, Body=f"{section}.{name}".encode())
        baselines.setdefault(section, {})[name] = {
            "ContentType": "application/json",
            "S3Uri": f"s3://training-output/{key}",
        }

    published = publish(s3, {"DriftCheckBaselines": baselines}, "s3://reports/baselines/churn", 7)

    expected = {
        f"baselines/churn/7/{monitor}/{file_name}": f"{section}.{name}".encode()
        for (section, name), (monitor, file_name) in BASELINE_FILES.items()
    }
    assert sorted(published) == sorted(f"s3://reports/{key}" for key in expected)
    for key, body in expected.items():
        assert s3.get_object(Bucket="reports", Key=key)["Body"].read() == body


def test_a_model_without_monitors_copies_nothing(aws):
    assert publish(boto3.client("s3"), {"DriftCheckBaselines": {"x": {}}}, None, 7) == []

"""A released version's monitoring baselines, copied to where the model's monitors read them.

A package carries the drift-check baselines its training run computed
(``DriftCheckBaselines``); as it is released they are copied to
``<baselines_uri>/<version>/<monitor>/<file>`` (``ReleaseSettings.baselines_uri``), so the
model's stack can point each monitor at the released version's own baselines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_s3 import S3Client

#: Drift-check baselines of a package -> (monitor folder, file name) the monitors read.
BASELINE_FILES = {
    ("ModelDataQuality", "Constraints"): ("data-quality", "constraints.json"),
    ("ModelDataQuality", "Statistics"): ("data-quality", "statistics.json"),
    ("ModelQuality", "Constraints"): ("model-quality", "constraints.json"),
    ("Bias", "ConfigFile"): ("model-bias", "analysis_config.json"),
    ("Bias", "PostTrainingConstraints"): ("model-bias", "analysis.json"),
    ("Explainability", "ConfigFile"): ("model-explainability", "analysis_config.json"),
    ("Explainability", "Constraints"): ("model-explainability", "analysis.json"),
}


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def publish(
    s3: S3Client, package: dict[str, Any], baselines_uri: str | None, version: int
) -> list[str]:
    """Copy ``package``'s baselines under ``baselines_uri``; return the URIs written.

    The objects are written with the destination bucket's default encryption (the
    environment's key). Nothing is copied when the model has no monitors
    (``baselines_uri`` is ``None``).
    """
    if baselines_uri is None:
        return []
    bucket, prefix = split_s3_uri(baselines_uri.rstrip("/"))
    baselines = package.get("DriftCheckBaselines") or {}
    published = []
    for (section, name), (monitor, file_name) in BASELINE_FILES.items():
        source = ((baselines.get(section) or {}).get(name) or {}).get("S3Uri")
        if not source:
            continue
        source_bucket, source_key = split_s3_uri(source)
        key = "/".join(part for part in (prefix, str(version), monitor, file_name) if part)
        s3.copy_object(
            Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key}
        )
        published.append(f"s3://{bucket}/{key}")
    return published

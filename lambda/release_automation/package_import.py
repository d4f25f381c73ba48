"""Import a version approved in the previous environment into this environment's registry.

``make release-import ENV=staging MODEL=<model> VERSION=<n>`` invokes the function with
``{"action": "import", "model": ..., "version": n}``. The package ``n`` of the previous
environment's group (dev's, for staging) must be ``Approved`` there. Its model artifacts,
metrics and baselines are copied into this environment's artifacts bucket (encrypted by the
bucket's default key, this environment's), under
``<model>/imported/<source name prefix>/v<n>/<field path>/<file>``, and a package is
registered in this environment's group as ``PendingManualApproval``, pointing at the copies,
with its lineage in ``CustomerMetadataProperties`` (``platform_contracts.releases.LINEAGE_KEYS``).
A person approves it here; the approval releases it as any other.

The source is read through resource policies: the previous environment's group policy, its
artifacts bucket policy and its key policy let this account read (``reader_accounts``).
Importing the same version again returns the package registered the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from automation_runtime import UnusableEventError
from baselines import split_s3_uri
from botocore.exceptions import ClientError
from release_events import DirectAction
from release_settings import PreviousEnvironment

from platform_contracts.model_settings import ModelSettings
from platform_contracts.releases import (
    LINEAGE_KEYS,
    model_package_group_name,
    package_arn,
    parse_package_arn,
)

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

#: Fields of the source package carried into the imported one (CreateModelPackage members).
CARRIED_FIELDS = (
    "InferenceSpecification",
    "MetadataProperties",
    "ModelMetrics",
    "DriftCheckBaselines",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "CustomerMetadataProperties",
    "AdditionalInferenceSpecifications",
    "SkipModelValidation",
)
#: Fields that name one S3 object, copied and re-pointed.
S3_OBJECT_FIELDS = frozenset({"ModelDataUrl", "S3Uri", "SamplePayloadUrl"})
#: Fields that would no longer match the copies.
DROPPED_FIELDS = frozenset({"ModelDataETag"})


def imported_marker(source_arn: str) -> str:
    """The start of an imported package's description, by which a repeat is recognised."""
    return f"imported from {source_arn}"


@dataclass(kw_only=True)
class PackageImport:
    """Copies one approved package of the previous environment into this one."""

    source_sagemaker: SageMakerClient
    sagemaker: SageMakerClient
    s3: S3Client
    artifacts_bucket: str
    previous: PreviousEnvironment
    partition: str

    def run(self, model: ModelSettings, action: DirectAction) -> dict[str, Any]:
        """Import the version ``action`` names; the outcome as the invocation's result."""
        source_arn = self.source_arn(model.model, action)
        package = self._approved_source(source_arn)
        existing = self._existing(model.model_package_group_name, source_arn)
        if existing is not None:
            return {
                "outcome": "already-imported",
                "model_package_arn": existing,
                "source_package_arn": source_arn,
            }
        version = int(package["ModelPackageVersion"])
        prefix = f"{model.model}/imported/{self.previous.name_prefix}/v{version}"
        copies: dict[str, str] = {}
        request = {
            name: self._copied(package[name], (name,), prefix, copies)
            for name in CARRIED_FIELDS
            if name in package
        }
        description = package.get("ModelPackageDescription")
        request["ModelPackageDescription"] = (
            f"{imported_marker(source_arn)}" + (f": {description}" if description else "")
        )[:1024]
        request["CustomerMetadataProperties"] = {
            **(request.get("CustomerMetadataProperties") or {}),
            **dict(zip(LINEAGE_KEYS, self._lineage(source_arn, version), strict=True)),
        }
        arn = self.sagemaker.create_model_package(
            ModelPackageGroupName=model.model_package_group_name,
            ModelApprovalStatus="PendingManualApproval",
            **request,
        )["ModelPackageArn"]
        return {
            "outcome": "imported",
            "model_package_arn": arn,
            "source_package_arn": source_arn,
            "copied": sorted(copies.values()),
        }

    def source_arn(self, model: str, action: DirectAction) -> str:
        """The ARN of the package to import: a version of the previous environment's group.

        Raises
        ------
        UnusableEventError
            ``not-previous-environment`` when a given ARN is not of that group.
        """
        group = model_package_group_name(self.previous.name_prefix, model)
        if action.source_package_arn is None:
            version = action.version or 0
        else:
            try:
                version = parse_package_arn(action.source_package_arn)[1]
            except ValueError as error:
                raise UnusableEventError("malformed-event", str(error)) from None
        expected = package_arn(
            self.partition, self.previous.region, self.previous.account_id, group, version
        )
        if action.source_package_arn not in (None, expected):
            raise UnusableEventError(
                "not-previous-environment",
                f"{action.source_package_arn} is not a package of {group} in "
                f"{self.previous.account_id}/{self.previous.region}",
            )
        return expected

    def _approved_source(self, source_arn: str) -> dict[str, Any]:
        try:
            package = self.source_sagemaker.describe_model_package(ModelPackageName=source_arn)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                raise UnusableEventError("package-not-found", f"{source_arn}: {error}") from None
            raise
        status = package.get("ModelApprovalStatus")
        if status != "Approved":
            raise UnusableEventError(
                "not-approved-in-source",
                f"{source_arn} is {status} in {self.previous.name_prefix}; only Approved "
                "versions are imported",
            )
        return dict(package)

    def _existing(self, group: str, source_arn: str) -> str | None:
        marker = imported_marker(source_arn)
        paginator = self.sagemaker.get_paginator("list_model_packages")
        for page in paginator.paginate(ModelPackageGroupName=group, ModelPackageType="Versioned"):
            for summary in page.get("ModelPackageSummaryList", []):
                if str(summary.get("ModelPackageDescription", "")).startswith(marker):
                    return str(summary["ModelPackageArn"])
        return None

    def _lineage(self, source_arn: str, version: int) -> tuple[str, str, str, str]:
        return (self.previous.account_id, self.previous.name_prefix, source_arn, str(version))

    def _copied(self, node: Any, path: tuple[str, ...], prefix: str, copies: dict[str, str]) -> Any:
        """``node`` with every S3 object it names copied under ``prefix`` and re-pointed."""
        if isinstance(node, list):
            return [self._copied(v, (*path, str(i)), prefix, copies) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        if node.get("S3DataType") == "S3Prefix":
            raise UnusableEventError(
                "unsupported-package",
                f"{'.'.join(path)} names an S3 prefix; only single objects are imported",
            )
        copied = {}
        for key, value in node.items():
            if key in DROPPED_FIELDS:
                continue
            if key in S3_OBJECT_FIELDS and isinstance(value, str) and value.startswith("s3://"):
                copied[key] = self._copy(value, f"{prefix}/{'/'.join((*path, key))}", copies)
            else:
                copied[key] = self._copied(value, (*path, key), prefix, copies)
        return copied

    def _copy(self, source_uri: str, key_prefix: str, copies: dict[str, str]) -> str:
        if source_uri not in copies:
            source_bucket, source_key = split_s3_uri(source_uri)
            key = f"{key_prefix}/{source_key.rsplit('/', 1)[-1]}"
            # The managed copy switches to multipart (UploadPartCopy) above 8 MB, so a
            # model of any size is copied; the bucket's default key encrypts the copy.
            self.s3.copy({"Bucket": source_bucket, "Key": source_key}, self.artifacts_bucket, key)
            copies[source_uri] = f"s3://{self.artifacts_bucket}/{key}"
        return copies[source_uri]

"""CloudFormation custom resource: which model package an endpoint serves, found at deploy time.

Handler: ``model_package_resolver.lambda_handler``, the service token of
``Custom::ModelPackageVersion`` resources. Synth never calls AWS: the stack names the model
package group and a version (``latest`` or a number); this function looks it up when
CloudFormation creates or updates the resource.

Properties (all strings):

``ModelPackageGroupName``
    The registry group, ``ml-platform-<env>-<model>``.
``ModelVersion``
    ``latest`` (the most recently created package whose status is ``Approved``) or a version
    number (that package, which must be ``Approved``).

Returned attributes: ``ModelPackageArn``, ``ModelPackageVersion``, ``ModelDataUrl`` and
``Image`` (of the package's first inference container). The physical id is the package ARN,
so a different package makes CloudFormation replace the models that serve it.

Nothing is done on ``Delete``: packages belong to the registry. Any failure is reported to
CloudFormation as ``FAILED`` with a one-line reason (e.g. no approved package yet), so the
stack rolls back instead of waiting an hour for a response.

Only the standard library and the Lambda runtime's boto3 are used: the folder is the package.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

LATEST = "latest"


class ResolutionError(Exception):
    """The group or version cannot be served; the message is the reason shown in CloudFormation."""


def resolve(sagemaker: Any, group_name: str, version: str) -> dict[str, str]:
    """The package of ``group_name`` that ``version`` designates, as the resource's attributes."""
    if version == LATEST:
        summaries = sagemaker.list_model_packages(
            ModelPackageGroupName=group_name,
            ModelApprovalStatus="Approved",
            ModelPackageType="Versioned",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        ).get("ModelPackageSummaryList", [])
        if not summaries:
            raise ResolutionError(
                f"model package group {group_name} has no Approved package yet: register and"
                " approve one (or pin a version) before deploying its endpoint"
            )
        arn = summaries[0]["ModelPackageArn"]
    elif version.isdigit() and int(version) >= 1:
        arn = _versioned_arn(sagemaker, group_name, int(version))
    else:
        raise ResolutionError(f"ModelVersion {version!r} is neither 'latest' nor a version number")

    package = sagemaker.describe_model_package(ModelPackageName=arn)
    status = package.get("ModelApprovalStatus")
    if status != "Approved":
        raise ResolutionError(f"model package {arn} is {status}, not Approved")
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    return {
        "ModelPackageArn": arn,
        "ModelPackageVersion": str(package.get("ModelPackageVersion", "")),
        "ModelDataUrl": containers[0].get("ModelDataUrl", ""),
        "Image": containers[0].get("Image", ""),
    }


def _versioned_arn(sagemaker: Any, group_name: str, version: int) -> str:
    group = sagemaker.describe_model_package_group(ModelPackageGroupName=group_name)
    prefix = group["ModelPackageGroupArn"].replace(":model-package-group/", ":model-package/", 1)
    return f"{prefix}/{version}"


def handle(event: dict[str, Any], sagemaker: Any) -> tuple[str, dict[str, str]]:
    """(physical id, attributes) for a custom resource event; raises on failure."""
    request = event.get("RequestType")
    if request == "Delete":
        return event.get("PhysicalResourceId") or "none", {}
    if request not in ("Create", "Update"):
        raise ResolutionError(f"RequestType {request!r} is not Create, Update or Delete")
    properties = event.get("ResourceProperties") or {}
    group_name = properties.get("ModelPackageGroupName")
    if not isinstance(group_name, str) or not group_name:
        raise ResolutionError("ModelPackageGroupName is missing")
    version = str(properties.get("ModelVersion", LATEST))
    attributes = resolve(sagemaker, group_name, version)
    return attributes["ModelPackageArn"], attributes


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Resolve and always answer CloudFormation (``SUCCESS`` or ``FAILED`` with the reason)."""
    shown = ("RequestType", "LogicalResourceId", "ResourceProperties")
    logger.info(json.dumps({key: event.get(key) for key in shown}))
    try:
        physical_id, data = handle(event, boto3.client("sagemaker"))
        send_response(event, context, "SUCCESS", physical_id, data, reason="")
    except Exception as error:  # noqa: BLE001 - every failure must reach CloudFormation
        logger.exception("Resolution failed")
        known = isinstance(error, ResolutionError)
        reason = str(error) if known else f"{type(error).__name__}: {error}"
        unresolved = f"unresolved-{event.get('LogicalResourceId')}"
        physical_id = event.get("PhysicalResourceId") or unresolved
        send_response(event, context, "FAILED", physical_id, {}, reason=reason)


def send_response(
    event: dict[str, Any],
    context: Any,
    status: str,
    physical_id: str,
    data: dict[str, str],
    *,
    reason: str,
) -> None:
    """PUT the result to the pre-signed S3 URL CloudFormation gave (through the S3 gateway)."""
    stream = getattr(context, "log_stream_name", "")
    body = json.dumps(
        {
            "Status": status,
            "Reason": (reason or f"See log stream {stream}")[:1000],
            "PhysicalResourceId": physical_id,
            "StackId": event.get("StackId"),
            "RequestId": event.get("RequestId"),
            "LogicalResourceId": event.get("LogicalResourceId"),
            "NoEcho": False,
            "Data": data,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's https pre-signed URL
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        logger.info("CloudFormation response sent: %s %s", status, response.status)

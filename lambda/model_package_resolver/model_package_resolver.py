"""The platform's deploy-time custom resource provider (design: ``docs/releases.md``).

Handler: ``model_package_resolver.lambda_handler``, the service token of two resource types.
Synth never calls AWS; these run when CloudFormation creates, updates or deletes them.

``Custom::ReleaseRecord`` (in a model's registry stack)
    Property ``ParameterName``: a release record, ``/<prefix>/releases/<model>/<slot>``
    (``platform_contracts.releases``). Create makes the SSM String parameter with the value
    ``none`` unless it exists (``Overwrite=False``; an existing record is kept as it is, so
    a re-created stack does not forget what is served). Update makes the new name's record
    the same way when the name changed, else does nothing. Delete does nothing: the record
    outlives its stack. The physical id is the parameter name.
``Custom::ModelPackage`` (in a model's stack, for each package it serves)
    Property ``ModelPackageArn``: a versioned package, which must be ``Approved``. Returns
    ``ModelDataUrl`` and ``Image`` of its first inference container, and
    ``ModelPackageVersion``. The ARN is a property, so CloudFormation calls again whenever
    the record (and so the ARN) changes. Delete does nothing. The physical id is the ARN.

Every outcome is answered to CloudFormation's pre-signed URL (``SUCCESS``, or ``FAILED``
with a one-line reason); the answer itself is retried with backoff, because a stack waits
up to an hour for an answer that was lost. Only the standard library, the Lambda runtime's
boto3 and the vendored ``platform_contracts`` are used.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from platform_contracts.releases import (
    UNRELEASED,
    RecordChange,
    Slot,
    change_description,
    parse_package_arn,
)

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_ssm import SSMClient

logger = logging.getLogger()
logger.setLevel(logging.INFO)

RELEASE_RECORD = "Custom::ReleaseRecord"
MODEL_PACKAGE = "Custom::ModelPackage"
#: Attempts to deliver the answer to CloudFormation, and the first pause between them (s).
RESPONSE_ATTEMPTS = 6
RESPONSE_BACKOFF_SECONDS = 1.0
_RECORD_NAME = re.compile(
    r"^/[A-Za-z0-9_.-]+/releases/[A-Za-z0-9-]+/(" + "|".join(s.value for s in Slot) + ")$"
)


class ResolutionError(Exception):
    """The request cannot be served; the message is the reason shown in CloudFormation."""


def _property(event: dict[str, Any], name: str) -> str:
    value = (event.get("ResourceProperties") or {}).get(name)
    if not isinstance(value, str) or not value:
        raise ResolutionError(f"{name} is missing or not a string")
    return value


def release_record(event: dict[str, Any], ssm: SSMClient) -> tuple[str, dict[str, str]]:
    """(physical id, attributes) of a ``Custom::ReleaseRecord`` request."""
    name = _property(event, "ParameterName")
    if not _RECORD_NAME.match(name):
        raise ResolutionError(f"ParameterName {name!r} is not /<prefix>/releases/<model>/<slot>")
    if event["RequestType"] == "Delete" or name == event.get("PhysicalResourceId"):
        return name, {}  # the record outlives its stack; an unchanged name needs nothing
    try:
        ssm.put_parameter(
            Name=name,
            Value=UNRELEASED,
            Type="String",
            Overwrite=False,
            Description=change_description(
                RecordChange.CREATED, None, f"no release yet (stack {event.get('StackId')})"
            ),
        )
        logger.info("Release record %s created", name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ParameterAlreadyExists":
            raise
        logger.info("Release record %s exists: kept as it is", name)
    return name, {}


def model_package(event: dict[str, Any], sagemaker: SageMakerClient) -> tuple[str, dict[str, str]]:
    """(physical id, attributes) of a ``Custom::ModelPackage`` request."""
    arn = _property(event, "ModelPackageArn")
    if event["RequestType"] == "Delete":
        return event.get("PhysicalResourceId") or arn, {}
    try:
        parse_package_arn(arn)
    except ValueError as error:
        raise ResolutionError(f"ModelPackageArn: {error}") from None
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    status = package.get("ModelApprovalStatus")
    if status != "Approved":
        raise ResolutionError(f"model package {arn} is {status}, not Approved")
    specification = package.get("InferenceSpecification")
    containers = specification.get("Containers") if specification else None
    first: Mapping[str, Any] = containers[0] if containers else {}
    model_data_url = first.get("ModelDataUrl")
    if not model_data_url:
        raise ResolutionError(f"model package {arn} has no ModelDataUrl in its first container")
    return arn, {
        "ModelDataUrl": model_data_url,
        "Image": first.get("Image", ""),
        "ModelPackageVersion": str(package.get("ModelPackageVersion", "")),
    }


def handle(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(physical id, attributes) for a custom resource request; raises on failure."""
    request = event.get("RequestType")
    if request not in ("Create", "Update", "Delete"):
        raise ResolutionError(f"RequestType {request!r} is not Create, Update or Delete")
    kind = event.get("ResourceType")
    if kind == RELEASE_RECORD:
        return release_record(event, boto3.client("ssm"))
    if kind == MODEL_PACKAGE:
        return model_package(event, boto3.client("sagemaker"))
    if request == "Delete":
        return event.get("PhysicalResourceId") or "none", {}  # never block a stack's deletion
    raise ResolutionError(f"ResourceType {kind!r} is not {RELEASE_RECORD} or {MODEL_PACKAGE}")


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Handle the request and always answer CloudFormation (``SUCCESS`` or ``FAILED``)."""
    shown = ("RequestType", "ResourceType", "LogicalResourceId", "ResourceProperties")
    logger.info(json.dumps({key: event.get(key) for key in shown}, default=str))
    try:
        physical_id, data = handle(event)
        status, reason = "SUCCESS", ""
    except Exception as error:
        logger.exception("Request failed")
        known = isinstance(error, ResolutionError)
        status, reason = "FAILED", str(error) if known else f"{type(error).__name__}: {error}"
        physical_id = event.get("PhysicalResourceId") or f"failed-{event.get('LogicalResourceId')}"
        data = {}
    send_response(event, context, status, physical_id, data, reason=reason)


def send_response(
    event: dict[str, Any],
    context: Any,
    status: str,
    physical_id: str,
    data: dict[str, str],
    *,
    reason: str,
) -> None:
    """PUT the answer to CloudFormation's pre-signed S3 URL, retrying with backoff.

    A transient failure (no connection, a timeout, an S3 5xx) is retried up to
    :data:`RESPONSE_ATTEMPTS` times, 1, 2, 4, ... seconds apart; after the last one the
    error is raised, so that Lambda runs the (idempotent) request again.
    """
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
    for attempt in range(1, RESPONSE_ATTEMPTS + 1):
        try:
            _put(event["ResponseURL"], body)
            logger.info("CloudFormation answered %s (attempt %d)", status, attempt)
            return
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            permanent = isinstance(error, urllib.error.HTTPError) and error.code < 500
            if permanent or attempt == RESPONSE_ATTEMPTS:
                raise
            logger.warning("Answer to CloudFormation failed (%s); retrying", error)
            time.sleep(RESPONSE_BACKOFF_SECONDS * 2 ** (attempt - 1))


def _put(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()

"""Roll an approved model package out to its endpoint; record a rejected one.

Handler: ``model_deployment.lambda_handler``, invoked by the registry's
``SageMaker Model Package State Change`` EventBridge events.

On ``Approved`` (re-read from the registry, so that a stale event deploys nothing):

1. a SageMaker model ``<group>-v<version>`` is created from the package, with the execution
   role, VPC and network isolation of the settings;
2. if the endpoint does not exist, it is created from ``<endpoint>-v<version>``, an endpoint
   config built from the settings' initial variant;
3. otherwise ``<endpoint>-v<version>`` copies the live endpoint config (variants, shadow
   variants, data capture, async inference, KMS key, ...) with the new model substituted in
   the production variants named by the settings, and ``UpdateEndpoint`` shifts traffic with
   the model's ``DeploymentConfig`` (blue/green all at once, canary or linear, or rolling,
   with alarm-based auto-rollback).

Names derive from the package version, never from the clock, so a repeated event (SageMaker
may send several per state change) finds its model and config and does not deploy twice.
On ``Rejected`` a ``ModelPackageRejected`` metric (EMF, one per rejection, dimension
``ModelPackageGroup``) and a log line record it; nothing else happens. Unusable events go to
the dead-letter queue with the reason; AWS errors and busy endpoints raise so Lambda retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from deployment_settings import DeploymentSettings, ModelDeployment, load_settings

logger = Logger(service="model-deployment")

IDEMPOTENCY_KEY_PREFIX = "model-deployment"
REJECTED_METRIC = "ModelPackageRejected"
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


class UnusableEvent(Exception):
    """The event cannot lead to a deployment: it goes to the dead-letter queue, unretried."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class NoDeploymentNeeded(Exception):
    """A well-formed event that asks for nothing (a package awaiting approval)."""


class EndpointNotReady(Exception):
    """The endpoint is being created or updated; raised so that Lambda retries later."""


@dataclass(frozen=True)
class PackageVersion:
    model: ModelDeployment
    arn: str
    version: int
    approval_status: str

    @property
    def group(self) -> str:
        return self.model.model_package_group_name


class ModelDeployer:
    """The function's state for one cold start: settings, clients and the idempotent entry."""

    def __init__(self, settings: DeploymentSettings) -> None:
        self.settings = settings
        self.sagemaker = boto3.client("sagemaker")
        self.dynamodb = boto3.client("dynamodb")
        self.sqs = boto3.client("sqs")
        self.s3 = boto3.client("s3")
        service_model = self.sagemaker.meta.service_model
        self._config_fields = set(
            service_model.operation_model("CreateEndpointConfig").input_shape.members
        ) - {"EndpointConfigName", "Tags"}
        self._variant_fields = set(service_model.shape_for("ProductionVariant").members)
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.idempotency_ttl_seconds,
        )
        self.handle_event: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="event",
            persistence_store=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table_name, boto3_client=self.dynamodb
            ),
            config=self.idempotency_config,
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(self._handle_event)

    def _handle_event(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            package = parse_event(self.settings, event)
        except UnusableEvent as unusable:
            return self.dead_letter(event, unusable)
        except NoDeploymentNeeded as nothing:
            logger.info("Event ignored: it asks for no deployment", extra={"reason": str(nothing)})
            return {"outcome": "ignored", "reason": str(nothing)}

        logger.append_keys(
            model_package_group=package.group,
            model_package_version=package.version,
            approval_status=package.approval_status,
        )
        if package.approval_status == "Rejected":
            return self._record_rejection(package)
        try:
            return self._deploy(package)
        except UnusableEvent as unusable:
            return self.dead_letter(event, unusable)

    # --- Rejected --------------------------------------------------------------------

    def _record_rejection(self, package: PackageVersion) -> dict[str, Any]:
        with single_metric(
            name=REJECTED_METRIC,
            unit=MetricUnit.Count,
            value=1,
            namespace=self.settings.metrics_namespace,
        ) as metric:
            metric.add_dimension(name="ModelPackageGroup", value=package.group)
        logger.info(
            "Model package rejected: recorded, nothing deployed",
            extra={"model_package_arn": package.arn},
        )
        return {"outcome": "rejection-recorded", "model_package_arn": package.arn}

    # --- Approved --------------------------------------------------------------------

    def _deploy(self, package: PackageVersion) -> dict[str, Any]:
        description = self._current_package(package.arn)
        status = str(description.get("ModelApprovalStatus"))
        if status != "Approved":
            logger.warning(
                "Deployment skipped: the package is no longer approved",
                extra={"current_approval_status": status},
            )
            return {"outcome": "skipped-not-approved", "current_approval_status": status}

        model = package.model
        model_name = versioned_name(package.group, package.version)
        config_name = versioned_name(model.endpoint_name, package.version)
        self._ensure_model(model_name, package.arn, model)
        endpoint = self._describe("describe_endpoint", EndpointName=model.endpoint_name)

        if endpoint is None:
            self._ensure_endpoint_config(
                config_name, lambda: self._initial_config(model, model_name)
            )
            self.sagemaker.create_endpoint(
                EndpointName=model.endpoint_name, EndpointConfigName=config_name
            )
            return self._deployed(
                "endpoint-created",
                model_name,
                config_name,
                package=package,
                description=description,
            )

        pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        if config_name in (endpoint["EndpointConfigName"], pending):
            logger.info(
                "Endpoint already runs or is rolling out this version",
                extra={"endpoint_config_name": config_name},
            )
            return {"outcome": "already-deployed", "endpoint_config_name": config_name}
        if endpoint["EndpointStatus"] != "InService":
            raise EndpointNotReady(
                f"endpoint {model.endpoint_name} is {endpoint['EndpointStatus']}; "
                "retry when InService"
            )

        live_config = self.sagemaker.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        self._ensure_endpoint_config(
            config_name, lambda: self._copied_config(live_config, model, model_name)
        )
        self.sagemaker.update_endpoint(
            EndpointName=model.endpoint_name,
            EndpointConfigName=config_name,
            DeploymentConfig=model.rollout.deployment_config(),
        )
        return self._deployed(
            "update-started", model_name, config_name, package=package, description=description
        )

    def _deployed(
        self,
        outcome: str,
        model_name: str,
        config_name: str,
        *,
        package: PackageVersion,
        description: dict[str, Any],
    ) -> dict[str, Any]:
        published = self._publish_baselines(package, description)
        logger.info(
            "Deployment started",
            extra={
                "outcome": outcome,
                "model_name": model_name,
                "endpoint_config_name": config_name,
                "baselines_published": published,
            },
        )
        return {
            "outcome": outcome,
            "model_name": model_name,
            "endpoint_config_name": config_name,
            "baselines_published": published,
        }

    def _publish_baselines(self, package: PackageVersion, description: dict[str, Any]) -> list[str]:
        """Copy the package's drift-check baselines to the paths the monitors read.

        Model Monitor schedules point at ``<BASELINES_URI>/<group>/<monitor>/<file>``; the
        package being rolled out carries its own baselines (computed by its training run),
        so they become the monitors' reference as the package goes live.
        """
        if self.settings.baselines_uri is None:
            return []
        bucket, _, prefix = self.settings.baselines_uri.removeprefix("s3://").partition("/")
        published = []
        baselines = description.get("DriftCheckBaselines") or {}
        for (section, field), (monitor, file_name) in BASELINE_FILES.items():
            source = ((baselines.get(section) or {}).get(field) or {}).get("S3Uri")
            if not source:
                continue
            source_bucket, _, source_key = source.removeprefix("s3://").partition("/")
            key = "/".join(part for part in (prefix, package.group, monitor, file_name) if part)
            self.s3.copy_object(
                Bucket=bucket,
                Key=key,
                CopySource={"Bucket": source_bucket, "Key": source_key},
                ServerSideEncryption="aws:kms",
            )
            published.append(f"s3://{bucket}/{key}")
        return published

    def _current_package(self, package_arn: str) -> dict[str, Any]:
        try:
            return self.sagemaker.describe_model_package(  # type: ignore[no-any-return]
                ModelPackageName=package_arn
            )
        except ClientError as error:
            if _is_not_found(error):
                raise UnusableEvent(
                    "model-package-not-found", f"model package {package_arn} does not exist"
                ) from None
            raise

    def _ensure_model(self, model_name: str, package_arn: str, model: ModelDeployment) -> None:
        if self._describe("describe_model", ModelName=model_name) is not None:
            return
        isolation = self.settings.enable_network_isolation
        arguments: dict[str, Any] = {
            "ModelName": model_name,
            "PrimaryContainer": {"ModelPackageName": package_arn},
            "ExecutionRoleArn": model.execution_role_arn or self.settings.execution_role_arn or "",
            "EnableNetworkIsolation": (
                isolation if model.network_isolation is None else model.network_isolation
            ),
        }
        if self.settings.vpc_config is not None and model.in_vpc:
            arguments["VpcConfig"] = dict(self.settings.vpc_config)
        self.sagemaker.create_model(**arguments)

    def _ensure_endpoint_config(self, name: str, build: Callable[[], dict[str, Any]]) -> None:
        if self._describe("describe_endpoint_config", EndpointConfigName=name) is None:
            self.sagemaker.create_endpoint_config(EndpointConfigName=name, **build())

    def _initial_config(self, model: ModelDeployment, model_name: str) -> dict[str, Any]:
        variant = model.initial_variant
        config: dict[str, Any] = {
            "ProductionVariants": [
                {
                    "VariantName": variant.variant_name,
                    "ModelName": model_name,
                    "InstanceType": variant.instance_type,
                    "InitialInstanceCount": variant.initial_instance_count,
                    "InitialVariantWeight": 1.0,
                }
            ]
        }
        if model.initial_data_capture is not None:
            config["DataCaptureConfig"] = model.initial_data_capture.data_capture_config()
        return config

    def _copied_config(
        self, live: dict[str, Any], model: ModelDeployment, model_name: str
    ) -> dict[str, Any]:
        """The live endpoint config, as CreateEndpointConfig arguments, with the new model."""
        config = {
            key: value
            for key, value in live.items()
            if key in self._config_fields and value not in (None, {}, [])
        }
        config["ProductionVariants"] = [self._variant(v) for v in live["ProductionVariants"]]
        if "ShadowProductionVariants" in config:
            config["ShadowProductionVariants"] = [
                self._variant(v) for v in live["ShadowProductionVariants"]
            ]
        live_names = [v["VariantName"] for v in config["ProductionVariants"]]
        targets = model.variant_names or tuple(live_names)
        missing = [name for name in targets if name not in live_names]
        if missing:
            raise UnusableEvent(
                "variant-not-found",
                f"endpoint {model.endpoint_name} has no production variant(s) {missing}; "
                f"it has {live_names}",
            )
        for variant in config["ProductionVariants"]:
            if variant["VariantName"] in targets:
                variant["ModelName"] = model_name
        return config

    def _variant(self, variant: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in variant.items() if key in self._variant_fields}

    def _describe(self, operation: str, **arguments: str) -> dict[str, Any] | None:
        try:
            return getattr(self.sagemaker, operation)(**arguments)
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise

    # --- Dead letters ----------------------------------------------------------------

    def dead_letter(self, event: Any, unusable: UnusableEvent) -> dict[str, Any]:
        event_id = event.get("id") if isinstance(event, dict) else None
        attributes = {
            "reason": {"DataType": "String", "StringValue": unusable.reason},
            "reason_detail": {"DataType": "String", "StringValue": unusable.detail},
        }
        if isinstance(event_id, str) and event_id:
            attributes["event_id"] = {"DataType": "String", "StringValue": event_id}
        self.sqs.send_message(
            QueueUrl=self.settings.dead_letter_queue_url,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes=attributes,
        )
        logger.error(
            "Event sent to the dead-letter queue",
            extra={"reason": unusable.reason, "reason_detail": unusable.detail},
        )
        return {"outcome": "dead-lettered", "reason": unusable.reason}


def _is_not_found(error: ClientError) -> bool:
    # SageMaker reports a missing model, endpoint, config or package as a ValidationException.
    err = error.response.get("Error", {})
    message = str(err.get("Message", "")).lower()
    return err.get("Code") in ("ValidationException", "ResourceNotFound") and (
        "could not find" in message or "does not exist" in message or "not found" in message
    )


@cache
def runtime() -> ModelDeployer:
    """Built on the first invocation (not at import) so a settings error fails loudly there."""
    return ModelDeployer(load_settings())


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deployer = runtime()
    event_id = event.get("id") if isinstance(event, dict) else None
    logger.append_keys(event_id=event_id)
    if not isinstance(event_id, str) or not event_id:
        # Without an id there is no idempotency key: dead-letter before the idempotent layer.
        return deployer.dead_letter(event, UnusableEvent("missing-field", "event has no 'id'"))
    deployer.idempotency_config.register_lambda_context(context)
    return deployer.handle_event(event=event)


def parse_event(settings: DeploymentSettings, event: dict[str, Any]) -> PackageVersion:
    """Check the event and map it to the configured model, or say why it cannot be."""
    account = event.get("account")
    if account != settings.expected_account_id:
        raise UnusableEvent(
            "wrong-account",
            f"event account {account!r} is not the expected {settings.expected_account_id!r}",
        )
    source, detail_type = event.get("source"), event.get("detail-type")
    if (source, detail_type) != ("aws.sagemaker", "SageMaker Model Package State Change"):
        raise UnusableEvent(
            "unsupported-event",
            f"expected a model package state change, got {source!r}, {detail_type!r}",
        )
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise UnusableEvent("missing-field", "event has no 'detail' object")
    group = _text(detail, "ModelPackageGroupName")
    arn = _text(detail, "ModelPackageArn")
    status = _text(detail, "ModelApprovalStatus")
    version = detail.get("ModelPackageVersion")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise UnusableEvent(
            "missing-field", "detail.ModelPackageVersion is missing or not a positive integer"
        )
    model = settings.models.get(group)
    if model is None:
        raise UnusableEvent(
            "unknown-model", f"no deployment is configured for model package group {group!r}"
        )
    if status == "PendingManualApproval":
        raise NoDeploymentNeeded(f"{arn} awaits manual approval")
    if status not in ("Approved", "Rejected"):
        raise UnusableEvent("unsupported-approval-status", f"approval status {status!r} of {arn}")
    return PackageVersion(model=model, arn=arn, version=version, approval_status=status)


def _text(detail: dict[str, Any], name: str) -> str:
    value = detail.get(name)
    if not isinstance(value, str) or not value:
        raise UnusableEvent("missing-field", f"detail.{name} is missing")
    return value


def versioned_name(base: str, version: int) -> str:
    """``<base>-v<version>`` within SageMaker's 63 characters, the same on every call."""
    suffix = f"-v{version}"
    return base[: 63 - len(suffix)].rstrip("-") + suffix

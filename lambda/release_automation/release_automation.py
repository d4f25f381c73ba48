"""Release approved model versions by changing the release record and updating the stack.

Handler: ``release_automation.lambda_handler`` (design: ``docs/releases.md``). The function
never calls ``CreateEndpoint`` or ``UpdateEndpoint``: it writes the release records
(``release_record``) and asks CloudFormation to update the model's stack
(``model_stack``), which rolls out through the endpoint's own ``DeploymentConfig``.

Invoked by:

- EventBridge ``SageMaker Model Package State Change`` of the environment's groups:
  ``Approved`` releases the version into a slot (the first release into every slot; then
  the candidate slot when the model has one, else the champion); ``Rejected`` returns every
  slot serving the version to what it served before;
- EventBridge ``CloudFormation Stack Status Change`` of the model stacks: after a rollback
  of one of its own updates, the record is set back to what the stack serves and the version
  is marked rolled back; after any other completion, a record the stack does not serve yet
  is rolled out;
- its retry queue (SQS): a stack update that found the stack busy is tried again later;
- direct invocations ``promote-candidate`` and ``import`` (``scripts/releases.py``).

EventBridge events are processed once per event id (Powertools idempotency). Unusable events
(malformed, other account, unknown model) are parked in the dead-letter queue with the
reason on the first attempt; AWS errors raise, so that Lambda (or SQS) retries them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

import boto3
import model_stack
from automation_runtime import AutomationFunction, UnusableEventError
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from package_import import PackageImport
from release_events import (
    PackageStateChange,
    StackStatusChange,
    parse_direct_action,
    parse_eventbridge,
    parse_retry_message,
    retry_message,
)
from release_flow import ReleaseFlow
from release_record import ReleaseRecords
from release_settings import ReleaseAutomationSettings, load_settings

from platform_contracts.model_settings import ModelSettings
from platform_contracts.releases import PROMOTE_CANDIDATE

logger = Logger(service="release-automation")

IDEMPOTENCY_KEY_PREFIX = "release-automation"
#: A busy stack is tried again after 1, 2, 4, 8 then every 15 minutes, for about a day.
MAX_DELAY_SECONDS = 900
MAX_ATTEMPTS = 100
#: Keys this function appends to its log lines, per invocation.
LOGGED_KEYS = ("event_id", "model", "model_package_version", "stack_status", "attempt", "action")


def retry_delay(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1-based): SQS allows at most 900."""
    return min(MAX_DELAY_SECONDS, int(60 * 2 ** (attempt - 1)))  # int ** int is Any to mypy


class ReleaseAutomation(AutomationFunction[ReleaseAutomationSettings]):
    """The function's state for one cold start: settings, clients and the idempotent entry."""

    logged_keys = LOGGED_KEYS

    def __init__(
        self,
        settings: ReleaseAutomationSettings,
        *,
        session: boto3.Session | None = None,
        source_session: boto3.Session | None = None,
    ) -> None:
        super().__init__(
            settings, session=session, logger=logger, key_prefix=IDEMPOTENCY_KEY_PREFIX
        )
        self.flow = ReleaseFlow(
            records=ReleaseRecords(self.ssm, settings.name_prefix),
            sagemaker=self.session.client("sagemaker"),
            s3=self.session.client("s3"),
            cloudformation=self.session.client("cloudformation"),
            role_arn=settings.cloudformation_role_arn,
            logger=logger,
        )
        self.importer = self._importer(source_session)

    def _importer(self, source_session: boto3.Session | None) -> PackageImport | None:
        previous = self.settings.previous
        if previous is None or self.settings.artifacts_bucket_name is None:
            return None
        source = source_session or boto3.Session(region_name=previous.region)
        return PackageImport(
            source_sagemaker=source.client("sagemaker", region_name=previous.region),
            sagemaker=self.flow.sagemaker,
            s3=self.flow.s3,
            artifacts_bucket=self.settings.artifacts_bucket_name,
            previous=previous,
            partition=self.session.get_partition_for_region(self.settings.region),
        )

    # --- entry -------------------------------------------------------------------------

    def on_eventbridge(self, event: dict[str, Any]) -> dict[str, Any]:
        """A package's approval status changed, or a model stack reached a status."""
        change = parse_eventbridge(event, self.settings.account_id)
        if isinstance(change, PackageStateChange):
            return self._on_package_state_change(change)
        return self._on_stack_status_change(change)

    # --- events ------------------------------------------------------------------------

    def _on_package_state_change(self, change: PackageStateChange) -> dict[str, Any]:
        model = self.catalogue.by_group(change.group)
        logger.append_keys(model=model.model, model_package_version=change.version)
        if model.release is None:
            return self.ignored(f"model {model.model} is not served")
        if change.status == "Approved":
            outcome = self.flow.approve(model, change.arn)
        elif change.status == "Rejected":
            outcome = self.flow.reject(model, change.arn)
            self._count("ModelPackageRejected", model)
        else:
            return self.ignored(f"{change.arn} is {change.status}")
        return self._rolled_out(model, outcome)

    def _on_stack_status_change(self, change: StackStatusChange) -> dict[str, Any]:
        model = self.catalogue.by_stack(change.stack_name)
        logger.append_keys(model=model.model, stack_status=change.status)
        outcome = self.flow.after_stack_operation(model, change)
        if outcome.get("outcome") == "rolled-back":
            self._count("ReleaseRolledBack", model)
        return self._rolled_out(model, outcome)

    def on_message(self, record: SQSRecord) -> dict[str, Any]:
        """A message of the retry queue: roll the model's stack out again."""
        try:
            request = parse_retry_message(record.body)
            model = self.catalogue.by_model(request.model)
            logger.append_keys(model=model.model, attempt=request.attempt)
            if request.attempt > MAX_ATTEMPTS:
                raise UnusableEventError(
                    "stack-busy-too-long",
                    f"stack of {model.model} stayed busy for {MAX_ATTEMPTS} attempts",
                )
            return self._rolled_out(model, {"outcome": "retried"}, attempt=request.attempt)
        except UnusableEventError as unusable:
            return self.park_message(record, unusable)

    def on_direct(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """``promote-candidate`` or ``import`` (an ``action``); a refusal is the result, not a
        dead letter."""
        if "action" not in event:
            return None
        try:
            action = parse_direct_action(event)
            model = self.catalogue.by_model(action.model)
            logger.append_keys(model=model.model, action=action.action)
            if action.action == PROMOTE_CANDIDATE:
                outcome = self.flow.promote_candidate(model, action.requested_by)
                return self._rolled_out(model, outcome)
            if self.importer is None:
                raise UnusableEventError(
                    "no-previous-environment", "this environment imports from none"
                )
            return self.importer.run(model, action)
        except UnusableEventError as unusable:
            logger.warning("Action refused", extra={"reason": unusable.reason})
            return {"outcome": "refused", "reason": unusable.reason, "detail": unusable.detail}

    # --- roll-out ----------------------------------------------------------------------

    def _rolled_out(
        self, model: ModelSettings, outcome: dict[str, Any], *, attempt: int = 0
    ) -> dict[str, Any]:
        """Update the model's stack when ``outcome`` asks for it; queue a retry when busy."""
        if not outcome.pop("roll_out", True) or model.release is None:
            return outcome
        state = self.flow.roll_out(model)
        if state == model_stack.BUSY:
            delay = retry_delay(attempt + 1)
            self.sqs.send_message(
                QueueUrl=self.settings.retry_queue_url,
                MessageBody=retry_message(model.model, attempt + 1),
                DelaySeconds=delay,
            )
            logger.info("Stack busy: roll-out queued", extra={"delay_seconds": delay})
        outcome["stack"] = state
        logger.info("Release handled", extra=outcome)
        return outcome

    def _count(self, metric: str, model: ModelSettings) -> None:
        with single_metric(
            name=metric, unit=MetricUnit.Count, value=1, namespace=self.settings.metrics_namespace
        ) as emitted:
            emitted.add_dimension(name="ModelPackageGroup", value=model.model_package_group_name)


def build(environ: Mapping[str, str], **sessions: boto3.Session) -> ReleaseAutomation:
    """The function for ``environ`` (tests pass their own environment and sessions)."""
    return ReleaseAutomation(load_settings(environ), **sessions)


@cache
def runtime() -> ReleaseAutomation:
    """Built on the first invocation (not at import) so a settings error fails loudly there."""
    return build(os.environ)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(
    event: dict[str, Any], context: LambdaContext
) -> dict[str, Any] | PartialItemFailureResponse:
    return runtime().handle(event, context)

"""What every automation function does the same way, vendored into each Lambda package.

``stacks/lambda_packages.py`` copies this module (and ``platform_contracts``) into every
function's package, so that the functions read their settings, check event fields, take
their invocations and park unusable events in one way:

- :func:`required` / :func:`optional`: environment variables, checked, errors in one line
  (:class:`SettingsError`). Only what does not grow with the catalogue is in a function's
  environment; what every function reads is :class:`FunctionSettings`.
- :class:`AutomationFunction`: the entry of a function (SQS batches, direct invocations,
  EventBridge events once per event id), one instance per cold start.
- :class:`ModelCatalogue`: every model's :class:`~platform_contracts.model_settings.ModelSettings`
  document, read with ``GetParametersByPath`` once per cold start (Powertools parameters,
  cached) and read again when an event names a model it does not know yet.
- :func:`field`: a typed read of an event field; a missing or wrong-typed field raises
  :class:`UnusableEventError`, which :class:`DeadLetterQueue` parks with the reason on the first
  attempt (no retry storm). AWS errors are not caught here: they propagate and are retried.
  :func:`eventbridge_kind` and :func:`queue_message` check the envelope of an EventBridge
  event and of a message of a function's own queue.
"""

from __future__ import annotations

import json
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from platform_contracts.model_settings import ModelSettings, settings_path

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef
    from mypy_boto3_ssm import SSMClient

T = TypeVar("T")

#: Seconds between two reads of the settings documents caused by an unknown model.
CATALOGUE_REFRESH_SECONDS = 60
#: How long an EventBridge event id is remembered, unless ``IDEMPOTENCY_TTL_SECONDS`` says.
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86400

ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$")
QUEUE_URL = re.compile(r"^https://\S+$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class SettingsError(ValueError):
    """A missing or invalid environment variable; the message names it and what is allowed."""


def required(
    environ: Mapping[str, str], name: str, pattern: re.Pattern[str] | None = None, allowed: str = ""
) -> str:
    """The value of ``name``, which must be set and match ``pattern`` (described by ``allowed``)."""
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name}: required environment variable is missing or empty")
    if pattern is not None and not pattern.match(value):
        raise SettingsError(f"{name}: expected {allowed}, got {value!r}")
    return value


def optional(
    environ: Mapping[str, str], name: str, pattern: re.Pattern[str] | None = None, allowed: str = ""
) -> str | None:
    """Like :func:`required`, but ``None`` when the variable is unset or empty."""
    if not environ.get(name, "").strip():
        return None
    return required(environ, name, pattern, allowed)


@dataclass(frozen=True, kw_only=True)
class FunctionSettings:
    """What every automation function reads from its environment, validated.

    Nothing here grows with the catalogue: each model's settings are its
    :class:`~platform_contracts.model_settings.ModelSettings` document, read at run time
    (:class:`ModelCatalogue`). Each function's settings add its own variables.

    Environment variables
    ---------------------
    NAME_PREFIX
        The environment's name prefix, ``ml-platform-<env>``: where the settings documents
        live (``/<prefix>/models/``).
    EXPECTED_ACCOUNT_ID
        12-digit account id of the environment; events of any other account are parked.
    AWS_REGION
        Set by Lambda: the environment's region.
    DEAD_LETTER_QUEUE_URL
        SQS queue where unusable events are parked with the reason.
    IDEMPOTENCY_TABLE_NAME
        DynamoDB table (partition key ``id``, TTL attribute ``expiration``) that remembers
        processed EventBridge event ids; ``IDEMPOTENCY_TTL_SECONDS`` (default 86400) how long.
    """

    name_prefix: str
    account_id: str
    region: str
    dead_letter_queue_url: str
    idempotency_table_name: str
    idempotency_ttl_seconds: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS


def load_function_settings(environ: Mapping[str, str] = os.environ) -> FunctionSettings:
    """Read and check the variables of :class:`FunctionSettings`; raise :class:`SettingsError`
    naming the first problem."""
    ttl = environ.get("IDEMPOTENCY_TTL_SECONDS", str(DEFAULT_IDEMPOTENCY_TTL_SECONDS))
    if not ttl.isdigit() or int(ttl) < 1:
        raise SettingsError(f"IDEMPOTENCY_TTL_SECONDS: expected a positive integer, got {ttl!r}")
    return FunctionSettings(
        name_prefix=required(environ, "NAME_PREFIX", NAME_PREFIX, "a name prefix"),
        account_id=required(environ, "EXPECTED_ACCOUNT_ID", ACCOUNT_ID, "12 digits"),
        region=required(environ, "AWS_REGION", REGION, "an AWS region"),
        dead_letter_queue_url=required(environ, "DEAD_LETTER_QUEUE_URL", QUEUE_URL, "an SQS URL"),
        idempotency_table_name=required(environ, "IDEMPOTENCY_TABLE_NAME"),
        idempotency_ttl_seconds=int(ttl),
    )


class UnusableEventError(Exception):
    """The event cannot be acted on: it is parked in the dead-letter queue, never retried."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_MISSING = object()


def field(event: Any, path: str, kind: type[T]) -> T:
    """``event[a][b]...`` for ``path`` ``"a.b"``, of type ``kind``.

    Raises
    ------
    UnusableEventError
        ``malformed-event``, naming the field, when it is missing, empty or of another type
        (a ``bool`` is not an ``int``).
    """
    value: Any = event
    for part in path.split("."):
        value = value.get(part, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING:
            raise UnusableEventError("malformed-event", f"{path} is missing")
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        shown = json.dumps(value, default=str)[:80]
        raise UnusableEventError("malformed-event", f"{path} is {shown}, not {kind.__name__}")
    if kind is str and not value:
        raise UnusableEventError("malformed-event", f"{path} is empty")
    return value


def eventbridge_kind(event: Any, account_id: str) -> tuple[str, str]:
    """``(source, detail-type)`` of an EventBridge event, which must be ``account_id``'s.

    Raises
    ------
    UnusableEventError
        ``wrong-account`` for another account's event, ``malformed-event`` (:func:`field`).
    """
    account = field(event, "account", str)
    if account != account_id:
        raise UnusableEventError("wrong-account", f"account {account!r} is not {account_id!r}")
    return field(event, "source", str), field(event, "detail-type", str)


def queue_message(body: str, kind: str) -> dict[str, Any]:
    """The JSON object of a message of a function's own queue, whose ``kind`` is ``kind``.

    Raises
    ------
    UnusableEventError
        ``malformed-event`` when the body is not JSON or its ``kind`` is another.
    """
    try:
        message = json.loads(body)
    except json.JSONDecodeError as error:
        raise UnusableEventError("malformed-event", f"message body is not JSON: {error}") from None
    found = field(message, "kind", str)  # raises unless the message is an object
    if found != kind:
        raise UnusableEventError("malformed-event", f"kind {found!r} is not {kind!r}")
    return cast("dict[str, Any]", message)


class DeadLetterQueue:
    """Parks unusable events in an SQS queue, with the reason as message attributes."""

    def __init__(self, sqs: SQSClient, queue_url: str, logger: Logger) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.logger = logger

    def park(self, event: Any, unusable: UnusableEventError) -> dict[str, Any]:
        """Send ``event`` to the queue; log it; return the handler's result for it."""
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            "reason": {"DataType": "String", "StringValue": unusable.reason},
            "reason_detail": {"DataType": "String", "StringValue": unusable.detail[:1000]},
        }
        event_id = event.get("id") if isinstance(event, dict) else None
        if isinstance(event_id, str) and event_id:
            attributes["event_id"] = {"DataType": "String", "StringValue": event_id}
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes=attributes,
        )
        self.logger.error(
            "Event parked in the dead-letter queue",
            extra={"reason": unusable.reason, "reason_detail": unusable.detail},
        )
        return {"outcome": "dead-lettered", "reason": unusable.reason, "detail": unusable.detail}


class ModelCatalogue:
    """Every model's settings document under ``/<name prefix>/models/``, cached.

    Read once per cold start, and again (at most once a minute) when an event names a model
    that is not known yet, e.g. one whose stack was deployed after the cold start. A
    document that does not parse is kept as an error for its model (an event for that model
    is unusable, with the reason) instead of failing every other model.
    """

    def __init__(
        self, ssm: SSMClient, name_prefix: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._provider = SSMProvider(boto3_client=ssm)
        self._prefix = name_prefix
        self._path = settings_path(name_prefix)
        self._clock = clock
        self._loaded_at: float | None = None
        self.models: dict[str, ModelSettings] = {}
        self.invalid: dict[str, str] = {}

    def load(self) -> None:
        """Read every document (``GetParametersByPath``, recursive)."""
        documents = self._provider.get_multiple(
            self._path.rstrip("/"), recursive=True, force_fetch=True
        )
        self.models, self.invalid = {}, {}
        for name, text in documents.items():
            model, _, leaf = name.rpartition("/")
            if leaf != "settings" or not model or "/" in model:
                continue
            try:
                self.models[model] = ModelSettings.from_json(str(text))
            except ValueError as error:
                self.invalid[model] = f"{self._path}{name}: {error}"
        self._loaded_at = self._clock()

    def by_model(self, model: str) -> ModelSettings:
        """The settings of ``model`` (see :meth:`find` for the errors)."""
        return self.find(lambda m: m.model == model, f"for model {model!r}", model)

    def by_group(self, group: str) -> ModelSettings:
        """The model whose registry group is ``group``."""
        hint = group.removeprefix(f"{self._prefix}-")
        return self.find(
            lambda m: m.model_package_group_name == group, f"names group {group!r}", hint
        )

    def by_stack(self, stack_name: str) -> ModelSettings:
        """The model whose release rolls out through stack ``stack_name``."""
        hint = stack_name.removeprefix(f"{self._prefix}-model-")
        return self.find(
            lambda m: m.release is not None and m.release.stack_name == stack_name,
            f"names stack {stack_name!r}",
            hint,
        )

    def find(
        self,
        matches: Callable[[ModelSettings], bool],
        what: str,
        hint: str | Callable[[str], bool],
    ) -> ModelSettings:
        """The first model that ``matches``; the documents are read again once if none does.

        Parameters
        ----------
        matches:
            Whether a model's settings are the ones looked for.
        what:
            What was looked for, for the error (``names group 'x'``).
        hint:
            The model whose document, when it does not parse, is the reason nothing
            matched: its name, or a test of a model name.

        Raises
        ------
        UnusableEventError
            ``invalid-settings`` when the document of the ``hint`` model does not parse, or
            ``unknown-model`` when no document matches.
        """
        if self._loaded_at is None:
            self.load()
        found = self._match(matches)
        if found is None and self._clock() - (self._loaded_at or 0) > CATALOGUE_REFRESH_SECONDS:
            self.load()
            found = self._match(matches)
        if found is not None:
            return found
        suspect = hint if callable(hint) else hint.__eq__
        invalid = next((error for name, error in self.invalid.items() if suspect(name)), None)
        if invalid is not None:
            raise UnusableEventError("invalid-settings", invalid)
        raise UnusableEventError("unknown-model", f"no settings document under {self._path} {what}")

    def _match(self, matches: Callable[[ModelSettings], bool]) -> ModelSettings | None:
        return next((model for model in self.models.values() if matches(model)), None)


SettingsT = TypeVar("SettingsT", bound=FunctionSettings)


class AutomationFunction(ABC, Generic[SettingsT]):
    """The entry of an automation function, built once per cold start (see :meth:`handle`).

    Its clients come from ``session`` (by default one of the settings' region); its model
    catalogue reads the settings documents; EventBridge events are processed once per event
    id (Powertools idempotency, in the idempotency table, keys ``<key_prefix>#<hash>``).
    """

    #: Keys the function appends to its log lines, per invocation (removed at each start).
    logged_keys: tuple[str, ...] = ("event_id",)

    def __init__(
        self,
        settings: SettingsT,
        *,
        session: boto3.Session | None,
        logger: Logger,
        key_prefix: str,
    ) -> None:
        self.settings = settings
        self.session = session or boto3.Session(region_name=settings.region)
        self.logger = logger
        self.sqs = self.session.client("sqs")
        self.ssm = self.session.client("ssm")
        self.dynamodb = self.session.client("dynamodb")
        self.catalogue = ModelCatalogue(self.ssm, settings.name_prefix)
        self.dead_letters = DeadLetterQueue(self.sqs, settings.dead_letter_queue_url, logger)
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.idempotency_ttl_seconds,
        )
        self.handle_eventbridge: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="event",
            persistence_store=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table_name, boto3_client=self.dynamodb
            ),
            config=self.idempotency_config,
            key_prefix=key_prefix,
        )(self._handle_eventbridge)

    def handle(
        self, event: Any, context: LambdaContext
    ) -> dict[str, Any] | PartialItemFailureResponse:
        """Dispatch on the kind of invocation: an SQS batch (``Records``) goes message by
        message to :meth:`on_message`, failures reported per item; a direct invocation to
        :meth:`on_direct`; an EventBridge event, once per event id, to :meth:`on_eventbridge`.
        An unusable event is parked in the dead-letter queue with the reason."""
        # A warm start keeps the last invocation's keys.
        self.logger.remove_keys(list(self.logged_keys))
        if isinstance(event, dict) and "Records" in event:
            processor = BatchProcessor(event_type=EventType.SQS)
            return process_partial_response(
                event=event, record_handler=self.on_message, processor=processor, context=context
            )
        direct = self.on_direct(event) if isinstance(event, dict) else None
        if direct is not None:
            return direct
        event_id = event.get("id") if isinstance(event, dict) else None
        self.logger.append_keys(event_id=event_id)
        if not isinstance(event_id, str) or not event_id:
            # Without an id there is no idempotency key: park it before the idempotent layer.
            missing = UnusableEventError("malformed-event", "id is missing")
            return self.dead_letters.park(event, missing)
        self.idempotency_config.register_lambda_context(context)
        return self.handle_eventbridge(event=event)

    def _handle_eventbridge(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.on_eventbridge(event)
        except UnusableEventError as unusable:
            return self.dead_letters.park(event, unusable)

    @abstractmethod
    def on_eventbridge(self, event: dict[str, Any]) -> dict[str, Any]:
        """Act on an EventBridge event (with an id); :class:`UnusableEventError` parks it."""

    @abstractmethod
    def on_message(self, record: SQSRecord) -> dict[str, Any]:
        """Act on a message of the function's own queue (see :meth:`park_message`)."""

    def on_direct(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The result of a direct invocation, or ``None`` when ``event`` is not one (by
        default the function takes none)."""
        del event
        return None

    def park_message(self, record: SQSRecord, unusable: UnusableEventError) -> dict[str, Any]:
        """Park an unusable queue message (its id and body) in the dead-letter queue."""
        return self.dead_letters.park({"id": record.message_id, "body": record.body}, unusable)

    def ignored(self, reason: str) -> dict[str, Any]:
        """The outcome of an event that needs nothing done, logged."""
        self.logger.info("Event ignored", extra={"reason": reason})
        return {"outcome": "ignored", "reason": reason}

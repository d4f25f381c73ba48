"""What every automation function does the same way, vendored into each Lambda package.

``stacks/lambda_packages.py`` copies this module (and ``platform_contracts``) into every
function's package, so that the functions read their settings, check event fields and park
unusable events in one way:

- :func:`required` / :func:`optional`: environment variables, checked, errors in one line
  (:class:`SettingsError`). Only what does not grow with the catalogue is in a function's
  environment.
- :class:`ModelCatalogue`: every model's :class:`~platform_contracts.model_settings.ModelSettings`
  document, read with ``GetParametersByPath`` once per cold start (Powertools parameters,
  cached) and read again when an event names a model it does not know yet.
- :func:`field`: a typed read of an event field; a missing or wrong-typed field raises
  :class:`UnusableEventError`, which :class:`DeadLetterQueue` parks with the reason on the first
  attempt (no retry storm). AWS errors are not caught here: they propagate and are retried.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import SSMProvider

from platform_contracts.model_settings import ModelSettings, settings_path

if TYPE_CHECKING:  # the stubs are a development dependency; the Lambda runtime lacks them
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef
    from mypy_boto3_ssm import SSMClient

T = TypeVar("T")

#: Seconds between two reads of the settings documents caused by an unknown model.
CATALOGUE_REFRESH_SECONDS = 60

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

"""The base of every configuration model, the errors of the configuration, and their wording."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

#: The longest error line printed; a longer one is cut (values are already shortened).
MAX_ERROR_LINE = 2000


class ConfigError(Exception):
    """A configuration file is missing, malformed or invalid; the message is one line.

    Whatever text it is given, the message holds no line break or other control character
    (they are shown escaped) and at most :data:`MAX_ERROR_LINE` characters, so that every
    configuration error prints as exactly one line.
    """

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class FieldError(ValueError):
    """A cross-field check failed on one field: names it, relative to the model checked.

    Attributes
    ----------
    field:
        Dotted path of the field, relative to the model checked (``studio.shared_spaces[0].owner``).
    value:
        The value found there.
    message:
        What is wrong and what is allowed, one line.
    """

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.message = message


class Frozen(BaseModel):
    """Base of every configuration model: immutable, unknown keys rejected.

    Non-finite floats (``.inf``, ``-.inf``, ``.nan``) are refused by every float field: no
    AWS setting takes them, and CDK fails on them with a traceback.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=False, allow_inf_nan=False
    )


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, cut to a bounded length."""
    shown = "".join(
        char
        if char == " " or unicodedata.category(char)[0] not in "CZ"
        else char.encode("unicode_escape").decode("ascii")
        for char in text[: MAX_ERROR_LINE * 2]
    )
    return shown if len(shown) <= MAX_ERROR_LINE else shown[: MAX_ERROR_LINE - 3] + "..."


#: pydantic error types whose value is not a number where one is expected.
NUMBER_ERRORS = frozenset(
    {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "bool_type"}
)

_FIXED_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (check the spelling against docs/configuration.md)",
    "string_type": "must be a string (quote it)",
    "finite_number": "is not a finite number (inf and nan are not allowed)",
}


def problem_message(error: Mapping[str, Any]) -> str:
    """What is wrong with one pydantic error's value and what is allowed, after the value."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[kind]
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in {"enum", "literal_error"}:
        return f"is not allowed (allowed: {context.get('expected', '')})"
    message = str(error["msg"])
    return "is invalid: " + message[:1].lower() + message[1:]

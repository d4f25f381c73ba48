"""The base of every configuration model, and the error a cross-field check raises."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict


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
    """Base of every configuration model: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


def problem_message(error: Mapping[str, Any]) -> str:
    """What is wrong with one pydantic error's value and what is allowed, after the value."""
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling against README's configuration table)"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "enum" or kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"is not allowed (allowed: {expected})"
    if kind == "string_type":
        return "must be a string (quote it)"
    return "is invalid: " + str(error["msg"])[0].lower() + str(error["msg"])[1:]

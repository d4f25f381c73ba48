"""The base of every configuration model, and the error a cross-field check raises."""

from __future__ import annotations

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

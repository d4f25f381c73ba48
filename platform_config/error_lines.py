"""Turns a pydantic ``ValidationError`` into the one line a user reads.

pydantic locates an error by its own schema: a value that fails every member of a union
(``StrictFloat | StrictInt``) gives one error per member, located at
``quality_threshold.float`` and ``quality_threshold.int``. The user wrote
``quality_threshold``: :func:`first_problem` keeps only the parts of the location that exist
in the data as written (plus the name of a missing field), merges the errors of one field,
and words them for the user (``'abc' is not a number``). Values are shown by
:func:`short_value`, which never renders more than a few dozen elements, however large or
shared (aliased) the value is.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from platform_config.base import NUMBER_ERRORS, FieldError, problem_message
from platform_config.yaml_reader import field_path

#: Longest value shown in an error line.
MAX_VALUE_CHARS = 80
#: Errors that only follow from another field's (a default computed from a refused value).
CONSEQUENCES = frozenset({"default_factory_not_called"})

_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = 4
_REPR.maxdict = 3
_REPR.maxstring = MAX_VALUE_CHARS
_REPR.maxother = MAX_VALUE_CHARS
_REPR.maxlong = 40


@dataclass(frozen=True)
class Problem:
    """The first problem of a validation error, as the user wrote the data.

    Attributes
    ----------
    path:
        Location in the validated data: mapping keys and list indexes.
    value:
        The value found there (``None`` and :attr:`missing` for a missing field).
    missing:
        The field is required and absent (no value is shown).
    message:
        What is wrong and what is allowed, read after the value.
    others:
        How many other fields have a problem.
    """

    path: tuple[str | int, ...]
    value: Any
    missing: bool
    message: str
    others: int

    def line(self, path_text: str | None = None) -> str:
        """``<field>: <value> <message> (and N more)``, ``path_text`` replacing the field."""
        where = path_text if path_text is not None else field_path(list(self.path))
        shown = "" if self.missing else f"{short_value(self.value)} "
        more = f" (and {self.others} more)" if self.others else ""
        return f"{where or '(top level)'}: {shown}{self.message}{more}"


def first_problem(error: ValidationError, data: Any) -> Problem:
    """The first problem of ``error``, raised validating ``data``, located as written."""
    groups: dict[tuple[str | int, ...], list[dict[str, Any]]] = {}
    for item in error.errors():
        if item["type"] in CONSEQUENCES:
            continue
        groups.setdefault(_user_path(item, data), []).append(dict(item))
    # A misspelt key explains the required field it leaves missing: name the typo first.
    ordered = sorted(groups.items(), key=lambda group: group[1][0]["type"] != "extra_forbidden")
    path, items = ordered[0]
    first = items[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        extra = _split_field(cause.field)
        return Problem(path + extra, cause.value, False, cause.message, len(groups) - 1)
    missing = first["type"] == "missing"
    if all(item["type"] in NUMBER_ERRORS for item in items) and len(items) > 1:
        message = "is not a number"
    else:
        message = problem_message(first)
    return Problem(path, first.get("input"), missing, message, len(groups) - 1)


def short_value(value: Any) -> str:
    """A bounded, one-line rendering of ``value`` (enums by their value)."""
    if isinstance(value, dict):
        return "{...}"
    if hasattr(value, "value") and not isinstance(value, list | tuple):
        value = value.value
    text = _REPR.repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _user_path(error: Any, data: Any) -> tuple[str | int, ...]:
    """The parts of the error's location that exist in ``data`` (and a missing field's name)."""
    location = list(error["loc"])
    path: list[str | int] = []
    current = data
    for index, part in enumerate(location):
        if isinstance(current, dict) and part in current:
            current = current[part]
            path.append(part)
        elif isinstance(current, list | tuple) and isinstance(part, int):
            if 0 <= part < len(current):
                current = current[part]
                path.append(part)
        elif error["type"] == "missing" and index == len(location) - 1:
            path.append(part)
    return tuple(path)


def _split_field(field: str) -> tuple[str | int, ...]:
    """``shared_spaces[0].owner`` -> ``('shared_spaces', 0, 'owner')``."""
    parts: list[str | int] = []
    for piece in field.split("."):
        if not piece:
            continue
        name, *indexes = piece.replace("]", "").split("[")
        if name:
            parts.append(name)
        parts.extend(int(index) for index in indexes if index.isdigit())
    return tuple(parts)

"""Schedule expressions: EventBridge's grammar, and the subset Model Monitor accepts.

EventBridge (``pipeline.schedule``), from the EventBridge User Guide, "Schedule expressions
for rules":

* ``rate(<value> <unit>)``: a positive whole number and ``minute``, ``hour`` or ``day``,
  singular for 1 and plural (``minutes``...) otherwise;
* ``cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)``: minutes 0-59,
  hours 0-23, day-of-month 1-31, month 1-12 or ``JAN``-``DEC``, day-of-week 1-7 or
  ``SUN``-``SAT``, year 1970-2199; in each field ``*``, a value, a range ``a-b``, a step
  ``a/n``, ``*/n`` or ``a-b/n``, or a comma-separated list of those; ``L`` (last), ``LW``
  and ``<n>W`` (nearest weekday) alone in day-of-month; ``L``, ``<d>L`` (last weekday
  ``d`` of the month) and ``<d>#<n>`` (``n``-th weekday ``d``) alone in day-of-week;
  exactly one of day-of-month and day-of-week is ``?``.

Model Monitor (``monitoring.schedule``), from the ``ScheduleConfig`` API reference:
``cron(0 * ? * * *)`` (hourly), ``cron(0 <H> ? * * *)`` (daily at hour ``H``, 0-23) and
``cron(0 <H>/<N> ? * * *)`` (every ``N`` hours, 1-24, from hour ``H``). Nothing more
frequent than hourly, and no other form.

Each check returns the expression or raises ``ValueError`` with a message that reads after
the value, for pydantic's ``AfterValidator``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The longest schedule expression EventBridge and SageMaker take (``ScheduleExpression``).
MAX_LENGTH = 256

EVENTBRIDGE_ALLOWED = (
    "is not an EventBridge schedule expression (allowed: rate(<n> minute[s]|hour[s]|day[s])"
    " or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>),"
    " e.g. cron(0 3 ? * MON *))"
)
MODEL_MONITOR_ALLOWED = (
    "is not a schedule Model Monitor accepts (allowed: cron(0 * ? * * *) hourly,"
    " cron(0 <H> ? * * *) daily at hour H (0-23), or cron(0 <H>/<N> ? * * *) every N hours"
    " (1-24) from hour H)"
)

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    """One field of a cron expression: its name, bounds and names of values."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def value(self, text: str) -> int:
        """The number ``text`` stands for; ``ValueError`` (the reason) if out of bounds."""
        if text.upper() in self.names:
            return self.names.index(text.upper()) + self.low
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a number{self._named()}")
        number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(f"{number} is out of range {self.low}-{self.high}")
        return number

    def _named(self) -> str:
        return f" or one of {self.names[0]}-{self.names[-1]}" if self.names else ""


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS),
    _Field("year", 1970, 2199),
)
_DAY_OF_MONTH, _DAY_OF_WEEK = 2, 4


def eventbridge_schedule(value: str) -> str:
    """``value`` if it is an EventBridge ``rate(...)`` or ``cron(...)`` expression."""
    if len(value) > MAX_LENGTH:
        raise ValueError(f"{EVENTBRIDGE_ALLOWED}; it is longer than {MAX_LENGTH} characters")
    rate = _RATE.fullmatch(value)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1 or (count == 1) == unit.endswith("s"):
            units = "minute, hour or day" if count == 1 else "minutes, hours or days"
            raise ValueError(f"{EVENTBRIDGE_ALLOWED}; with {count} write {units}")
        return value
    cron = _CRON.fullmatch(value)
    if not cron:
        raise ValueError(EVENTBRIDGE_ALLOWED)
    try:
        cron_fields(cron.group(1))
    except ValueError as error:
        raise ValueError(f"{EVENTBRIDGE_ALLOWED}; {error}") from None
    return value


def cron_fields(text: str) -> list[str]:
    """The six fields of a cron expression's body; ``ValueError`` saying what is wrong."""
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"it has {len(fields)} fields, not {len(_FIELDS)}")
    for index, (part, field) in enumerate(zip(fields, _FIELDS, strict=True)):
        try:
            _check_field(part, field, index)
        except ValueError as error:
            raise ValueError(f"{part!r} is not a valid {field.name} field ({error})") from None
    if (fields[_DAY_OF_MONTH] == "?") == (fields[_DAY_OF_WEEK] == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    return fields


def _check_field(text: str, field: _Field, index: int) -> None:
    if text == "?":
        if index not in (_DAY_OF_MONTH, _DAY_OF_WEEK):
            raise ValueError("'?' is only for day-of-month or day-of-week")
        return
    if index == _DAY_OF_MONTH and re.fullmatch(r"L|LW|\d{1,2}W", text):
        if text not in ("L", "LW"):
            field.value(text[:-1])
        return
    if index == _DAY_OF_WEEK and re.fullmatch(r"L|\w{1,3}L|\w{1,3}#\d", text, re.ASCII):
        if "#" in text:
            day, nth = text.split("#")
            field.value(day)
            if not 1 <= int(nth) <= 5:
                raise ValueError(f"#{nth}: a month has a 1st to a 5th weekday")
        elif text != "L":
            field.value(text[:-1])
        return
    for item in text.split(","):
        _check_item(item, field)


def _check_item(item: str, field: _Field) -> None:
    """One item of a list: ``*``, ``a``, ``a-b``, each optionally ``/step``."""
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and 1 <= int(step) <= field.high - field.low + 1):
        raise ValueError(f"step {step!r} must be from 1 to {field.high - field.low + 1}")
    if base == "*":
        return
    low, dash, high = base.partition("-")
    if not low:
        raise ValueError(f"{item!r} is not a value, a range or a step")
    field.value(low)
    if dash:
        field.value(high)


def model_monitor_schedule(value: str) -> str:
    """``value`` if it is one of the cron forms Model Monitor accepts (see the module)."""
    if value.startswith("rate("):
        raise ValueError(
            "must be a cron(...) expression (Model Monitor's form: cron(0 * ? * * *) hourly,"
            " cron(0 <H> ? * * *) daily, cron(0 <H>/<N> ? * * *) every N hours)"
        )
    cron = _CRON.fullmatch(value)
    if not cron:
        raise ValueError(MODEL_MONITOR_ALLOWED)
    try:
        minutes, hours, day_of_month, month, day_of_week, year = cron_fields(cron.group(1))
    except ValueError as error:
        raise ValueError(f"{MODEL_MONITOR_ALLOWED}; {error}") from None
    every_day = (day_of_month, month, day_of_week, year) == ("?", "*", "*", "*")
    hour, _, step = hours.partition("/")
    hourly_form = hours == "*" or (
        hour.isdigit() and int(hour) <= 23 and (not step or 1 <= int(step) <= 24)
    )
    if minutes != "0" or not every_day or not hourly_form:
        raise ValueError(MODEL_MONITOR_ALLOWED)
    return value

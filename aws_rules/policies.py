"""A small IAM policy evaluator for resolved policy documents (see ``aws_rules.resolve``).

It answers one question: does a set of policies allow one request, made by a service
principal or a role, for one action on one resource, with the request context a service
sends (``aws:SourceArn``, ``aws:SourceAccount``, ``kms:EncryptionContext:...``)? As IAM
does: an explicit ``Deny`` wins, else an ``Allow`` is needed.

Conditions are evaluated against the context: the string, ARN, boolean and ``Null``
operators, with ``IfExists`` and the ``ForAnyValue:``/``ForAllValues:`` prefixes. A condition
on a key the context does not hold cannot be proven: it does not let an ``Allow`` apply, and
it lets a ``Deny`` apply (both the conservative choice, so that a finding is never missed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

#: Context every request from an AWS service carries: TLS, version 1.2 at least.
DEFAULT_CONTEXT: Mapping[str, str] = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.2"}


@dataclass(frozen=True)
class Request:
    """One request: who (a service principal or a principal ARN), what, on what, and its
    context."""

    action: str
    resource: str
    service: str | None = None
    principal_arn: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def account(self) -> str | None:
        """The principal's account (from ``principal_arn``), for ``arn:...:root`` grants."""
        if self.principal_arn and self.principal_arn.count(":") >= 5:
            return self.principal_arn.split(":")[4]
        return None


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE if ignore_case else 0)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches the IAM wildcard ``pattern`` (``*`` and ``?``)."""
    return bool(_glob(pattern, ignore_case).match(value))


#: In :func:`patterns_overlap`: stands for one ARN segment (any text without ``:``), as a
#: variable of a Service Authorization Reference ARN format does (``${Region}``).
SEGMENT = "\x00"


def patterns_overlap(first: str, second: str) -> bool:
    """Whether some string matches both wildcard patterns (``*``, ``?`` and
    :data:`SEGMENT` on either side)."""

    def consumes(wildcard: str, char: str) -> bool:
        return wildcard == "*" or char != ":"

    @cache
    def overlap(i: int, j: int) -> bool:
        if i == len(first) and j == len(second):
            return True
        if i < len(first) and first[i] in ("*", SEGMENT):
            if overlap(i + 1, j):
                return True
            return j < len(second) and consumes(first[i], second[j]) and overlap(i, j + 1)
        if j < len(second) and second[j] in ("*", SEGMENT):
            if overlap(i, j + 1):
                return True
            return i < len(first) and consumes(second[j], first[i]) and overlap(i + 1, j)
        if i == len(first) or j == len(second):
            return False
        same = first[i] == second[j] or "?" in (first[i], second[j])
        return same and overlap(i + 1, j + 1)

    return overlap(0, 0)


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of a resolved policy document (none for anything else)."""
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def action_applies(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's ``Action`` (or ``NotAction``) covers ``action``."""
    if "NotAction" in statement:
        return not any(
            matches(p, action, ignore_case=True) for p in as_list(statement["NotAction"])
        )
    return any(matches(str(p), action, ignore_case=True) for p in as_list(statement.get("Action")))


def resource_applies(statement: Mapping[str, Any], resource: str) -> bool:
    """Whether the statement's ``Resource`` (or ``NotResource``) covers ``resource``; a
    statement without either (a key or resource policy may omit it) covers all."""
    if "NotResource" in statement:
        return not any(matches(str(p), resource) for p in as_list(statement["NotResource"]))
    if "Resource" not in statement:
        return True
    return any(matches(str(p), resource) for p in as_list(statement["Resource"]))


def principal_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Whether the statement's ``Principal`` names the requester (absent: an identity
    policy, which applies to the identity it is attached to)."""
    if "Principal" not in statement and "NotPrincipal" not in statement:
        return True
    principal = statement.get("Principal", {})
    if principal == "*":
        return True
    services = [str(s) for s in as_list(principal.get("Service"))]
    if request.service is not None:
        return request.service in services or "*" in as_list(principal.get("AWS"))
    for entry in map(str, as_list(principal.get("AWS"))):
        arn = f"arn:aws:iam::{entry}:root" if re.fullmatch(r"\d{12}", entry) else entry
        if arn in ("*", request.principal_arn):
            return True
    return False


#: Condition operator -> test of (the policy's pattern, the context's value).
_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringEqualsIgnoreCase": lambda pattern, value: pattern.lower() == value.lower(),
    "StringLike": matches,
    "ArnEquals": lambda pattern, value: pattern == value,
    "ArnLike": matches,
    "Bool": lambda pattern, value: pattern.lower() == value.lower(),
    "NumericEquals": lambda pattern, value: float(value) == float(pattern),
    "NumericLessThan": lambda pattern, value: float(value) < float(pattern),
    "NumericLessThanEquals": lambda pattern, value: float(value) <= float(pattern),
    "NumericGreaterThan": lambda pattern, value: float(value) > float(pattern),
    "NumericGreaterThanEquals": lambda pattern, value: float(value) >= float(pattern),
}
_NEGATIONS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def condition_holds(
    operator: str, key: str, expected: Any, context: Mapping[str, str]
) -> bool | None:
    """Whether one condition holds; ``None`` when it cannot be decided offline."""
    operator = operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: on one value
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    value = context.get(key)
    if operator == "Null":
        return (value is None) == (str(as_list(expected)[0]).lower() == "true")
    if value is None:
        return True if if_exists else None
    negated = operator in _NEGATIONS
    test = _OPERATORS.get(_NEGATIONS.get(operator, operator))
    if test is None:
        return None
    hit = any(test(str(pattern), value) for pattern in as_list(expected))
    return not hit if negated else hit


def conditions_hold(statement: Mapping[str, Any], context: Mapping[str, str]) -> bool | None:
    """All conditions of the statement: True, False, or ``None`` (undecidable)."""
    results = [
        condition_holds(operator, key, expected, {**DEFAULT_CONTEXT, **context})
        for operator, block in (statement.get("Condition") or {}).items()
        for key, expected in (block or {}).items()
    ]
    if any(result is False for result in results):
        return False
    return None if any(result is None for result in results) else True


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Whether the statement applies to ``request`` (undecidable conditions: an Allow does
    not apply, a Deny does)."""
    if not (
        action_applies(statement, request.action)
        and resource_applies(statement, request.resource)
        and principal_applies(statement, request)
    ):
        return False
    held = conditions_hold(statement, request.context)
    if held is None:
        return statement.get("Effect") == "Deny"
    return held


def decision(documents: Iterable[Any], request: Request) -> str:
    """``"deny"`` (an explicit Deny), ``"allow"`` or ``"implicit-deny"``."""
    allowed = False
    for document in documents:
        for statement in statements(document):
            if statement_applies(statement, request):
                if statement.get("Effect") == "Deny":
                    return "deny"
                allowed = True
    return "allow" if allowed else "implicit-deny"


def allowed(documents: Sequence[Any], request: Request) -> bool:
    """Whether ``documents`` allow ``request`` (see :func:`decision`)."""
    return decision(documents, request) == "allow"


def not_denied(documents: Sequence[Any], request: Request) -> bool:
    """Whether no statement of ``documents`` explicitly denies ``request``."""
    return decision(documents, request) != "deny"


def grants_account(documents: Sequence[Any], request: Request) -> bool:
    """Whether the documents (a key policy) allow the request to the principal's whole
    account (``arn:aws:iam::<account>:root``), which lets identity policies decide."""
    if request.account is None:
        return False
    account_request = Request(
        action=request.action,
        resource=request.resource,
        principal_arn=f"arn:aws:iam::{request.account}:root",
        context=request.context,
    )
    return allowed(documents, account_request)

"""Every IAM action granted on a resource ARN supports that resource type.

An ``Allow`` of an action that supports only ``"Resource": "*"`` (``sagemaker:ListApps``),
or of an action on an ARN of a type the action does not act on, grants nothing: IAM matches
the request's resource against the statement's, and these requests have none of that type.
The call fails at run time with AccessDenied. Source: the Service Authorization Reference
("Actions, resources, and condition keys for <service>"), as packaged by ``policy_sentry``
(its ``iam-definition.json``, regenerated from that reference at each release).

Why ``policy_sentry`` and not ``parliament``: both ship the reference as data, but
policy_sentry's releases follow it (0.15.2, 2026-04, with a query API for an action's
resource ARN formats), while parliament's last release (1.6.4) is from 2025-04.

Checked: identity policies (``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy``, inline
policies of ``AWS::IAM::Role``) and their ``Allow`` statements with ``Action`` and
``Resource`` (``NotAction``/``NotResource`` statements are skipped: they name what is not
granted). Wildcard actions (``kms:GenerateDataKey*``) are expanded over the service's
actions. An action the reference does not know is a finding too (a typo grants nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from policy_sentry.querying.actions import get_action_data, get_actions_for_service

from aws_rules.findings import CheckResult, Finding
from aws_rules.policies import SEGMENT, as_list, matches, patterns_overlap, statements
from aws_rules.resolve import Resolver, ResourceAt

#: Resource types holding identity policies, and where their documents are.
POLICY_HOLDERS = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role")


@cache
def service_actions(service: str) -> tuple[str, ...]:
    """Every action of ``service`` (``sagemaker:CreateModel``, ...), lower-cased."""
    return tuple(action.lower() for action in get_actions_for_service(service))


@cache
def resource_formats(action: str) -> tuple[str, ...] | None:
    """The resource ARN formats ``action`` supports (``"*"`` alone: none), as wildcard
    patterns (see :func:`_pattern`); ``None`` when the reference does not know the action."""
    service, _, name = action.partition(":")
    data = get_action_data(service, name).get(service) or []
    formats = {str(entry["resource_arn_format"]) for entry in data}
    if not formats:
        return None
    return tuple(sorted(_pattern(arn) for arn in formats))


def _pattern(arn_format: str) -> str:
    """An ARN format as a pattern: each variable one segment, but the last, which may hold
    anything (a log group's ``:*``, a key's path)."""
    pattern = re.sub(r"\$\{[^}]+\}", SEGMENT, arn_format)
    head, found, tail = pattern.rpartition(SEGMENT)
    return f"{head}*{tail}" if found else pattern


def expand(action: str) -> list[str]:
    """The actions a pattern (``kms:GenerateDataKey*``) names."""
    service = action.split(":", 1)[0].lower()
    if "*" not in action and "?" not in action:
        return [action]
    return [
        f"{service}:{name.split(':', 1)[1]}"
        for name in service_actions(service)
        if matches(action, name, ignore_case=True)
    ]


def unscoped(action: str, resources: list[str]) -> str | None:
    """Why granting ``action`` on ``resources`` (one statement's) grants nothing, or
    ``None`` when it grants something on at least one of them."""
    formats = resource_formats(action)
    if formats is None:
        return f"{action} is not an action of the Service Authorization Reference"
    typed = [arn for arn in formats if arn != "*"]
    if not typed:
        return f"{action} supports only Resource '*', not {', '.join(resources)}"
    if not any(patterns_overlap(resource, arn) for arn in typed for resource in resources):
        return f"{action} acts on none of the resource types of {', '.join(resources)}"
    return None


def pattern_unscoped(pattern: str, resources: list[str]) -> str | None:
    """Like :func:`unscoped` for an action pattern: a wildcard is fine when one of the
    actions it names applies to the resources (CDK's grants pair ``s3:List*`` with a
    bucket)."""
    actions = expand(pattern)
    if not actions:
        return f"{pattern} names no action of the Service Authorization Reference"
    problems = [unscoped(action, resources) for action in actions]
    if "*" not in pattern and "?" not in pattern:
        return problems[0]
    return None if any(problem is None for problem in problems) else f"{pattern}: {problems[0]}"


def policy_documents(resolver: Resolver, at: ResourceAt) -> Iterator[tuple[str, Any]]:
    """(label, resolved document) of each identity policy the resource holds."""
    properties = resolver.resolve(at.stack, at.properties)
    if at.type == "AWS::IAM::Role":
        for policy in as_list(properties.get("Policies")):
            yield f"{at.label} ({policy.get('PolicyName')})", policy.get("PolicyDocument")
    else:
        yield at.label, properties.get("PolicyDocument")


def grants(document: Any) -> Iterator[tuple[str, str, list[str]]]:
    """(statement label, action pattern, resources) of each Allow statement on resource ARNs."""
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or "NotAction" in statement:
            continue
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if "NotResource" in statement or "*" in resources or not resources:
            continue
        label = str(statement.get("Sid") or f"statement {index}")
        for pattern in as_list(statement.get("Action")):
            if pattern != "*" and not str(pattern).endswith(":*"):
                yield label, str(pattern), resources


def check(resolver: Resolver) -> CheckResult:
    """Every action pattern of every Allow statement on resource ARNs; one that grants
    nothing is a finding (rule ``IAM``)."""
    findings: list[Finding] = []
    checked = 0
    for at in resolver.resources(*POLICY_HOLDERS):
        for label, document in policy_documents(resolver, at):
            for statement, pattern, resources in grants(document):
                checked += 1
                problem = pattern_unscoped(pattern, resources)
                if problem:
                    findings.append(Finding("IAM", f"{label} {statement}", problem))
    return CheckResult(checked, tuple(findings))

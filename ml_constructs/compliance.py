"""The compliance rule packs run on every synth, and the one way to acknowledge a finding.

cdk-nag 3 runs as a CDK policy-validation plugin: an unacknowledged finding makes synth fail.
An acknowledgement is scoped to one construct (and its children) and one rule, and carries
the reason it is acceptable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_cdk import Acknowledgment, Stack, Stage, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NagPack,
    NIST80053R5Checks,
    PCIDSS321Checks,
)
from constructs import IConstruct

#: The rule packs every environment is checked against, by the prefix of their rule ids.
RULE_PACKS: dict[str, Callable[[IConstruct], NagPack]] = {
    "AwsSolutions": AwsSolutionsChecks,
    "HIPAA.Security": HIPAASecurityChecks,
    "NIST.800.53.R5": NIST80053R5Checks,
    "PCI.DSS.321": PCIDSS321Checks,
}


#: The plugin name of CDK's built-in template validation (aws-cdk-lib >= 2.262).
TEMPLATE_VALIDATION = "CloudFormation-Validate"

#: The regulatory packs' rule against inline policies (NIST 800-53 R5, HIPAA, PCI DSS).
INLINE_POLICY_RULES = (
    "NIST.800.53.R5-IAMNoInlinePolicy",
    "HIPAA.Security-IAMNoInlinePolicy",
    "PCI.DSS.321-IAMNoInlinePolicy",
)


def add_compliance_checks(scope: Stage) -> None:
    """Register the four cdk-nag packs on an app or stage; they run after its synthesis."""
    Validations.of(scope).add_plugins(*(pack(scope) for pack in RULE_PACKS.values()))


def acknowledge(construct: IConstruct, *rules: str, reason: str) -> None:
    """Acknowledge findings of the given rules on ``construct`` only, with the reason.

    Parameters
    ----------
    construct:
        The resource (or the construct wrapping it) the findings are about.
    rules:
        Rule ids, each with its pack prefix, e.g. ``"AwsSolutions-S1"`` or
        ``"NIST.800.53.R5-S3BucketReplicationEnabled"``; or a finding of CDK's built-in
        template validation, ``"CloudFormation-Validate::F3031"``.
    reason:
        Why the finding is acceptable here; shown in the validation report.
    """
    if not rules or not reason.strip():
        raise ValueError("acknowledge() needs at least one rule id and a non-empty reason")
    acknowledgments = []
    for rule in rules:
        if rule.startswith(f"{TEMPLATE_VALIDATION}::"):
            acknowledgments.append(Acknowledgment(id=rule, reason=reason))
            continue
        pack = next((prefix for prefix in RULE_PACKS if rule.startswith(prefix + "-")), None)
        if pack is None:
            raise ValueError(
                f"rule id {rule!r} does not start with a known pack prefix"
                f" ({', '.join(RULE_PACKS)})"
            )
        acknowledgments.append(Acknowledgment(id=f"{pack}::{rule}", reason=reason))
    # One call for all of them: each call crosses into jsii's Node process.
    Validations.of(construct).acknowledge(*acknowledgments)


def acknowledge_inline_policy(construct: IConstruct, *, reason: str) -> None:
    """Acknowledge :data:`INLINE_POLICY_RULES` on ``construct`` (a role or policy), with
    why its policy is its own: specific to that one role, no other would share it."""
    acknowledge(construct, *INLINE_POLICY_RULES, reason=reason)


def acknowledge_wildcards(
    construct: IConstruct, statements: Sequence[iam.PolicyStatement], *, reason: str
) -> None:
    """Acknowledge AwsSolutions-IAM5 for exactly the wildcards of ``statements``.

    cdk-nag reports one finding per wildcard action (``Action::s3:GetObject*``) and per
    wildcard resource (``Resource::arn:aws:sagemaker:...:training-job/*``) of a policy. This
    computes those findings from the statements the caller wrote (or from an ``iam.Grant``'s
    ``principal_statements``) the way cdk-nag renders them, and acknowledges each one with
    the reason: a wildcard added later to another statement is still reported.

    The statements' resources must resolve within ``construct``'s stack (references to
    another stack's resources render differently once CDK wires the cross-stack reference).
    """
    acknowledge_wildcards_each(construct, [(statements, reason)])


def acknowledge_wildcards_each(
    construct: IConstruct, groups: Sequence[tuple[Sequence[iam.PolicyStatement], str]]
) -> None:
    """:func:`acknowledge_wildcards` for several groups of statements, each with its reason.

    The statements of all groups are resolved at once (synth time grows with the number of
    calls into CDK, and a role may have a dozen statements with their own reasons).
    """
    stack = Stack.of(construct)
    resolved = stack.resolve(
        [[statement.to_statement_json() for statement in statements] for statements, _ in groups]
    )
    for (_, reason), statements in zip(groups, resolved, strict=True):
        findings = _wildcard_findings(statements)
        if findings:
            acknowledge(
                construct,
                *dict.fromkeys(f"AwsSolutions-IAM5[{finding}]" for finding in findings),
                reason=reason,
            )


def acknowledge_generated_wildcards(policy: iam.Policy, reasons: Mapping[str, str]) -> list[str]:
    """Acknowledge AwsSolutions-IAM5 findings of a policy a library wrote, pattern by pattern.

    For policies built inside a library's constructs (CDK Pipelines' roles), whose statements
    the caller did not write: computes the findings of the policy's current document, as
    :func:`acknowledge_wildcards` does, and acknowledges each one that a pattern of
    ``reasons`` matches in full, with that pattern's reason. A finding that no pattern
    matches stays open (and fails synth): a new kind of wildcard is still reported.

    Parameters
    ----------
    policy:
        The policy, complete (for CDK Pipelines: after ``build_pipeline()``).
    reasons:
        Regular expression on the finding (``Action::s3:GetObject\\*``) -> reason.

    Returns
    -------
    The findings left open.
    """
    stack = Stack.of(policy)
    document = stack.resolve(policy.document)
    findings = _wildcard_findings(_as_list(document.get("Statement")))
    left_open = []
    for finding in dict.fromkeys(findings):
        reason = next(
            (why for pattern, why in reasons.items() if re.fullmatch(pattern, finding)), None
        )
        if reason is None:
            left_open.append(finding)
        else:
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason=reason)
    return left_open


def _wildcard_findings(resolved_statements: Sequence[dict[str, Any]]) -> list[str]:
    """cdk-nag's IAM5 findings (``Action::...``, ``Resource::...``) of resolved statements."""
    findings: list[str] = []
    for resolved in resolved_statements:
        if resolved.get("Effect") != "Allow":
            continue
        findings += [
            f"Action::{action}" for action in _as_list(resolved.get("Action")) if "*" in action
        ]
        for resource in _as_list(resolved.get("Resource")):
            text = _flatten(resource)
            if "*" in text:
                findings.append(f"Resource::{text}")
    return findings


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _flatten(node: Any) -> str:
    """A CloudFormation value as cdk-nag's ``flattenCfnReference`` renders it."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))

"""The compliance rule packs run on every synth, and the one way to acknowledge a finding.

cdk-nag 3 runs as a CDK policy-validation plugin: an unacknowledged finding makes synth fail.
An acknowledgement is scoped to one construct (and its children) and one rule, and carries
the reason it is acceptable.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stage, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

#: The rule packs every environment is checked against, by the prefix of their rule ids.
RULE_PACKS = {
    "AwsSolutions": AwsSolutionsChecks,
    "HIPAA.Security": HIPAASecurityChecks,
    "NIST.800.53.R5": NIST80053R5Checks,
    "PCI.DSS.321": PCIDSS321Checks,
}


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
        ``"NIST.800.53.R5-S3BucketReplicationEnabled"``.
    reason:
        Why the finding is acceptable here; shown in the validation report.
    """
    if not rules or not reason.strip():
        raise ValueError("acknowledge() needs at least one rule id and a non-empty reason")
    for rule in rules:
        pack = next((prefix for prefix in RULE_PACKS if rule.startswith(prefix + "-")), None)
        if pack is None:
            raise ValueError(
                f"rule id {rule!r} does not start with a known pack prefix"
                f" ({', '.join(RULE_PACKS)})"
            )
        Validations.of(construct).acknowledge(Acknowledgment(id=f"{pack}::{rule}", reason=reason))

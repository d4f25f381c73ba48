"""AWS's own rules, checked on a synthesized cloud assembly before anything is deployed.

Four checks, each over every stack of the assembly, whatever stacks it holds (see
``docs/checks.md``):

- :mod:`aws_rules.sagemaker_requests`: every SageMaker request the templates and pipeline
  definitions imply, validated with botocore's service model;
- :mod:`aws_rules.api_rules`: rules of the SageMaker API reference the schemas miss;
- :mod:`aws_rules.service_deliveries`: every place a service writes into a resource is
  allowed by the resource's policy and its KMS key's policy;
- :mod:`aws_rules.iam_resource_levels`: every IAM action granted on a resource ARN supports
  that resource type.

It runs where synth and the tests run (``scripts/synth_report.py``, ``tests/``), never in a
Lambda function; it calls no AWS API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_rules import api_rules, iam_resource_levels, sagemaker_requests, service_deliveries
from aws_rules.cloud_assembly import StackTemplate, read_assembly
from aws_rules.findings import CheckResult, Finding
from aws_rules.resolve import Resolver

__all__ = ["AssemblyReport", "CheckResult", "Finding", "check_assembly", "check_stacks"]


@dataclass(frozen=True)
class AssemblyReport:
    """The four checks' results for one assembly (one environment)."""

    requests: CheckResult
    api_rules: CheckResult
    deliveries: CheckResult
    iam_actions: CheckResult

    @property
    def findings(self) -> tuple[Finding, ...]:
        return (
            self.requests.findings
            + self.api_rules.findings
            + self.deliveries.findings
            + self.iam_actions.findings
        )

    def summary(self) -> str:
        """One line of counts, as ``make synth`` prints it."""
        return (
            f"SageMaker requests validated: {self.requests.checked}"
            f" ({len(self.requests.findings)} errors);"
            f" API rules checked: {self.api_rules.checked}"
            f" ({len(self.api_rules.findings)} violations);"
            f" service deliveries checked: {self.deliveries.checked}"
            f" ({len(self.deliveries.findings)} denied);"
            f" IAM actions checked: {self.iam_actions.checked}"
            f" ({len(self.iam_actions.findings)} unscoped)"
        )


def check_stacks(stacks: Sequence[StackTemplate]) -> AssemblyReport:
    """Run every check on ``stacks`` (one environment's)."""
    resolver = Resolver(stacks)
    return AssemblyReport(
        requests=sagemaker_requests.check(resolver),
        api_rules=api_rules.check(resolver),
        deliveries=service_deliveries.check(resolver),
        iam_actions=iam_resource_levels.check(resolver),
    )


def check_assembly(assembly: Path) -> dict[str, AssemblyReport]:
    """Run every check per environment (stage) of a cloud assembly, keyed by the stage's
    path (``Sandbox``: the stacks of ``Sandbox/Data``, ``Sandbox/Models/<model>/Model``,
    ...), so that a delivery pipeline's assembly is checked stage by stage."""
    groups: dict[str, list[StackTemplate]] = {}
    for stack in read_assembly(assembly):
        environment = stack.display_name.split("/", 1)[0] if "/" in stack.display_name else ""
        groups.setdefault(environment, []).append(stack)
    return {name: check_stacks(stacks) for name, stacks in groups.items()}

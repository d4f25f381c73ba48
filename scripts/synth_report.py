"""Print a table of the stacks in a cloud assembly: resources, template size, findings;
then, per environment, the counts of AWS's rules checked on it (``aws_rules``) and each
finding.

Usage: ``python -m scripts.synth_report [cdk.out]``. Exits 1 when a stack is over the
platform's limits (see :data:`MAX_RESOURCES`, :data:`MAX_TEMPLATE_BYTES`), the validation
report holds open findings, or a check of ``aws_rules`` found something.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from aws_rules import AssemblyReport, check_assembly
from aws_rules.cloud_assembly import read_assembly
from scripts.platform_limits import headroom, model_count, over_limit, readings

#: Headroom below CloudFormation's 500 resources and 1 MB template limits.
MAX_RESOURCES = 400
MAX_TEMPLATE_BYTES = 700 * 1024


@dataclass(frozen=True)
class StackSummary:
    """What the table shows of one stack."""

    display_name: str
    stack_name: str
    resources: int
    template_bytes: int
    acknowledged: int

    @property
    def over_limits(self) -> bool:
        return self.resources > MAX_RESOURCES or self.template_bytes > MAX_TEMPLATE_BYTES


def summarize(assembly: Path) -> list[StackSummary]:
    """Summaries of every stack in ``assembly`` and its nested assemblies (stages)."""
    return [
        StackSummary(
            display_name=stack.display_name,
            stack_name=stack.stack_name,
            resources=len(stack.resources),
            template_bytes=stack.template_bytes,
            acknowledged=len(stack.acknowledgements),
        )
        for stack in read_assembly(assembly)
    ]


def open_findings(assembly: Path) -> int:
    """Violations left in the policy validation report (0 when synth succeeded)."""
    report = assembly / "validation-report.json"
    if not report.is_file():
        return 0
    data = json.loads(report.read_text())
    return sum(
        len(violation.get("violatingResources", [])) or 1
        for plugin in data.get("pluginReports", [])
        for violation in plugin.get("violations", [])
    )


def render(summaries: list[StackSummary], open_count: int) -> str:
    """The table as text."""
    header = ("stack", "CloudFormation name", "resources", "template", "acknowledged")
    rows = [
        (
            summary.display_name + (" (OVER LIMIT)" if summary.over_limits else ""),
            summary.stack_name,
            str(summary.resources),
            f"{summary.template_bytes / 1024:.1f} KB",
            str(summary.acknowledged),
        )
        for summary in summaries
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    head = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))
    total = sum(summary.resources for summary in summaries)
    footer = (
        f"{len(summaries)} stacks, {total} resources; open findings: {open_count};"
        f" limits: {MAX_RESOURCES} resources, {MAX_TEMPLATE_BYTES // 1024} KB per stack"
    )
    return "\n".join([head, "-" * len(head), *lines, footer])


def render_rules(reports: dict[str, AssemblyReport]) -> str:
    """Per environment: one line of counts, then its findings, one per line."""
    lines = ["", "AWS rules (docs/checks.md):"]
    for environment, report in reports.items():
        lines.append(f"{environment or 'app'}: {report.summary()}")
        lines += [f"  {finding}" for finding in report.findings]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    assembly = Path(argv[0] if argv else "cdk.out")
    if not (assembly / "manifest.json").is_file():
        print(f"{assembly}: no cloud assembly here (run cdk synth first)", file=sys.stderr)
        return 1
    summaries = summarize(assembly)
    findings = open_findings(assembly)
    print(render(summaries, findings))
    over_limits = over_limit(readings(assembly))
    for reading in over_limits:
        print(f"OVER LIMIT: {reading.limit.name}: {reading.value:,} ({reading.subject})")
    most, limit = headroom(assembly)
    models = model_count(assembly)
    print(
        f"{models} models; every CloudFormation, Lambda, IAM and EventBridge limit met"
        if not over_limits
        else f"{models} models; {len(over_limits)} limits exceeded",
        end="",
    )
    print(f"; headroom: {most:,} models (first limit: {limit})" if most else "")
    rules = check_assembly(assembly)
    print(render_rules(rules))
    rule_findings = sum(len(report.findings) for report in rules.values())
    over = over_limits or any(summary.over_limits for summary in summaries)
    return 1 if findings or rule_findings or over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

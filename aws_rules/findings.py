"""What every check of ``aws_rules`` returns: how much it checked, and what it found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem: which check and rule, on which resource (``<stack>/<logical id>``, with
    the pipeline step or statement where it helps), and what is wrong, in one line."""

    rule: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.resource}: {self.message}"


@dataclass(frozen=True)
class CheckResult:
    """A check's count of items checked and its findings."""

    checked: int
    findings: tuple[Finding, ...]

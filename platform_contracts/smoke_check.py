"""What the delivery pipeline's smoke check verifies, and how it is called.

The delivery stack (``stacks/delivery_stack.py``) reads the targets from a stage's
constructs and writes :meth:`SmokeTargets.command` into a CodeBuild step; the check itself
(``scripts/smoke_check.py``) runs there with only :data:`SMOKE_CHECK_REQUIREMENTS`
installed, so this module uses the standard library only.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: What the check needs installed where it runs (the pin of requirements-dev.txt).
SMOKE_CHECK_REQUIREMENTS = "boto3==1.44.8"


@dataclass(frozen=True)
class SmokeTargets:
    """What must exist and be healthy in the environment after a deployment."""

    stacks: Sequence[str] = ()
    domain: str | None = None
    model_package_groups: Sequence[str] = ()
    pipelines: Sequence[str] = ()
    endpoints: Sequence[str] = ()
    #: ``pipeline:<name>`` or ``endpoint:<name>`` -> the release record (SSM parameter name)
    #: whose value decides whether that resource exists yet.
    released_by: Mapping[str, str] = field(default_factory=dict)

    def command(self, *, region: str, role_arn: str | None = None) -> str:
        """The shell command that runs this check from the repository's root."""
        words = ["python", "-m", "scripts.smoke_check", "--region", region]
        words += ["--role-arn", role_arn] if role_arn else []
        words += [word for name in self.stacks for word in ("--stack", name)]
        words += ["--domain", self.domain] if self.domain else []
        words += [
            word for name in self.model_package_groups for word in ("--model-package-group", name)
        ]
        words += [word for name in self.pipelines for word in ("--pipeline", name)]
        words += [word for name in self.endpoints for word in ("--endpoint", name)]
        words += [
            word
            for name, record in sorted(self.released_by.items())
            for word in ("--released-by", f"{name}={record}")
        ]
        return shlex.join(words)

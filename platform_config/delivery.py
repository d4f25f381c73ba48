"""The delivery pipeline's configuration (``config/delivery.yaml``), validated once.

The pipeline lives in a tooling account and promotes the platform through the environments
of ``config/`` in the order ``stages`` gives. Besides the shape of each field, the file is
checked against the environments it names; each rule is one line on failure:

* **known environments**: every stage names a file of ``config/`` (``dev`` for
  ``config/dev.yaml``), each at most once;
* **order**: stages go from the least to the most protected environment. An environment's
  protection is (``termination_protection``, ``retention: retain``), compared in that order;
  a stage may not be less protected than any stage before it (``dev`` after ``staging`` is
  out of order, ``staging`` after ``dev`` is not);
* **distinct accounts** (``distinct_accounts``, default on): no two stages deploy to the same
  account, and the tooling account is none of theirs;
* **approval before prod-like stages**: a stage is prod-like when it is the last one or its
  environment has ``termination_protection`` on; a prod-like stage needs
  ``manual_approval: true`` (the pipeline then also stops on any broadening of IAM
  permissions or security groups before it).

Usage: :func:`load_delivery`; ``python -m platform_config.delivery`` checks the file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

from pydantic import Field, PrivateAttr, StrictStr, ValidationError, ValidationInfo, model_validator

from platform_config.base import ConfigError, FieldError, Frozen
from platform_config.loader import (
    DEFAULT_CONFIG_DIR,
    DELIVERY_FILE,
    available_environments,
    describe_error,
    load_environment,
    read_settings,
)
from platform_config.schema import EnvironmentConfig
from platform_config.value_types import AccountId, Region, ResourceName

ConnectionArn = Annotated[
    StrictStr,
    Field(
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:"
        r"connection/[0-9a-f-]{36}$"
    ),
]
Repository = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
Branch = Annotated[
    StrictStr, Field(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
]
CliVersion = Annotated[StrictStr, Field(pattern=r"^\d+\.\d+\.\d+$")]
BootstrapQualifier = Annotated[StrictStr, Field(pattern=r"^[a-z0-9]{1,10}$")]

# Validation context keys, filled by :func:`load_delivery`: the stages' environments (by
# name) and the names of every environment of ``config/``.
_ENVIRONMENTS = "environments"
_AVAILABLE = "available"


class DeliveryStageSpec(Frozen):
    """One stage of the pipeline: the environment it deploys.

    Attributes
    ----------
    environment:
        Name of an environment file of ``config/`` (``staging`` for ``config/staging.yaml``).
    manual_approval:
        Stop for a person's approval (and a check for broadened permissions) before the
        stage deploys (default off; required for a prod-like stage).
    """

    environment: ResourceName
    manual_approval: bool = False


class DeliveryConfig(Frozen):
    """The delivery pipeline (``config/delivery.yaml``), its stages resolved.

    Attributes
    ----------
    account, region:
        The tooling account and region the pipeline runs in.
    connection_arn:
        ARN of the CodeConnections (or CodeStar Connections) connection to the repository
        host, created and authorised once in the tooling account's console.
    repository:
        ``owner/name`` of the repository that holds this project.
    branch:
        The branch the pipeline follows (default ``main``).
    pipeline_name:
        Name of the CodePipeline pipeline and prefix of the tooling stack's resources
        (default ``ml-platform-delivery``).
    cdk_cli_version:
        The CDK CLI the pipeline's self-mutation runs; keep it equal to ``package.json``'s
        ``aws-cdk`` (a test checks).
    bootstrap_qualifier:
        Qualifier of the CDK bootstrap of the target accounts (default ``hnb659fds``, CDK's);
        the smoke checks assume each target's bootstrap lookup role
        (``cdk-<qualifier>-lookup-role-<account>-<region>``, read-only).
    distinct_accounts:
        Forbid two stages in one account, and the tooling account being a stage's (default on).
    termination_protection:
        CloudFormation termination protection on the pipeline's stack (default on).
    stages:
        The environments to deploy, in promotion order (see the module's rules).

    The validated configuration of each stage's environment is given by
    :meth:`environment_of` (read by :func:`load_delivery`, not written in the file).
    """

    account: AccountId
    region: Region
    connection_arn: ConnectionArn
    repository: Repository
    branch: Branch = "main"
    pipeline_name: ResourceName = "ml-platform-delivery"
    cdk_cli_version: CliVersion
    bootstrap_qualifier: BootstrapQualifier = "hnb659fds"
    distinct_accounts: bool = True
    termination_protection: bool = True
    stages: tuple[DeliveryStageSpec, ...] = Field(min_length=1)
    _environments: dict[str, EnvironmentConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _promotion_rules(self, info: ValidationInfo) -> DeliveryConfig:
        context = info.context or {}
        self._environments = dict(context.get(_ENVIRONMENTS, {}))
        available = context.get(_AVAILABLE, sorted(self._environments))
        names = [stage.environment for stage in self.stages]
        for index, name in enumerate(names):
            if name not in self._environments:
                raise FieldError(
                    f"stages[{index}].environment",
                    name,
                    f"is not an environment of config/ (available: {', '.join(available)})",
                )
            if name in names[:index]:
                raise FieldError(
                    f"stages[{index}].environment", name, "is already an earlier stage"
                )
        for index, name in enumerate(names):
            for earlier in names[:index]:
                if protection(self._environments[name]) < protection(self._environments[earlier]):
                    raise FieldError(
                        f"stages[{index}].environment",
                        name,
                        f"comes after '{earlier}' but is less protected ({_describe(self._environments[name])}"
                        f" vs {_describe(self._environments[earlier])}); order stages from the least"
                        " to the most protected",
                    )
        if self.distinct_accounts:
            owners: dict[str, str] = {}
            for index, name in enumerate(names):
                account = self._environments[name].account
                if account in owners:
                    raise FieldError(
                        f"stages[{index}].environment",
                        name,
                        f"deploys to account {account} as '{owners[account]}' does"
                        " (distinct_accounts is on: one account per environment)",
                    )
                owners[account] = name
            if self.account in owners:
                raise FieldError(
                    "account",
                    self.account,
                    f"is also the account of environment '{owners[self.account]}'"
                    " (distinct_accounts is on: the tooling account runs only the pipeline)",
                )
        for index, stage in enumerate(self.stages):
            if self.is_prod_like(index) and not stage.manual_approval:
                raise FieldError(
                    f"stages[{index}].manual_approval",
                    stage.manual_approval,
                    f"must be true: '{stage.environment}' is prod-like (the last stage, or"
                    " termination_protection on)",
                )
        return self

    def is_prod_like(self, index: int) -> bool:
        """Whether ``stages[index]`` is the last stage or its environment is termination-protected."""
        config = self._environments[self.stages[index].environment]
        return index == len(self.stages) - 1 or config.termination_protection

    def environment_of(self, stage: DeliveryStageSpec) -> EnvironmentConfig:
        """The validated configuration of the environment ``stage`` deploys."""
        return self._environments[stage.environment]

    def bucket_name(self, kind: str) -> str:
        """Name of a tooling bucket: ``mlp-delivery-<account>-<region>-<kind>``."""
        return f"mlp-delivery-{self.account}-{self.region}-{kind}"

    def smoke_check_role_arn(self, environment: EnvironmentConfig) -> str:
        """The read-only role the smoke check assumes in ``environment``: CDK's lookup role."""
        account, region = environment.account, environment.region
        return (
            f"arn:aws:iam::{account}:role/"
            f"cdk-{self.bootstrap_qualifier}-lookup-role-{account}-{region}"
        )


def protection(config: EnvironmentConfig) -> tuple[bool, bool]:
    """How protected an environment is: (termination protection, retention retain)."""
    return (config.termination_protection, config.is_retained)


def _describe(config: EnvironmentConfig) -> str:
    on = "on" if config.termination_protection else "off"
    return f"termination_protection {on}, retention {config.retention.value}"


def load_delivery(config_dir: Path = DEFAULT_CONFIG_DIR) -> DeliveryConfig:
    """Load and validate ``<config_dir>/delivery.yaml`` and the environments it names.

    Raises
    ------
    ConfigError
        One line naming the file, the field, the value and what is allowed (an invalid
        environment file is reported with its own file's name).
    """
    path = config_dir / DELIVERY_FILE
    settings = read_settings(path)
    available = available_environments(config_dir)
    stages = settings.get("stages")
    named = [
        stage.get("environment")
        for stage in (stages if isinstance(stages, list) else [])
        if isinstance(stage, dict)
    ]
    environments = {
        name: load_environment(name, config_dir)
        for name in dict.fromkeys(name for name in named if isinstance(name, str))
        if name in available
    }
    try:
        return DeliveryConfig.model_validate(
            settings, context={_ENVIRONMENTS: environments, _AVAILABLE: available}
        )
    except ValidationError as error:
        raise ConfigError(describe_error(error, path, settings)) from None


def main() -> int:
    """``python -m platform_config.delivery``: validate ``config/delivery.yaml``; exit 2 if invalid."""
    try:
        config = load_delivery()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    flow = " -> ".join(
        stage.environment + (" (approval)" if stage.manual_approval else "")
        for stage in config.stages
    )
    print(f"delivery: valid ({config.account} {config.region}: {flow})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

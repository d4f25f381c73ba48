"""Typed, frozen models of the platform configuration: :class:`EnvironmentConfig`, and the
public names of its parts.

Each model forbids unknown keys, so a typo in a YAML file is an error, not a silently
ignored setting. Validators raise ``ValueError`` with a message that reads after the
offending value (``'10.0.0.0/33' is not a valid IPv4 CIDR``); the loader prefixes the file
and the field.

The parts are defined below this module, each checked on its own: the environment's
sections and fields (:mod:`~platform_config.environment_spec`), a model of the catalogue
(:mod:`~platform_config.model_spec`), a feature group
(:mod:`~platform_config.feature_group_spec`) and the constrained values
(:mod:`~platform_config.value_types`). :class:`EnvironmentConfig` adds the checks across
them, which the rule modules (:mod:`~platform_config.aws_rules`,
:mod:`~platform_config.names`, ...) make on those parts.
"""

from __future__ import annotations

from pydantic import model_validator

from platform_config.aws_rules import check_environment, check_serving_regions
from platform_config.base import FieldError
from platform_config.environment_spec import (
    EnvironmentSpec,
    InterfaceEndpoint,
)
from platform_config.names import ResourceNames
from platform_config.pipeline_spec import check_training_sources
from platform_config.serving_defaults import check_scale_to_zero


class EnvironmentConfig(EnvironmentSpec):
    """One environment (``config/<name>.yaml``): where and how the platform is deployed.

    Its fields are :class:`~platform_config.environment_spec.EnvironmentSpec`'s; this class
    checks them together: zones and approvers of the environment's region and account,
    unique names, and the rules of :mod:`~platform_config.aws_rules` and the other modules
    that need more than one part of the environment.
    """

    @model_validator(mode="after")
    def _cross_checks(self) -> EnvironmentConfig:
        zones = self.network.existing_vpc.availability_zones if self.network.existing_vpc else ()
        for index, zone in enumerate(zones):
            if not (zone.startswith(self.region) and len(zone) == len(self.region) + 1):
                raise FieldError(
                    f"network.existing_vpc.availability_zones[{index}]",
                    zone,
                    f"is not a zone of region {self.region}"
                    f" (expected {self.region}a, {self.region}b, ...)",
                )
        for index, approver in enumerate(self.model_registry.approvers):
            if approver.split(":")[4] != self.account:
                raise FieldError(
                    f"model_registry.approvers[{index}]",
                    approver,
                    f"is not a role of this environment's account {self.account}",
                )
        if len(set(zones)) != len(zones):
            raise FieldError(
                "network.existing_vpc.availability_zones", list(zones), "lists a zone twice"
            )
        for kind, names in (
            ("models", [model.name for model in self.models]),
            ("feature_groups", [group.name for group in self.feature_groups]),
        ):
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise FieldError(kind, duplicates, "repeats names; each must be unique")
        if self.account in self.model_registry.reader_accounts:
            raise FieldError(
                "model_registry.reader_accounts", self.account, "is this environment's own account"
            )
        check_serving_regions(self.models, self.region)
        check_environment(self)
        check_training_sources([model.pipeline for model in self.models], self.feature_groups)
        self._athena_for_feature_sources()
        check_scale_to_zero(self.models, self.serving_defaults)
        return self

    def _athena_for_feature_sources(self) -> None:
        """A pipeline reading a feature group queries Athena from the isolated subnets."""
        network = self.network
        endpoints = network.interface_endpoints
        if network.new_vpc is None and not endpoints:
            return  # an existing VPC whose endpoints are managed elsewhere
        for index, model in enumerate(self.models):
            source = getattr(model.pipeline, "training_source", None)
            if source is not None and InterfaceEndpoint.ATHENA not in endpoints:
                raise FieldError(
                    f"models[{index}].pipeline.training_source",
                    source.feature_group,
                    "reads the offline store with Athena, which the isolated subnets reach only"
                    " through an interface endpoint: add athena to network.interface_endpoints",
                )

    @property
    def names(self) -> ResourceNames:
        """The physical names of this environment's resources (:mod:`platform_config.names`)."""
        return ResourceNames.for_environment(self)

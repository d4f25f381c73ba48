"""The stateful part of one model: its registry group and its release record."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ml_constructs import ModelPackageGroup
from ml_constructs.release_record import ReleaseRecord
from platform_config import EnvironmentConfig, ModelSpec
from platform_contracts.releases import Slot, record_parameter_name
from stacks.automation_stack import AutomationStack
from stacks.removal import removal_policy


def has_candidate_slot(model: ModelSpec) -> bool:
    """Whether the model's serving has an unpinned challenger or shadow variant."""
    serving = model.serving
    if serving is None or serving.model_version != "latest":
        return False
    production = [v for v in serving.production_variants if v.model_version is None]
    shadows = [v for v in serving.shadow if v.model_version is None]
    return len(production) > 1 or bool(shadows)


class ModelRegistryStack(Stack):
    """``<prefix>-registry-<model>``: kept when the model's other stack is replaced.

    Attributes
    ----------
    group:
        :class:`ModelPackageGroup` ``<prefix>-<model>``, readable by the next environments'
        accounts (``model_registry.reader_accounts``).
    records:
        :class:`ReleaseRecord` of each slot the model has (``docs/releases.md``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        model: ModelSpec,
        automation: AutomationStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.group = ModelPackageGroup(
            self,
            "Group",
            group_name=f"{config.name_prefix}-{model.name}",
            description=model.description,
            reader_accounts=config.model_registry.reader_accounts,
            approvers=config.model_registry.approvers,
            removal_policy=removal_policy(config),
        )
        slots = [Slot.CHAMPION, Slot.CANDIDATE] if has_candidate_slot(model) else [Slot.CHAMPION]
        self.records = {
            slot: ReleaseRecord(
                self,
                f"{slot.value.capitalize()}Record",
                provider=automation.provider.function,
                parameter_name=record_parameter_name(config.name_prefix, model.name, slot),
            )
            for slot in slots
        }

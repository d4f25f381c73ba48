"""The stateful part of one model: its registry group and its release record."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ml_constructs import ModelPackageGroup
from ml_constructs.release_record import ReleaseRecord
from platform_config import EnvironmentConfig, ModelSpec
from platform_config.names import release_slots
from platform_contracts.releases import Slot
from stacks.automation_stack import AutomationStack
from stacks.removal import removal_policy


def has_candidate_slot(model: ModelSpec) -> bool:
    """Whether the model's serving has an unpinned challenger or shadow variant."""
    return Slot.CANDIDATE in release_slots(model)


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
        names = config.names
        self.group = ModelPackageGroup(
            self,
            "Group",
            group_name=names.model_package_group(model.name),
            description=model.description,
            reader_accounts=config.model_registry.reader_accounts,
            approvers=config.model_registry.approvers,
            removal_policy=removal_policy(config),
        )
        self.records = {
            slot: ReleaseRecord(
                self,
                f"{slot.value.capitalize()}Record",
                provider=automation.provider.function,
                parameter_name=names.release_record(model.name, slot),
            )
            for slot in release_slots(model)
        }

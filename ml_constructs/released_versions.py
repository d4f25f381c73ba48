"""What a model's stack serves: the release record, read by CloudFormation at every deploy."""

from __future__ import annotations

import jsii
from aws_cdk import CfnCondition, CfnOutput, CfnParameter, CfnResource, Fn, IAspect
from constructs import Construct, IConstruct

from platform_config.names import ResourceNames
from platform_contracts.releases import UNRELEASED, Slot


class ReleasedVersions(Construct):
    """The release record's slots as ``AWS::SSM::Parameter::Value<String>`` parameters.

    CloudFormation resolves an SSM parameter type anew at every create and update of the
    stack, so a deploy of an unchanged commit serves what the record says, and an update
    with the previous template and parameter values (what the release automation asks for)
    rolls out a changed record. The record itself is created, empty, by the model's
    registry stack (:class:`~ml_constructs.release_record.ReleaseRecord`).

    Attributes
    ----------
    champion:
        The champion's package ARN (deploy-time token; ``none`` before the first release).
    candidate:
        The candidate's package ARN, or the champion's while the candidate slot is empty;
        ``None`` for a model without a candidate slot.
    released:
        ``CfnCondition``: the champion names a package. Everything that needs a package is
        created only under it (:meth:`only_when_released`).
    parameters:
        The ``CfnParameter`` of each slot, by slot.

    Parameters
    ----------
    names, model:
        Whose record (``names.release_record(model, <slot>)``).
    candidate_slot:
        Whether the model has a challenger or shadow variant (default no).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        model: str,
        candidate_slot: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        slots = [Slot.CHAMPION, Slot.CANDIDATE] if candidate_slot else [Slot.CHAMPION]
        self.parameters: dict[Slot, CfnParameter] = {
            slot: CfnParameter(
                self,
                slot.value.capitalize(),
                type="AWS::SSM::Parameter::Value<String>",
                default=names.release_record(model, slot),
                description=f"Release record of {model}'s {slot.value} (do not override:"
                " the release automation writes it)",
            )
            for slot in slots
        }
        self.champion = self.parameters[Slot.CHAMPION].value_as_string
        self.released = CfnCondition(
            self,
            "Released",
            expression=Fn.condition_not(Fn.condition_equals(self.champion, UNRELEASED)),
        )
        self.candidate: str | None = None
        if candidate_slot:
            candidate = self.parameters[Slot.CANDIDATE].value_as_string
            has_candidate = CfnCondition(
                self,
                "HasCandidate",
                expression=Fn.condition_not(Fn.condition_equals(candidate, UNRELEASED)),
            )
            self.candidate = Fn.condition_if(
                has_candidate.logical_id, candidate, self.champion
            ).to_string()

    @staticmethod
    def version_of(package_arn: str) -> str:
        """The version number of a package ARN token (``.../model-package/<group>/<n>``)."""
        return Fn.select(2, Fn.split("/", package_arn))

    def only_when_released(self, scope: IConstruct) -> None:
        """Create every resource and output under ``scope`` only once the champion is set."""
        from aws_cdk import Aspects  # local: keeps the module's public imports small

        Aspects.of(scope).add(OnlyUnderCondition(self.released))


@jsii.implements(IAspect)
class OnlyUnderCondition:
    """An aspect giving every CloudFormation resource and output it visits a condition."""

    def __init__(self, condition: CfnCondition) -> None:
        self.condition = condition

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, CfnResource):
            node.cfn_options.condition = self.condition
        elif isinstance(node, CfnOutput):
            node.condition = self.condition

"""What an instance type computes with and whether it has local storage: one definition
(``platform_config.aws_facts``) that the configuration, the builders and the constructs read."""

from __future__ import annotations

import re

import pytest

from platform_config.aws_facts import (
    GPU_FAMILIES,
    LOCAL_STORAGE_FAMILIES,
    NEURON_FAMILIES,
    Accelerator,
    JobKind,
    accepted_instance_types,
    has_local_storage,
    instance_accelerator,
    instance_family,
    is_burstable,
)


def _api_families() -> set[str]:
    return {instance_family(t) for kind in JobKind for t in accepted_instance_types(kind)}


@pytest.mark.parametrize(
    "families",
    [GPU_FAMILIES, NEURON_FAMILIES, LOCAL_STORAGE_FAMILIES],
    ids=["gpu", "neuron", "nvme"],
)
def test_every_family_named_is_one_the_sagemaker_api_accepts(families: frozenset[str]) -> None:
    assert sorted(families - _api_families()) == []


def test_a_family_has_a_gpu_or_a_neuron_chip_never_both() -> None:
    assert GPU_FAMILIES.isdisjoint(NEURON_FAMILIES)


def test_every_family_with_d_after_its_generation_has_local_storage() -> None:
    """EC2's naming: ``m5d``, ``c6gd``, ``g4dn``, ``p4de``: the ``d`` is the instance store."""
    named = {f for f in _api_families() if re.fullmatch(r"[a-z]+\d+[a-z]*d[a-z]*", f)}
    assert named <= LOCAL_STORAGE_FAMILIES, sorted(named - LOCAL_STORAGE_FAMILIES)


@pytest.mark.parametrize(
    ("instance_type", "accelerator", "local_storage"),
    [
        ("ml.m5.large", Accelerator.CPU, False),
        ("ml.m5d.large", Accelerator.CPU, True),
        ("ml.c6gd.xlarge", Accelerator.CPU, True),
        ("ml.g5.xlarge", Accelerator.GPU, True),
        ("ml.p4d.24xlarge", Accelerator.GPU, True),
        ("ml.p5en.48xlarge", Accelerator.GPU, True),
        ("ml.inf2.xlarge", Accelerator.NEURON, False),
        ("ml.trn1.2xlarge", Accelerator.NEURON, True),
        ("ml.trn2.48xlarge", Accelerator.NEURON, True),
    ],
)
def test_instance_facts(instance_type: str, accelerator: Accelerator, local_storage: bool) -> None:
    assert instance_accelerator(instance_type) is accelerator
    assert has_local_storage(instance_type) is local_storage


def test_only_t_families_are_burstable() -> None:
    burstable = {f for f in _api_families() if is_burstable(f"ml.{f}.large")}
    assert burstable == {"t2", "t3"}

"""The container images the platform runs: one table, as AWS publishes them.

``container_images.yaml`` (beside this module) lists every image a template or a pipeline
definition uses, by ``repository:tag``: what it contains (framework, Python, Neuron SDK,
transformers and CUDA versions), which accelerators each kind of job runs it on, the
regions it is published in with their registry accounts, and where AWS publishes it (the
file's header gives the sources and the date they were read). This module is its one
loader; ``docs/images.md`` says how to bump an image.

It is part of the configuration, the lowest layer: the configuration checks serving images
against it, the foundation models name their images in it, and the pipeline builders,
constructs and stacks read it; what an instance type computes with comes from
:mod:`platform_config.aws_facts`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from platform_config.aws_facts import NEURON_V1_FAMILIES, Accelerator, instance_family
from platform_config.aws_facts import instance_accelerator as aws_instance_accelerator

TABLE_FILE = Path(__file__).resolve().parent / "container_images.yaml"

#: ``<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:<tag>]``
_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+|\{region\})\.amazonaws\.com(\.cn)?"
    r"/(?P<repository>[a-z0-9._/-]+)(:(?P<tag>[\w.-]+))?$"
)
_VERSION = re.compile(r"^\d+\.\d+")
_NOT_IN_TABLE = (
    "is not in the container image table (platform_config/container_images.yaml;"
    " see docs/images.md)"
)


def instance_accelerator(instance_type: str) -> Accelerator | None:
    """What an image must be built for to run on the type: ``ml.g5.xlarge`` -> GPU,
    ``ml.inf2.xlarge`` -> NEURON (``neuronx``), ``ml.m5.large`` -> CPU; ``ml.inf1.xlarge``
    -> ``None``: NeuronCore-v1 runs no image of the table."""
    if instance_family(instance_type) in NEURON_V1_FAMILIES:
        return None
    return aws_instance_accelerator(instance_type)


def neuron_sdk_line(version: str) -> str:
    """``2.20.1`` -> ``2.20``: the release line whose patch releases are compatible."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not a Neuron SDK version")
    return match.group(0)


@dataclass(frozen=True, kw_only=True)
class ContainerImage:
    """One image of the table.

    Attributes
    ----------
    repository, tag:
        The image's ECR repository and tag.
    accounts:
        Region -> registry account, for every region the image is published in.
    jobs:
        Job kind (``training``, ``processing``, ``inference``) -> accelerators it runs on.
    framework, framework_version:
        E.g. ``pytorch`` and ``2.1.2``; ``djl-serving`` and ``0.30.0``.
    python, transformers, neuron_sdk, cuda:
        Versions inside the image (``None`` where they do not apply).
    server:
        The model server an inference image runs (``lmi-neuronx``, ``lmi``), or ``None``.
    sdk_entry:
        ``(table, path)`` of the same image in the SDK's ``image_uri_config``, or ``None``.
    source:
        Where AWS publishes this image with these versions.
    """

    repository: str
    tag: str
    accounts: dict[str, str]
    jobs: dict[str, frozenset[Accelerator]]
    framework: str
    framework_version: str
    python: str | None
    transformers: str | None
    neuron_sdk: str | None
    cuda: str | None
    server: str | None
    sdk_entry: tuple[str, tuple[str, ...]] | None
    source: str

    @property
    def reference(self) -> str:
        """``repository:tag``, the image's key in the table."""
        return f"{self.repository}:{self.tag}"

    def uri(self, region: str) -> str:
        """The image in ``region``; ``ValueError`` where it is not published."""
        account = self.accounts.get(region)
        if account is None:
            raise ValueError(
                f"image {self.reference} is not published in region {region!r}"
                f" (regions: {', '.join(sorted(self.accounts))})"
            )
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        return f"{account}.dkr.ecr.{region}.{suffix}/{self.reference}"

    def runs_on(self, job: str, instance_type: str) -> bool:
        """Whether a ``job`` (training, processing, inference) may run it on the type."""
        return instance_accelerator(instance_type) in self.jobs.get(job, frozenset())


@dataclass(frozen=True)
class ImageReference:
    """An image URI split into its parts.

    Attributes
    ----------
    account, region:
        The ECR registry's account and region (``{region}`` when the URI leaves it open).
    repository:
        The repository name (``djl-inference``).
    tag:
        The tag (``latest`` when the URI names none, as Docker's default).
    """

    account: str
    region: str
    repository: str
    tag: str

    @property
    def reference(self) -> str:
        """``<repository>:<tag>``, the key of the image table."""
        return f"{self.repository}:{self.tag}"


def parse_image_uri(uri: str) -> ImageReference | None:
    """The parts of an ECR image URI (``{region}`` allowed as the region), or ``None``."""
    match = _URI.match(uri)
    if match is None:
        return None
    return ImageReference(
        account=match["account"],
        region=match["region"],
        repository=match["repository"],
        tag=match["tag"] or "latest",
    )


@cache
def container_images() -> dict[str, ContainerImage]:
    """Every image of ``container_images.yaml``, by ``repository:tag``."""
    return load_table(TABLE_FILE)


def load_table(path: Path) -> dict[str, ContainerImage]:
    """Read an image table; :func:`container_images` reads the committed one.

    Raises
    ------
    ValueError
        An entry is malformed, or a version it records differs from the one its tag names;
        the message names the entry.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    registries = {name: entry["accounts"] for name, entry in data["registries"].items()}
    images = {}
    for reference, entry in data["images"].items():
        try:
            found = _image(reference, entry, registries)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path.name}: images.{reference}: {error!r}") from error
        mismatch = tag_mismatch(found)
        if mismatch:
            raise ValueError(f"{path.name}: images.{reference}: {mismatch}")
        images[reference] = found
    return images


#: Versions a tag may name, and the attribute that must agree: ``transformers4.48.1``,
#: ``sdk2.20.0``, ``-py310-``, ``-cu129``. Every Neuron and CUDA image names its SDK.
_TAG_PARTS = {
    "transformers": re.compile(r"transformers(\d+(?:\.\d+)+)"),
    "neuron_sdk": re.compile(r"sdk(\d+(?:\.\d+)+)"),
    "python": re.compile(r"-(py\d+)(?:-|$)"),
    "cuda": re.compile(r"-(cu\d+)(?:-|$)"),
}


def tag_mismatch(image: ContainerImage) -> str | None:
    """What the image's tag says that its recorded versions contradict, or ``None``."""
    if not image.tag.startswith(image.framework_version):
        return f"tag {image.tag} is not framework version {image.framework_version}"
    for field, pattern in _TAG_PARTS.items():
        named = pattern.search(image.tag)
        recorded = getattr(image, field)
        if named is not None and named.group(1) != recorded:
            return f"tag {image.tag} names {field} {named.group(1)}, the entry {recorded}"
        if named is None and recorded is not None and field in ("neuron_sdk", "cuda"):
            return f"tag {image.tag} does not name {field} {recorded}"
    return None


def image(reference: str) -> ContainerImage:
    """The table's ``repository:tag``; ``ValueError`` naming the table if it is not there."""
    images = container_images()
    if reference not in images:
        raise ValueError(f"image {reference} {_NOT_IN_TABLE}")
    return images[reference]


def published_image(uri: str, region: str) -> ContainerImage:
    """The table's image for ``uri`` as published in ``region``.

    Raises
    ------
    ValueError
        ``uri`` is not an ECR image URI, not in the table, or not the image's registry in
        ``region`` (another region's, or another account's); the message says which.
    """
    parts = parse_image_uri(uri)
    if parts is None:
        raise ValueError("is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/...)")
    found = container_images().get(parts.reference)
    if found is None:
        raise ValueError(f"names {parts.reference}, which {_NOT_IN_TABLE}")
    if parts.region not in ("{region}", region):
        raise ValueError(
            f"is pinned to {parts.region}'s registry; use {{region}} or {region}"
            f" ({found.uri(region)})"
        )
    expected = found.uri(region).split(".", 1)[0]
    if parts.account != expected:
        raise ValueError(
            f"names registry account {parts.account}, but {found.reference} is published in"
            f" {region} by {expected}"
        )
    return found


def _image(
    reference: str, entry: dict[str, Any], registries: dict[str, dict[str, str]]
) -> ContainerImage:
    repository, _, tag = reference.partition(":")
    sdk = entry.get("sdk_entry")
    jobs = {
        job: frozenset(Accelerator(name) for name in accelerators)
        for job, accelerators in entry["jobs"].items()
    }
    if not tag or not jobs or set(jobs) - {"training", "processing", "inference"}:
        raise ValueError("needs a tag and jobs among training, processing, inference")
    return ContainerImage(
        repository=repository,
        tag=tag,
        accounts=dict(registries[entry["registry"]]),
        jobs=jobs,
        framework=str(entry["framework"]["name"]),
        framework_version=str(entry["framework"]["version"]),
        python=entry.get("python"),
        transformers=_optional_str(entry.get("transformers")),
        neuron_sdk=_optional_str(entry.get("neuron_sdk")),
        cuda=entry.get("cuda"),
        server=entry.get("server"),
        sdk_entry=(sdk["table"], tuple(str(key) for key in sdk["path"])) if sdk else None,
        source=str(entry["source"]),
    )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)

"""Checks of a whole environment against what AWS accepts, before any template is built.

Each rule refuses, with one :class:`~platform_config.base.FieldError`, what CloudFormation
or SageMaker would otherwise refuse at deploy time (or synth with a traceback):

* every derived physical name within its kind's limits (:mod:`platform_config.names`);
* tags: at most :data:`MAX_TAGS` per resource, the platform's own tags counted; keys and
  values of AWS's lengths and characters; no ``aws:`` prefix;
* descriptions that fit every resource they are copied to (:data:`DESCRIPTION_LIMITS`);
* instance types the SageMaker API accepts for each kind of job, and offered in the region
  where the price list says (:mod:`platform_config.aws_facts`);
* pipelines and monitors that synth can build in the region (images and buckets the SDK's
  tables list there).

:func:`check_environment` runs them all but :func:`check_serving_regions`;
``EnvironmentConfig`` (:mod:`platform_config.schema`) calls both. The rules read the
environment's fields (:class:`~platform_config.environment_spec.EnvironmentSpec`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from platform_config.aws_facts import JobKind, build_problem, instance_type_problem
from platform_config.base import FieldError
from platform_config.environment_spec import EnvironmentSpec
from platform_config.model_spec import ModelSpec
from platform_config.names import check_environment_names
from platform_config.pipeline_spec import FineTuningPipelineSpec, TrainingPipelineSpec
from platform_config.serving_images import check_serving_image
from platform_config.serving_spec import EndpointKind

#: Tags a resource may have (user-defined; ``aws:`` tags do not count). Source: the
#: ``TagList`` shape of the SageMaker API (botocore), and the Tagging Best Practices.
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
#: The tags the platform itself puts on some resources (``Name`` on VPC resources, and CDK's
#: subnet tags): they count against :data:`MAX_TAGS` there. A test checks this list against
#: the synthesized templates.
PLATFORM_TAG_KEYS = ("Name", "aws-cdk:subnet-name", "aws-cdk:subnet-type")
#: Punctuation allowed in tags besides letters, digits and spaces (``[\p{L}\p{Z}\p{N}_.:/=+\-@]``).
TAG_PUNCTUATION = "_.:/=+-@"


@dataclass(frozen=True)
class DescriptionLimit:
    """A resource a free-text field is copied to, and its limit.

    Attributes
    ----------
    what:
        The resource's field in words.
    max_length:
        The most characters it takes (the copied text included).
    source:
        Where the limit is written (``botocore:`` shapes are checked by a test).
    """

    what: str
    max_length: int
    source: str


#: Free-text fields of the configuration -> where the stacks copy them. Neither field
#: allows control characters: line breaks and tabs are refused (ModelPackageGroupDescription
#: allows letters, marks, spaces, symbols, digits and punctuation only).
DESCRIPTION_LIMITS = {
    "model": (
        DescriptionLimit(
            "model package group description",
            1024,
            "botocore:sagemaker:CreateModelPackageGroupInput.ModelPackageGroupDescription",
        ),
        DescriptionLimit(
            "pipeline description ('<kind> pipeline of <model>: <description>')",
            3072,
            "botocore:sagemaker:CreatePipelineRequest.PipelineDescription",
        ),
    ),
    "feature_group": (
        DescriptionLimit(
            "feature group description",
            128,
            "botocore:sagemaker:CreateFeatureGroupRequest.Description",
        ),
    ),
}


def check_environment(config: EnvironmentSpec) -> None:
    """Run every rule of the module on ``config``.

    Raises
    ------
    FieldError
        The first rule broken, on the field to change.
    """
    check_environment_names(config)
    check_tags(config.tags)
    check_descriptions(config)
    check_instance_types(config)
    check_builds(config)


def check_tags(tags: dict[str, str]) -> None:
    """Refuse tags AWS refuses: too many, too long, other characters, ``aws:`` keys."""
    keys = set(tags) | set(PLATFORM_TAG_KEYS)
    if len(keys) > MAX_TAGS:
        own = len(keys) - len(tags)
        raise FieldError(
            "tags",
            {},
            f"has {len(tags)} tags; AWS allows {MAX_TAGS} per resource and the platform adds"
            f" up to {own} of its own ({', '.join(PLATFORM_TAG_KEYS)}), so give at most"
            f" {MAX_TAGS - own}",
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_TAG_KEY or not _tag_text(key):
            raise FieldError(
                f"tags.{key}",
                key,
                f"is not an allowed tag key (1 to {MAX_TAG_KEY} letters, digits, spaces and"
                f" {TAG_PUNCTUATION})",
            )
        if key.lower().startswith("aws:"):
            raise FieldError(
                f"tags.{key}", key, "is not an allowed tag key (the prefix 'aws:' is AWS's)"
            )
        if len(value) > MAX_TAG_VALUE or not _tag_text(value):
            raise FieldError(
                f"tags.{key}",
                value,
                f"is not an allowed tag value (at most {MAX_TAG_VALUE} letters, digits, spaces"
                f" and {TAG_PUNCTUATION})",
            )


def _tag_text(text: str) -> bool:
    return all(unicodedata.category(c)[0] in "LZN" or c in TAG_PUNCTUATION for c in text)


def check_descriptions(config: EnvironmentSpec) -> None:
    """Refuse descriptions longer than a resource they are copied to, or with control characters."""
    texts: list[tuple[str, str, str, str]] = []
    for index, model in enumerate(config.models):
        pipeline = f"{model.pipeline.kind} pipeline of {model.name}: {model.description}"
        copies = (model.description, pipeline)
        for limit, copied in zip(DESCRIPTION_LIMITS["model"], copies, strict=True):
            texts.append((f"models[{index}].description", model.description, copied, limit.what))
    for index, group in enumerate(config.feature_groups):
        (limit,) = DESCRIPTION_LIMITS["feature_group"]
        field = f"feature_groups[{index}].description"
        texts.append((field, group.description, group.description, limit.what))
    limits = {limit.what: limit for group in DESCRIPTION_LIMITS.values() for limit in group}
    for field, value, copied, what in texts:
        limit = limits[what]
        if len(copied) > limit.max_length:
            room = limit.max_length - (len(copied) - len(value))
            raise FieldError(
                field,
                value,
                f"is {len(value)} characters long; it is copied to the {what}, which takes at"
                f" most {limit.max_length} (give at most {room})",
            )
        if any(unicodedata.category(c)[0] == "C" for c in value):
            raise FieldError(
                field,
                value,
                f"has a line break or another control character, which the {what} refuses"
                " (write it on one line)",
            )


def check_instance_types(config: EnvironmentSpec) -> None:
    """Refuse instance types the API does not accept for their job, or the region lacks.

    Studio's and the processing jobs'; the serving's are checked by
    :func:`check_serving_regions`.
    """
    for field, value, kind in _instance_types(config):
        problem = instance_type_problem(value, kind, config.region)
        if problem is not None:
            raise FieldError(field, value, problem)


def _instance_types(config: EnvironmentSpec) -> Iterator[tuple[str, str, JobKind]]:
    """(field, instance type, kind of job) of Studio's and the pipelines' processing instances."""
    studio = config.studio
    yield "studio.default_instance_type", studio.default_instance_type, JobKind.STUDIO_APP
    for index, space in enumerate(studio.shared_spaces):
        field = f"studio.shared_spaces[{index}].instance_type"
        yield field, space.instance_type, JobKind.STUDIO_APP
    for index, model in enumerate(config.models):
        if isinstance(model.pipeline, TrainingPipelineSpec):
            field = f"models[{index}].pipeline.processing_instance_type"
            yield field, model.pipeline.processing_instance_type, JobKind.PROCESSING


def check_serving_regions(models: Sequence[ModelSpec], region: str) -> None:
    """Reject instance types the SageMaker API does not accept for the model's kind of
    serving (endpoint or batch transform), or that the region does not offer for it (where
    the price list says: :mod:`platform_config.aws_facts`), and images and LLM settings that
    do not fit the region or the fleet (:func:`check_serving_image`).

    Raises
    ------
    FieldError
        On ``models[<i>].serving.<field>``, naming what is allowed or offered.
    """
    for index, model in enumerate(models):
        serving = model.serving
        if serving is None:
            continue
        kind = JobKind.BATCH_TRANSFORM if serving.kind is EndpointKind.BATCH else JobKind.ENDPOINT
        for field, instance_type in serving.instance_types():
            problem = instance_type_problem(instance_type, kind, region)
            if problem is not None:
                raise FieldError(f"models[{index}].serving.{field}", instance_type, problem)
        check_serving_image(f"models[{index}].serving", model, region)


def check_builds(config: EnvironmentSpec) -> None:
    """Refuse pipelines and monitors that synth cannot build in the environment's region."""
    for index, model in enumerate(config.models):
        for field, value, key in _builds(model):
            problem = build_problem(key, config.region)
            if problem is not None:
                raise FieldError(f"models[{index}].{field}", value, problem)


def _builds(model: ModelSpec) -> Iterator[tuple[str, object, str]]:
    """(field, value, key of ``unbuildable``) of what synth builds for ``model``."""
    pipeline = model.pipeline
    if isinstance(pipeline, FineTuningPipelineSpec):
        yield (
            "pipeline.base_model",
            pipeline.base_model,
            f"pipeline:fine_tuning:{pipeline.base_model}",
        )
    else:
        yield "pipeline.kind", pipeline.kind, f"pipeline:{pipeline.kind}"
    serving = model.serving
    if serving is None:
        return
    if serving.kind.value == "batch":
        yield "serving.kind", serving.kind.value, "pipeline:batch"
    if serving.captures_data and model.monitoring.enabled:
        monitoring = model.monitoring
        monitors = {
            "data_quality": monitoring.data_quality,
            "model_quality": monitoring.model_quality,
            "bias": monitoring.bias,
            "explainability": monitoring.explainability,
        }
        for monitor, on in monitors.items():
            if on:
                yield f"monitoring.{monitor}", True, f"monitor:{monitor}"

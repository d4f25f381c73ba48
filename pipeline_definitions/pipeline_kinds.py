"""Pipeline kinds: what builds the definition of a model's pipeline for each ``pipeline.kind``.

A kind is a :class:`PipelineKindPlugin` registered with :func:`register_pipeline_kind`. The
built-in kinds (``training``, ``automl``, ``fine_tuning``) are registered here; a platform
team adds its own in a module of its own that defines ``PIPELINE_KINDS = (plugin, ...)``
and names that module in ``pipeline_plugins:`` at the top of ``config/models.yaml`` (see
``examples/custom_pipeline_kind``). The configuration loader imports the listed modules
and registers their kinds before it validates the catalogue; the pipelines stack looks a
model's kind up here (:func:`pipeline_kind`) and calls its builder.

Importing this module imports neither the ``sagemaker`` SDK nor ``aws_cdk``: the built-in
builders import them when they are called, so that checking the configuration stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aws_cdk import Stack
    from aws_cdk import aws_iam as iam
    from pydantic import BaseModel

    from pipeline_definitions.training_pipeline import StepCodeUris
    from platform_config.pipeline_spec import PipelineSpec

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class DefinitionBuilder(Protocol):
    """Builds the definition JSON of one model's pipeline, offline and deterministically.

    ``spec`` is the model's validated ``pipeline:`` section; a plugin's own settings are
    ``spec.settings`` (an instance of its ``settings_model``). The keyword arguments are
    the environment's: the pipeline's name and region, the execution role, the artifacts
    bucket, the default input prefix, the model's package group, the workload key, the
    subnets and security groups of the jobs, and the ``s3://`` URIs of the platform's step
    scripts. A ``ValueError`` raised here becomes a one-line configuration error naming
    the model and the environment.
    """

    def __call__(
        self,
        spec: PipelineSpec,
        *,
        pipeline_name: str,
        region: str,
        role_arn: str,
        default_bucket: str,
        input_data_uri: str,
        model_package_group_name: str,
        kms_key_arn: str,
        subnet_ids: tuple[str, ...],
        security_group_ids: tuple[str, ...],
        code_uris: StepCodeUris,
    ) -> str: ...


#: Statements the kind's jobs need beyond the execution role, given the pipelines stack
#: and the specs of every model of that kind in the environment.
PolicyStatements = Callable[["Stack", Sequence["PipelineSpec"]], "list[iam.PolicyStatement]"]


@dataclass(frozen=True)
class PipelineKindPlugin:
    """One kind of pipeline: its name, its own settings and how its definition is built.

    Attributes
    ----------
    name:
        The value of ``pipeline.kind`` (lower case, digits and ``_``, up to 40 characters).
    build:
        The :class:`DefinitionBuilder`.
    settings_model:
        A pydantic model of the kind's own fields, given under ``pipeline.settings`` and
        validated by it (errors name ``models[i].pipeline.settings.<field>``). Default
        ``None``: the kind takes no settings, and ``pipeline.settings`` is refused.
    policy_statements:
        What the kind's jobs need beyond the execution role (default: nothing). Added to
        the execution role, in one policy of the pipelines stack, only when a model of the
        environment has this kind.
    wildcard_reason:
        Why the wildcards of those statements are needed; each is acknowledged with it
        (default empty: a wildcard stays an open finding of the quality gates).
    package_image_runs_on:
        What the inference image of the packages the kind registers can run on: ``cpu``,
        ``gpu`` or ``neuron``. The configuration rejects serving such a package, without
        ``serving.image_uri``, on an instance the image cannot use (default ``None``:
        unknown, not checked).
    """

    name: str
    build: DefinitionBuilder
    settings_model: type[BaseModel] | None = None
    policy_statements: PolicyStatements | None = None
    wildcard_reason: str = ""
    package_image_runs_on: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                f"pipeline kind name {self.name!r} is not allowed (allowed: a lower-case"
                " letter, then lower-case letters, digits or _, up to 40 characters)"
            )


_KINDS: dict[str, PipelineKindPlugin] = {}


def register_pipeline_kind(plugin: PipelineKindPlugin) -> PipelineKindPlugin:
    """Make ``plugin.name`` a pipeline kind; registering the same plugin again is a no-op.

    Raises
    ------
    ValueError
        Another plugin already has that name (a built-in kind cannot be replaced).
    """
    existing = _KINDS.get(plugin.name)
    if existing is not None and existing is not plugin:
        raise ValueError(f"pipeline kind {plugin.name!r} is already registered")
    _KINDS[plugin.name] = plugin
    return plugin


def registered_pipeline_kinds() -> tuple[str, ...]:
    """The names of the registered kinds, sorted."""
    return tuple(sorted(_KINDS))


def pipeline_kind(name: str) -> PipelineKindPlugin:
    """The plugin registered as ``name``.

    Raises
    ------
    ValueError
        No kind of that name, listing the registered kinds.
    """
    try:
        return _KINDS[name]
    except KeyError:
        allowed = ", ".join(registered_pipeline_kinds())
        raise ValueError(f"pipeline kind {name!r} is not registered (registered: {allowed})")


# --- the built-in kinds ------------------------------------------------------------------


def _common(arguments: dict[str, Any]) -> dict[str, Any]:
    """The builders' shared arguments (everything but the training step scripts)."""
    return {key: value for key, value in arguments.items() if key != "code_uris"}


def _build_training(spec: PipelineSpec, *, code_uris: StepCodeUris, **arguments: Any) -> str:
    from pipeline_definitions.training_pipeline import (
        TrainingPipelineSettings,
        build_training_pipeline,
    )
    from platform_config.pipeline_spec import Distribution

    return build_training_pipeline(
        **_common(arguments),
        code_uris=code_uris,
        settings=TrainingPipelineSettings(
            processing_instance_type=spec.processing_instance_type,
            training_instance_type=spec.instance_type,
            training_instance_count=spec.training_instance_count,
            shard_training_data=spec.distribution is Distribution.SHARDED_BY_S3_KEY,
            use_spot_training=spec.spot,
            max_run_seconds=spec.max_run_seconds,
            max_wait_seconds=spec.max_wait,
            auc_threshold=spec.quality_threshold,
            target_column=spec.label_column,
        ),
    )


def _build_automl(spec: PipelineSpec, **arguments: Any) -> str:
    from pipeline_definitions.automl_pipeline import AutoMlPipelineSettings, build_automl_pipeline

    return build_automl_pipeline(
        **_common(arguments),
        settings=AutoMlPipelineSettings(
            target_column=spec.label_column,
            max_run_seconds=spec.max_run_seconds,
            auc_threshold=spec.quality_threshold,
        ),
    )


def _build_fine_tuning(spec: PipelineSpec, **arguments: Any) -> str:
    from pipeline_definitions.fine_tuning_pipeline import (
        FineTuningPipelineSettings,
        build_fine_tuning_pipeline,
    )
    from platform_config.pipeline_spec import Distribution

    return build_fine_tuning_pipeline(
        **_common(arguments),
        settings=FineTuningPipelineSettings(
            base_model=str(spec.base_model),
            accept_eula=spec.accept_eula,
            training_instance_type=spec.instance_type,
            training_instance_count=spec.training_instance_count,
            torchrun=spec.distribution is Distribution.TORCHRUN,
            epochs=spec.epochs,
            batch_size=spec.batch_size,
            use_spot_training=spec.spot,
            max_run_seconds=spec.max_run_seconds,
            max_wait_seconds=spec.max_wait,
        ),
    )


def _automl_statements(stack: Stack, specs: Sequence[PipelineSpec]) -> list[iam.PolicyStatement]:
    """Autopilot jobs started by a pipeline are ``CreateAutoMLJob`` (V1) jobs."""
    from aws_cdk import aws_iam as iam

    return [
        iam.PolicyStatement(
            sid="RunAutoMLJobs",
            actions=[
                "sagemaker:CreateAutoMLJob",
                "sagemaker:DescribeAutoMLJob",
                "sagemaker:StopAutoMLJob",
            ],
            resources=[
                stack.format_arn(service="sagemaker", resource="automl-job", resource_name="*")
            ],
        ),
        # Supports only Resource "*" (Service Authorization Reference).
        iam.PolicyStatement(
            sid="ListAutoMLCandidates",
            actions=["sagemaker:ListCandidatesForAutoMLJob"],
            resources=["*"],
        ),
    ]


def _fine_tuning_statements(
    stack: Stack, specs: Sequence[PipelineSpec]
) -> list[iam.PolicyStatement]:
    """Fine-tuning jobs read the base model's script and weights from JumpStart's buckets."""
    from aws_cdk import aws_iam as iam

    from pipeline_definitions.foundation_models import foundation_models

    tuned = sorted({spec.base_model for spec in specs if spec.base_model is not None})
    if not tuned:
        return []
    models = [foundation_models()[name] for name in tuned]
    objects = sorted(
        {
            uri.removeprefix("s3://")
            for m in models
            for uri in (m.source_uri(stack.region), m.artifacts_uri(stack.region))
        }
    )
    buckets = sorted({obj.split("/", 1)[0] for obj in objects})
    return [
        iam.PolicyStatement(
            sid="ReadFoundationModels",
            actions=["s3:GetObject"],
            resources=[f"arn:{stack.partition}:s3:::{obj}*" for obj in objects],
        ),
        iam.PolicyStatement(
            sid="ListFoundationModels",
            actions=["s3:ListBucket"],
            resources=[f"arn:{stack.partition}:s3:::{bucket}" for bucket in buckets],
        ),
    ]


#: The built-in kinds, registered through the same mechanism as a platform team's own.
BUILT_IN_KINDS: tuple[PipelineKindPlugin, ...] = tuple(
    register_pipeline_kind(plugin)
    for plugin in (
        # SageMaker's XGBoost container serves on CPU only.
        PipelineKindPlugin(name="training", build=_build_training, package_image_runs_on="cpu"),
        PipelineKindPlugin(
            name="automl",
            build=_build_automl,
            policy_statements=_automl_statements,
            wildcard_reason="Autopilot job names are generated per pipeline run; the actions"
            " are limited to AutoML jobs of this account and region, but for"
            " ListCandidatesForAutoMLJob, which supports no resource-level permissions.",
        ),
        PipelineKindPlugin(
            name="fine_tuning",
            build=_build_fine_tuning,
            policy_statements=_fine_tuning_statements,
            wildcard_reason="The pinned base models' script archive and weights in SageMaker"
            " JumpStart's buckets: read-only, limited to those objects' keys (the weights"
            " may be several objects under one key prefix).",
        ),
    )
)

"""Pipeline kinds: what builds the definition of a model's pipeline for each ``pipeline.kind``.

A kind is a :class:`PipelineKindPlugin`. The built-in kinds (``training``, ``automl``,
``fine_tuning``) are :data:`BUILT_IN_KINDS`; a platform team adds its own in a module of
its own that defines ``PIPELINE_KINDS = (plugin, ...)`` and names that module in
``pipeline_plugins:`` at the top of ``config/models.yaml`` (see
``examples/custom_pipeline_kind``). The configuration loader imports the listed modules
and gives their kinds to the validation of the catalogue, in its context; a model of a
registered kind keeps the plugin that validated it. The pipelines stack finds the kind of
a model's validated spec with :func:`plugin_of` and calls its builder. Nothing is
registered globally: the kinds a catalogue may use are those its own file lists.

Importing this module imports neither the ``sagemaker`` SDK nor ``aws_cdk``: the built-in
builders import them when they are called, so that checking the configuration stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from platform_config.pipeline_spec import (
    AutoMlPipelineSpec,
    FineTuningPipelineSpec,
    PipelineSpec,
    RegisteredPipelineSpec,
    TrainingPipelineSpec,
)

if TYPE_CHECKING:
    from aws_cdk import Stack
    from aws_cdk import aws_iam as iam
    from pydantic import BaseModel

    from pipeline_definitions.clarify_checks import ClarifyChecks
    from pipeline_definitions.pipeline_arguments import FeatureGroupSource, ServingInstanceTypes
    from pipeline_definitions.training_pipeline import StepCodeUris
    from platform_config.monitoring_spec import MonitoringSpec

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class DefinitionBuilder(Protocol):
    """Builds the definition JSON of one model's pipeline, offline and deterministically.

    ``spec`` is the model's validated ``pipeline:`` section, always of the builder's own
    kind (typed ``Any`` here: each builder takes its kind's model, a built-in kind's own or,
    for a plugin's kind, a :class:`RegisteredPipelineSpec` whose ``settings`` are an
    instance of its ``settings_model``). The keyword arguments are the environment's: the pipeline's name and region, the execution role, the artifacts
    bucket, the default input prefix, the model's package group, the workload key, the
    subnets and security groups of the jobs, and the ``s3://`` URIs of the platform's step
    scripts; and the model's: where it is served in every environment (``serving``, recorded
    on its packages), its ``monitoring:`` section (whose monitors need baselines from the
    pipeline), the environment's MLflow tracking server (``None``: none) and the deployed
    feature groups of the catalogue, by catalogue name. A ``ValueError`` raised here
    becomes a one-line configuration error naming the model and the environment.
    """

    def __call__(
        self,
        spec: Any,
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
        serving: ServingInstanceTypes,
        monitoring: MonitoringSpec,
        mlflow_tracking_server_arn: str | None,
        feature_groups: Mapping[str, FeatureGroupSource],
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
    baselines:
        The monitors (``data_quality``, ``model_quality``, ``bias``, ``explainability``)
        whose baselines the kind's pipeline registers with each package. A model of the
        kind gets no other monitor: off by default, refused when turned on (default: none).
    """

    name: str
    build: DefinitionBuilder
    settings_model: type[BaseModel] | None = None
    policy_statements: PolicyStatements | None = None
    wildcard_reason: str = ""
    package_image_runs_on: str | None = None
    baselines: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                f"pipeline kind name {self.name!r} is not allowed (allowed: a lower-case"
                " letter, then lower-case letters, digits or _, up to 40 characters)"
            )


def plugin_of(spec: PipelineSpec) -> PipelineKindPlugin:
    """The kind that builds ``spec``: a built-in kind's, or the plugin that validated it.

    Raises
    ------
    TypeError
        The kind that validated a registered spec is not a :class:`PipelineKindPlugin`.
    """
    if isinstance(spec, RegisteredPipelineSpec):
        plugin = spec.registered_kind
        if not isinstance(plugin, PipelineKindPlugin):
            raise TypeError(f"pipeline kind {spec.kind!r} is not a PipelineKindPlugin: {plugin!r}")
        return plugin
    return BUILT_IN_KINDS[spec.kind]


# --- the built-in kinds ------------------------------------------------------------------


#: What only the training kind uses; the other built-in builders do not take these.
_TRAINING_ONLY = ("code_uris", "monitoring", "feature_groups")


def _common(arguments: dict[str, Any]) -> dict[str, Any]:
    """The builders' shared arguments (everything the training kind alone uses removed)."""
    return {key: value for key, value in arguments.items() if key not in _TRAINING_ONLY}


def _build_training(spec: TrainingPipelineSpec, **arguments: Any) -> str:
    from pipeline_definitions.training_pipeline import (
        TrainingPipelineSettings,
        build_training_pipeline,
    )

    return build_training_pipeline(
        spec=spec,
        **_common(arguments),
        code_uris=arguments["code_uris"],
        feature_group=_feature_group(spec, arguments.get("feature_groups", {})),
        settings=TrainingPipelineSettings(clarify=clarify_checks(arguments.get("monitoring"))),
    )


def clarify_checks(monitoring: MonitoringSpec | None) -> ClarifyChecks:
    """The Clarify checks whose baselines the model's bias and explainability monitors read."""
    from pipeline_definitions.clarify_checks import ClarifyChecks

    if monitoring is None:
        return ClarifyChecks()
    facet = monitoring.bias_facet if monitoring.bias else None
    return ClarifyChecks(
        bias_facet=facet.name if facet else None,
        bias_facet_values=tuple(str(value) for value in facet.values) if facet else (),
        bias_facet_threshold=facet.threshold if facet else None,
        shap_samples=monitoring.shap_samples if monitoring.explainability else None,
    )


def _feature_group(
    spec: TrainingPipelineSpec, feature_groups: Mapping[str, FeatureGroupSource]
) -> FeatureGroupSource | None:
    """The deployed group of ``spec.training_source``, narrowed to its features."""
    source = spec.training_source
    if source is None:
        return None
    if source.feature_group not in feature_groups:
        raise ValueError(
            f"training_source.feature_group={source.feature_group!r} is not allowed; allowed:"
            f" a deployed feature group of this environment ({', '.join(feature_groups)})"
        )
    return feature_groups[source.feature_group].only(source.features)


def _build_automl(spec: AutoMlPipelineSpec, **arguments: Any) -> str:
    from pipeline_definitions.automl_pipeline import build_automl_pipeline

    return build_automl_pipeline(spec=spec, **_common(arguments))


def _build_fine_tuning(spec: FineTuningPipelineSpec, **arguments: Any) -> str:
    from pipeline_definitions.fine_tuning_pipeline import build_fine_tuning_pipeline

    return build_fine_tuning_pipeline(spec=spec, **_common(arguments))


def _training_statements(stack: Stack, specs: Sequence[PipelineSpec]) -> list[iam.PolicyStatement]:
    """Clarify's shadow endpoints; and, for a feature group source, the offline store query."""
    from aws_cdk import aws_iam as iam

    from pipeline_definitions.pipeline_arguments import (
        SHADOW_ENDPOINT_ACTIONS,
        SHADOW_ENDPOINT_PREFIX,
    )

    def arn(resource: str, name: str) -> str:
        return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

    statements = [
        iam.PolicyStatement(
            sid="ClarifyShadowEndpoints",
            actions=list(SHADOW_ENDPOINT_ACTIONS),
            resources=[
                arn("endpoint-config", f"{SHADOW_ENDPOINT_PREFIX}*"),
                arn("endpoint", f"{SHADOW_ENDPOINT_PREFIX}*"),
            ],
        )
    ]
    groups = sorted(
        {
            spec.training_source.feature_group
            for spec in specs
            if isinstance(spec, TrainingPipelineSpec) and spec.training_source is not None
        }
    )
    return statements + (_offline_store_statements(stack, groups) if groups else [])


def _offline_store_statements(stack: Stack, groups: Sequence[str]) -> list[iam.PolicyStatement]:
    """Query the groups' offline-store tables with Athena (``feature_store_dataset.py``).

    Deployed names are ``<name prefix>-<group>``, and SageMaker names a group's Glue table
    ``<deployed name, '-' as '_'>_<creation time>``: both are matched by the group's name
    within this account and region (one environment per account).
    """
    from aws_cdk import aws_iam as iam

    from pipeline_definitions.pipeline_arguments import GLUE_DATABASE

    tables = [group.replace("-", "_") for group in groups]
    return [
        iam.PolicyStatement(
            sid="DescribeSourceFeatureGroups",
            actions=["sagemaker:DescribeFeatureGroup"],
            resources=[
                stack.format_arn(
                    service="sagemaker", resource="feature-group", resource_name=f"*-{group}"
                )
                for group in groups
            ],
        ),
        iam.PolicyStatement(
            sid="QueryOfflineStores",
            actions=[
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:StopQueryExecution",
            ],
            resources=[
                stack.format_arn(service="athena", resource="workgroup", resource_name="primary")
            ],
        ),
        iam.PolicyStatement(
            sid="ReadOfflineStoreTables",
            actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            resources=[
                stack.format_arn(service="glue", resource="catalog"),
                stack.format_arn(service="glue", resource="database", resource_name=GLUE_DATABASE),
                *(
                    stack.format_arn(
                        service="glue",
                        resource="table",
                        resource_name=f"{GLUE_DATABASE}/*{table}_*",
                    )
                    for table in tables
                ),
            ],
        ),
        # Lake Formation vends the table's data to Athena; the action has no resource type.
        iam.PolicyStatement(
            sid="LakeFormationDataAccess",
            actions=["lakeformation:GetDataAccess"],
            resources=["*"],
        ),
    ]


def _automl_statements(
    stack: Stack,
    specs: Sequence[PipelineSpec],  # noqa: ARG001  # PolicyStatements' signature
) -> list[iam.PolicyStatement]:
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

    from platform_config.foundation_models import foundation_models

    tuned = sorted({spec.base_model for spec in specs if isinstance(spec, FineTuningPipelineSpec)})
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


#: The built-in kinds, by name: what a platform team's plugin is, for each of them.
BUILT_IN_KINDS: Mapping[str, PipelineKindPlugin] = MappingProxyType(
    {
        plugin.name: plugin
        for plugin in (
            PipelineKindPlugin(
                name="training",
                build=_build_training,
                policy_statements=_training_statements,
                wildcard_reason="Clarify names each shadow endpoint with the prefix the"
                " pipeline gives it (clarify-shadow) and a suffix of its own; a source feature"
                " group's name and Glue table carry the environment's prefix and a creation"
                " time set at deploy time; Lake Formation's GetDataAccess has no resource type.",
                baselines=TrainingPipelineSpec.baselines,
                package_image_runs_on=TrainingPipelineSpec.package_image_runs_on,
            ),
            PipelineKindPlugin(
                name="automl",
                build=_build_automl,
                policy_statements=_automl_statements,
                wildcard_reason="Autopilot job names are generated per pipeline run; the"
                " actions are limited to AutoML jobs of this account and region, but for"
                " ListCandidatesForAutoMLJob, which supports no resource-level permissions.",
                baselines=AutoMlPipelineSpec.baselines,
                package_image_runs_on=AutoMlPipelineSpec.package_image_runs_on,
            ),
            PipelineKindPlugin(
                name="fine_tuning",
                build=_build_fine_tuning,
                policy_statements=_fine_tuning_statements,
                wildcard_reason="The pinned base models' script archive and weights in"
                " SageMaker JumpStart's buckets: read-only, limited to those objects' keys"
                " (the weights may be several objects under one key prefix).",
                baselines=FineTuningPipelineSpec.baselines,
                package_image_runs_on=FineTuningPipelineSpec.package_image_runs_on,
            ),
        )
    }
)

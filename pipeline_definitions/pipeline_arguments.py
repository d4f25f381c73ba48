"""Checks of the arguments every pipeline builder takes, with one-line errors.

Each check raises ``ValueError("<field>=<value> is not allowed; allowed: <what>")``, so
that the configuration layer can prefix the file name and show a single line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from platform_config.aws_facts import JobKind, instance_type_problem

if TYPE_CHECKING:
    from platform_config.feature_group_spec import FeatureGroupSpec
    from platform_config.serving_spec import ServingSpec

PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
MODEL_PACKAGE_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
BUCKET = re.compile(r"^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+$")
ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]{1,512}$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:key/[a-zA-Z0-9\-]+$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


def check_pattern(field: str, value: object, pattern: re.Pattern[str], allowed: str) -> None:
    """Raise unless ``value`` is a string matching ``pattern``."""
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{field}={value!r} is not allowed; allowed: {allowed}")


def check_s3_uri(field: str, value: object, *, suffix: str = "") -> None:
    """Raise unless ``value`` is ``s3://<bucket>/<key>`` (ending with ``suffix``)."""
    if not isinstance(value, str) or not S3_URI.match(value) or not value.endswith(suffix):
        what = (
            f"an s3://<bucket>/<key> URI ending in {suffix}"
            if suffix
            else "an s3://<bucket>/<key> URI"
        )
        raise ValueError(f"{field}={value!r} is not allowed; allowed: {what}")


def check_int_range(field: str, value: object, low: int, high: int) -> None:
    """Raise unless ``value`` is an ``int`` (not a ``bool``) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"{field}={value!r} is not allowed; allowed: an integer from {low} to {high}"
        )


def check_instance_type(field: str, value: object, kind: JobKind) -> None:
    """Raise unless ``value`` is an instance type the SageMaker API accepts for ``kind``."""
    problem = instance_type_problem(value, kind) if isinstance(value, str) else "is not a string"
    if problem is not None:
        raise ValueError(f"{field}={value!r} {problem}")


def check_fraction(field: str, value: object, *, allow_zero: bool) -> None:
    """Raise unless ``value`` is a number in [0, 1] (or (0, 1] without ``allow_zero``)."""
    ok = False
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        ok = (number >= 0.0 if allow_zero else number > 0.0) and number <= 1.0
    if not ok:
        allowed = "a number in [0, 1]" if allow_zero else "a number in (0, 1]"
        raise ValueError(f"{field}={value!r} is not allowed; allowed: {allowed}")


def check_common_arguments(
    *,
    pipeline_name: str,
    region: str,
    bucket: str,
    kms_key_arn: str,
    bucket_field: str = "default_bucket",
) -> None:
    """Check the arguments shared by every builder (the bucket under ``bucket_field``)."""
    check_pattern(
        "pipeline_name", pipeline_name, PIPELINE_NAME, "1-256 letters, digits and inner hyphens"
    )
    check_pattern("region", region, REGION, "an AWS region name such as 'eu-west-1'")
    check_pattern(bucket_field, bucket, BUCKET, "an S3 bucket name (3-63 a-z 0-9 . -)")
    check_pattern(
        "kms_key_arn",
        kms_key_arn,
        KMS_KEY_ARN,
        "a KMS key ARN arn:aws:kms:<region>:<account>:key/<id>",
    )
    key_region = kms_key_arn.split(":")[3]
    if key_region != region:
        raise ValueError(
            f"kms_key_arn={kms_key_arn!r} is not allowed; allowed: a key in the pipeline's "
            f"region {region!r}, not {key_region!r}"
        )


def check_role_arn(role_arn: object) -> None:
    """Check the execution role given to the jobs."""
    check_pattern(
        "role_arn", role_arn, ROLE_ARN, "an IAM role ARN arn:aws:iam::<account>:role/<name>"
    )


@dataclass(frozen=True)
class NetworkPlacement:
    """Where the pipeline's jobs run: a VPC (subnets and security groups) or none."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    @classmethod
    def of(
        cls, *, subnet_ids: Sequence[str], security_group_ids: Sequence[str]
    ) -> NetworkPlacement:
        """Check and build; both lists empty (no VPC) or both non-empty."""
        if isinstance(subnet_ids, str) or isinstance(security_group_ids, str):
            raise TypeError("subnet_ids and security_group_ids must be sequences of IDs, not str")
        subnets, groups = tuple(subnet_ids), tuple(security_group_ids)
        if bool(subnets) != bool(groups):
            raise ValueError(
                f"subnet_ids={list(subnets)!r} with security_group_ids={list(groups)!r} is not "
                "allowed; allowed: both non-empty (jobs in a VPC) or both empty (no VPC)"
            )
        for value in subnets:
            check_pattern("subnet_ids", value, SUBNET_ID, "subnet IDs 'subnet-<8 to 17 hex>'")
        for value in groups:
            check_pattern(
                "security_group_ids",
                value,
                SECURITY_GROUP_ID,
                "security group IDs 'sg-<8 to 17 hex>'",
            )
        return cls(subnet_ids=subnets, security_group_ids=groups)

    @property
    def subnets_or_none(self) -> list[str] | None:
        return list(self.subnet_ids) or None

    @property
    def security_groups_or_none(self) -> list[str] | None:
        return list(self.security_group_ids) or None


def check_registering_pipeline(
    *,
    pipeline_name: str,
    region: str,
    default_bucket: str,
    kms_key_arn: str,
    role_arn: str,
    model_package_group_name: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    input_data_uri: str | None,
    mlflow_tracking_server_arn: str | None = None,
) -> tuple[NetworkPlacement, str]:
    """The checks every pipeline that trains and registers a model shares.

    Returns the jobs' network placement and the ``InputDataUri`` default (given, or
    ``s3://<default_bucket>/<pipeline_name>/input/``). Raises ``ValueError`` naming the
    argument, its value and what is allowed.
    """
    check_common_arguments(
        pipeline_name=pipeline_name, region=region, bucket=default_bucket, kms_key_arn=kms_key_arn
    )
    check_role_arn(role_arn)
    check_pattern(
        "model_package_group_name",
        model_package_group_name,
        MODEL_PACKAGE_GROUP_NAME,
        "1-63 letters, digits and inner hyphens",
    )
    network = NetworkPlacement.of(subnet_ids=subnet_ids, security_group_ids=security_group_ids)
    if input_data_uri is None:
        input_data_uri = f"s3://{default_bucket}/{pipeline_name}/input/"
    check_s3_uri("input_data_uri", input_data_uri)
    check_mlflow_tracking_server_arn(mlflow_tracking_server_arn)
    return network, input_data_uri


MLFLOW_TRACKING_SERVER_ARN = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:\d{12}:mlflow-tracking-server/[a-zA-Z0-9\-]{1,256}$"
    # An MLflow app's ARN holds an id SageMaker generates: a stack passes it as a
    # CloudFormation dynamic reference to the SSM parameter holding it (resolved at deploy).
    r"|^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:\d{12}:mlflow-app/[a-zA-Z0-9\-]{1,256}$"
    r"|^\{\{resolve:ssm:/[a-zA-Z0-9_.\-/]+\}\}$"
)


def mlflow_tracking_server_arn(*, partition: str, region: str, account: str, name: str) -> str:
    """The ARN of the MLflow tracking server ``name``: SageMaker derives it from the name."""
    return f"arn:{partition}:sagemaker:{region}:{account}:mlflow-tracking-server/{name}"


def check_mlflow_tracking_server_arn(value: object) -> None:
    """Check the tracking server a pipeline logs its executions to (``None``: none)."""
    if value is not None:
        check_pattern(
            "mlflow_tracking_server_arn",
            value,
            MLFLOW_TRACKING_SERVER_ARN,
            "an MLflow tracking server ARN arn:aws:sagemaker:<region>:<account>:"
            "mlflow-tracking-server/<name>, an MLflow app ARN (mlflow-app/<id>), a"
            " {{resolve:ssm:/<parameter>}} reference to one, or None",
        )


@dataclass(frozen=True, kw_only=True)
class ServingInstanceTypes:
    """Where a registered model version may be served, as its package records it.

    ``CreateModelPackage`` records ``SupportedRealtimeInferenceInstanceTypes`` and
    ``SupportedTransformInstanceTypes``; they must name every instance type the model is
    served on, in every environment its versions are promoted to (a version registered in
    dev is served in prod). Build it with :meth:`of` from the model's serving entries.

    Attributes
    ----------
    real_time:
        Instance types of real-time and asynchronous endpoints (every variant, shadow
        variants included), sorted, without repeats. Default none.
    transform:
        Instance types of batch transform. Default none.
    """

    real_time: tuple[str, ...] = ()
    transform: tuple[str, ...] = ()

    @classmethod
    def of(cls, servings: Iterable[ServingSpec | None]) -> ServingInstanceTypes:
        """From a model's ``ServingSpec`` of each environment (``None`` where not served).

        A serving spec is read through ``kind.value`` and ``instance_types()`` (its
        ``(field, instance type)`` pairs); serverless endpoints have no instance type.
        """
        real_time: set[str] = set()
        transform: set[str] = set()
        for serving in servings:
            if serving is None:
                continue
            kind = serving.kind.value
            types = {instance for _, instance in serving.instance_types()}
            (transform if kind == "batch" else real_time).update(types)
        return cls(real_time=tuple(sorted(real_time)), transform=tuple(sorted(transform)))


#: Glue catalog database SageMaker creates the feature groups' offline-store tables in.
GLUE_DATABASE = "sagemaker_featurestore"


@dataclass(frozen=True, kw_only=True)
class FeatureGroupSource:
    """A deployed feature group a training pipeline reads from its offline store.

    Attributes
    ----------
    name:
        The deployed feature group name (``<name prefix>-<catalogue name>``).
    record_identifier:
        The feature identifying a record.
    event_time:
        The feature holding the record's event time.
    event_time_type:
        ``string`` (ISO 8601) or ``fractional`` (epoch seconds).
    features:
        The features the model trains on, in order: (name, ``string`` | ``integral`` |
        ``fractional``); neither the identifier nor the event time.
    """

    name: str
    record_identifier: str
    event_time: str
    event_time_type: str
    features: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, spec: FeatureGroupSpec, *, name_prefix: str) -> FeatureGroupSource:
        """From a ``FeatureGroupSpec`` of the catalogue, deployed as ``<name_prefix>-<name>``,
        with every feature but the identifier and the event time."""
        types = {f.name: f.type for f in spec.features}
        record_identifier = spec.record_identifier
        event_time = spec.event_time
        return cls(
            name=f"{name_prefix}-{spec.name}",
            record_identifier=record_identifier,
            event_time=event_time,
            event_time_type=types[event_time],
            features=tuple(
                (name, kind)
                for name, kind in types.items()
                if name not in (record_identifier, event_time)
            ),
        )

    def only(self, names: Sequence[str]) -> FeatureGroupSource:
        """The same group with ``names`` (checked by the configuration) as its features, in
        that order; empty: unchanged."""
        if not names:
            return self
        types = dict(self.features)
        return replace(self, features=tuple((name, types[name]) for name in names))


#: Names of the shadow endpoints Clarify creates for the bias and explainability checks and
#: the explainability monitor (``clarify-shadow<suffix>``); their IAM grants name it.
SHADOW_ENDPOINT_PREFIX = "clarify-shadow"
#: What Clarify does with those shadow endpoints (on ``endpoint-config`` and ``endpoint``
#: ARNs with that prefix): create, describe, invoke, tag and delete them.
SHADOW_ENDPOINT_ACTIONS = (
    "sagemaker:CreateEndpointConfig",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DeleteEndpoint",
    "sagemaker:InvokeEndpoint",
    "sagemaker:AddTags",
)

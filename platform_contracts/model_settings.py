"""What the automation functions need to know about one model, as one JSON document.

Each model's stack writes ``/<name prefix>/models/<model>/settings`` (an SSM String
parameter it owns); the retraining trigger and the release automation read every model's
document once per cold start (``GetParametersByPath``). Nothing about the catalogue is in a
function's environment, so no function, rule or policy grows with the number of models.

The document is built by the stacks with :meth:`ModelSettings.to_json` and read by the
functions with :meth:`ModelSettings.from_json`: one definition, no renaming on the way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

#: Version of the document's shape; a function refuses a document of another version.
SCHEMA_VERSION = 1


def settings_path(name_prefix: str) -> str:
    """The SSM path under which every model's settings document lives."""
    return f"/{name_prefix}/models/"


def settings_parameter_name(name_prefix: str, model: str) -> str:
    """``/ml-platform-dev/models/churn-prediction/settings``."""
    return f"{settings_path(name_prefix)}{model}/settings"


@dataclass(frozen=True)
class RetrainingSettings:
    """When a model retrains (see docs/retraining.md for what each trigger passes).

    Attributes
    ----------
    cooldown_seconds:
        Starts closer together than this are dropped (the first one wins).
    on_drift:
        A monitor violation or the drift alarm starts retraining.
    drift_alarm_name:
        The model's composite drift alarm, when it has one.
    monitoring_schedule_names:
        The model's Model Monitor schedules (a violation of any of them is drift).
    dataset_prefix:
        Key prefix, in the datasets bucket, where new training data arrives
        (``<model>/training/``, ``platform_contracts.retraining.training_data_prefix``), or
        ``None`` when new data does not start retraining.
    quiet_period_seconds:
        New data is batched: retraining starts once no object arrived for this long.
    """

    cooldown_seconds: int
    on_drift: bool
    drift_alarm_name: str | None = None
    monitoring_schedule_names: tuple[str, ...] = ()
    dataset_prefix: str | None = None
    quiet_period_seconds: int = 900


@dataclass(frozen=True)
class ReleaseSettings:
    """How an approval of the model's packages is released (see docs/releases.md).

    Attributes
    ----------
    stack_name:
        The model's CloudFormation stack, updated to roll a release out.
    slots:
        The release record's slots this model has (``champion``, and ``candidate`` with a
        challenger or shadow variant).
    candidate_variant:
        ``challenger`` or ``shadow``: what the candidate slot serves, or ``None``.
    pinned_versions:
        Package versions that pinned variants serve (they never follow a release).
    baselines_uri:
        ``s3://`` prefix under which a released version's monitoring baselines are copied
        (``<baselines_uri>/<version>/<monitor>/...``), or ``None`` when nothing monitors it.
    """

    stack_name: str
    slots: tuple[str, ...] = ("champion",)
    candidate_variant: str | None = None
    pinned_versions: tuple[int, ...] = ()
    baselines_uri: str | None = None


@dataclass(frozen=True)
class ModelSettings:
    """One model's settings document (see the module's docstring).

    Attributes
    ----------
    model:
        The catalogue name.
    pipeline_name:
        The model's training pipeline.
    model_package_group_name:
        The model's registry group in this environment.
    retraining:
        :class:`RetrainingSettings`.
    release:
        :class:`ReleaseSettings`, or ``None`` for a model that is not served.
    """

    model: str
    pipeline_name: str
    model_package_group_name: str
    retraining: RetrainingSettings
    release: ReleaseSettings | None = None
    schema_version: int = field(default=SCHEMA_VERSION)

    def to_json(self) -> str:
        """The document, keys sorted (so that the template is deterministic)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ModelSettings:
        """Parse and check a document.

        Raises
        ------
        ValueError
            Naming the field that is missing, unknown or of the wrong type.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"settings document is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise ValueError("settings document is not a JSON object")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {data.get('schema_version')!r} is not {SCHEMA_VERSION}"
            )
        retraining = _build(RetrainingSettings, data.get("retraining"), "retraining")
        release_data = data.get("release")
        release = None if release_data is None else _build(ReleaseSettings, release_data, "release")
        top = {k: v for k, v in data.items() if k not in ("retraining", "release")}
        return _build(cls, {**top, "retraining": retraining, "release": release}, "")


#: The documents :func:`_build` builds.
_Document = TypeVar("_Document", RetrainingSettings, ReleaseSettings, ModelSettings)


def _build(kind: type[_Document], data: Any, where: str) -> _Document:
    """``kind(**data)`` with field names and simple types checked, lists made tuples."""
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise ValueError(f"{where or 'document'} is not a JSON object")
    known = {item.name: item for item in fields(kind)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{prefix}{unknown[0]} is not a known field")
    values: dict[str, Any] = {}
    for name, item in known.items():
        if name not in data:
            if item.default is item.default_factory:  # both MISSING: required
                raise ValueError(f"{prefix}{name} is missing")
            continue
        value = data[name]
        values[name] = tuple(value) if isinstance(value, list) else value
        _check_type(f"{prefix}{name}", values[name], str(item.type))
    return kind(**values)


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "str | None": (str, type(None)),
    "tuple[str, ...]": (tuple,),
    "tuple[int, ...]": (tuple,),
}


def _check_type(name: str, value: Any, annotation: str) -> None:
    allowed = _TYPES.get(annotation)
    if allowed is None:
        return  # nested documents are checked by their own _build
    if isinstance(value, bool) and bool not in allowed:
        raise ValueError(f"{name} is {value!r}, not {annotation}")
    if not isinstance(value, allowed):
        raise ValueError(f"{name} is {value!r}, not {annotation}")
    if isinstance(value, tuple):  # a tuple[...] annotation (checked above)
        member = str if "str" in annotation else int
        if not all(isinstance(v, member) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{name} has a member that is not {member.__name__}")

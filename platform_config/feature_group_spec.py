"""A feature group of the catalogue ``config/feature_groups.yaml`` (``feature_groups:``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictStr, model_validator

from platform_config.base import FieldError, Frozen

FeatureName = Annotated[StrictStr, Field(pattern=r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")]
#: Columns the offline store adds to every record; a feature cannot have these names.
RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")


class FeatureSpec(Frozen):
    """One feature: its name and type (``string``, ``integral`` or ``fractional``)."""

    name: FeatureName
    type: Literal["string", "integral", "fractional"]


class OnlineTtl(Frozen):
    """How long a record stays in the online store.

    ``value`` (at least 1) times ``unit`` (``Seconds``, ``Minutes``, ``Hours``, ``Days`` or
    ``Weeks``).
    """

    unit: Literal["Seconds", "Minutes", "Hours", "Days", "Weeks"]
    value: int = Field(ge=1)


class FeatureGroupSpec(Frozen):
    """A feature group of the catalogue ``config/feature_groups.yaml``.

    Attributes
    ----------
    name:
        Feature group name; the deployed name is ``ml-platform-<environment>-<name>``
        (at most 64 characters).
    description:
        Free text (default empty).
    record_identifier:
        The feature that identifies a record (``string`` or ``integral``).
    event_time:
        The feature holding the record's event time (``string`` ISO-8601 or ``fractional``
        epoch seconds).
    features:
        Every feature, the two above included.
    online_store:
        Keep the latest record per identifier for low-latency reads (default off).
    online_ttl:
        Expire online records after this (only with ``online_store``; default never).
    offline_store:
        Keep every record in S3 as an Iceberg table in the Glue catalog (default on).
    """

    name: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$")]
    description: StrictStr = ""
    record_identifier: FeatureName
    event_time: FeatureName
    features: tuple[FeatureSpec, ...] = Field(min_length=2, max_length=2500)
    online_store: bool = False
    online_ttl: OnlineTtl | None = None
    offline_store: bool = True

    @model_validator(mode="after")
    def _coherent(self) -> FeatureGroupSpec:
        names = [feature.name for feature in self.features]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise FieldError("features", repeated, "repeats feature names; each must be unique")
        for index, name in enumerate(names):
            if name.lower() in RESERVED_FEATURE_NAMES:
                raise FieldError(
                    f"features[{index}].name",
                    name,
                    f"is reserved by the offline store ({', '.join(RESERVED_FEATURE_NAMES)})",
                )
        types = {feature.name: feature.type for feature in self.features}
        allowed = {
            "record_identifier": ("string", "integral"),
            "event_time": ("string", "fractional"),
        }
        for field, kinds in allowed.items():
            name = getattr(self, field)
            if name not in types:
                raise FieldError(field, name, f"is not one of the features ({', '.join(names)})")
            if types[name] not in kinds:
                raise FieldError(
                    field, name, f"has type {types[name]}; allowed: {' or '.join(kinds)}"
                )
        if self.online_ttl is not None and not self.online_store:
            raise FieldError("online_ttl", {}, "is set but online_store is off")
        if not (self.online_store or self.offline_store):
            raise FieldError("", self.name, "has neither an online nor an offline store")
        return self

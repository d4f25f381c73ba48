"""Data-quality monitoring of an endpoint whose requests are nested JSON documents."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from ml_constructs import DataQualityMonitor


class PreprocessedDataQualityMonitor(DataQualityMonitor):
    """A :class:`~ml_constructs.DataQualityMonitor` that flattens each record before analysis.

    Model Monitor's analyzer expects flat CSV or JSON records; an endpoint taking nested JSON
    needs a *record preprocessor* (a Python file with a ``preprocess_handler``) that turns
    each captured request into flat features. This subclass changes that one behaviour
    through the documented hook :meth:`app_specification`; everything else (job resources,
    network isolation, encryption, baseline, schedule) is the library's.

    Parameters
    ----------
    record_preprocessor_uri:
        ``s3://`` URI of the preprocessor script, in a bucket the monitoring role may read.
    props:
        Every keyword prop of :class:`~ml_constructs.ModelMonitor` (``endpoint_name``,
        ``schedule_name``, ``schedule_expression``, ``image_uri``, ``baseline_uri``,
        ``settings``), passed on unchanged: the base class's signature still rejects a typo.

    Attributes
    ----------
    record_preprocessor_uri:
        The preprocessor's URI.
    job_definition, schedule, schedule_name:
        As :class:`~ml_constructs.ModelMonitor`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, record_preprocessor_uri: str, **props: Any
    ) -> None:
        if not record_preprocessor_uri.startswith("s3://"):
            raise ValueError(
                f"record_preprocessor_uri: {record_preprocessor_uri!r} is not an s3:// URI"
            )
        # Set before the base class builds the job definition: it calls the hooks.
        self.record_preprocessor_uri = record_preprocessor_uri
        super().__init__(scope, construct_id, **props)

    def app_specification(self, image_uri: str, baseline_uri: str) -> dict[str, Any]:
        """The library's specification plus ``RecordPreprocessorSourceUri``."""
        return {
            **super().app_specification(image_uri, baseline_uri),
            "RecordPreprocessorSourceUri": self.record_preprocessor_uri,
        }

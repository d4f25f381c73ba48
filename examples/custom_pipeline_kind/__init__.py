"""A pipeline kind of a platform team's own, registered without editing the library.

``config/models.yaml`` names this module to use it::

    pipeline_plugins: [examples.custom_pipeline_kind]
    models:
      - name: feature-refresh
        pipeline:
          kind: processing_only
          settings: {instance_type: ml.m5.2xlarge, target_column: label}

The loader imports the module and gives :data:`PIPELINE_KINDS` to the validation of that
catalogue (and of no other); ``pipeline.settings`` is validated by
:class:`ProcessingOnlySettings`.
"""

from examples.custom_pipeline_kind.processing_only_pipeline import (
    PROCESSING_ONLY,
    ProcessingOnlySettings,
    build_processing_only_pipeline,
)

#: The kinds this module adds to a catalogue that lists it.
PIPELINE_KINDS = (PROCESSING_ONLY,)

__all__ = [
    "PIPELINE_KINDS",
    "PROCESSING_ONLY",
    "ProcessingOnlySettings",
    "build_processing_only_pipeline",
]

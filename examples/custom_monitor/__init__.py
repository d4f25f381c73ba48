"""A Model Monitor type changed through a documented hook, without editing the library."""

from examples.custom_monitor.preprocessed_data_quality_monitor import (
    PreprocessedDataQualityMonitor,
)

__all__ = ["PreprocessedDataQualityMonitor"]

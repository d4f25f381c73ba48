"""SageMaker Clarify checks of the training pipeline: model bias and explainability.

Each check is the SDK's ``ClarifyCheckStep`` (SageMaker Pipelines' ``ClarifyCheck`` step
type): a Clarify processing job on the test split, scoring the trained model on a
temporary shadow endpoint, whose result becomes the run's baseline and, unless
``SkipDriftCheck``, is compared with the approved version's (see
``platform_contracts/retraining.py``). The package registers both results and the
analysis configurations the bias and explainability *monitors* read.

Why the step is subclassed: the SDK writes two analysis configuration files to S3 while
the definition is built (and names one after the clock), which cannot be done offline nor
deterministically; and their content depends on the data (the column headers after
preprocessing, the code of a categorical facet), which is only known at run time. So
``preprocess.py`` writes them at run time, from the options :meth:`ClarifyChecks.
preprocess_arguments` gives it, and the steps here read them from the preprocessing job's
outputs. ``tests/pipeline_definitions/test_clarify_checks.py`` compares what
``preprocess.py`` writes with what the SDK would have written for the same headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline_definitions import offline_sdk
from pipeline_definitions.definition_parts import serializable_network
from pipeline_definitions.pipeline_arguments import SHADOW_ENDPOINT_PREFIX

offline_sdk.import_sdk()

# The SDK must be imported after offline_sdk.import_sdk() (see offline_sdk's docstring).
from sagemaker.core.clarify import (
    DataConfig,
    ModelConfig,
    ModelPredictedLabelConfig,
    ProcessingOutputHandler,
    SageMakerClarifyProcessor,
)
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput
from sagemaker.mlops.workflow.clarify_check_step import ClarifyCheckStep

#: Outputs of the preprocessing job that hold the configurations (see ``preprocess.py``).
BIAS_CONFIG_OUTPUT = "clarify-bias"
EXPLAINABILITY_CONFIG_OUTPUT = "clarify-explainability"
MONITOR_CONFIG_OUTPUT = "clarify-monitors"
BIAS_MONITOR_CONFIG = "bias_analysis_config.json"
EXPLAINABILITY_MONITOR_CONFIG = "explainability_analysis_config.json"


@dataclass(frozen=True, kw_only=True)
class ClarifyChecks:
    """Which Clarify checks the training pipeline runs (their monitors read the results).

    Attributes
    ----------
    bias_facet:
        Raw feature column whose sensitive group bias is measured for (``None``: no
        model-bias check). Default ``None``.
    bias_facet_values:
        Values of the facet marking the sensitive group (categorical: raw categories).
    bias_facet_threshold:
        For a numeric facet instead: values above it form the sensitive group.
    shap_samples:
        Samples of the SHAP analysis (``None``: no explainability check). Default ``None``.
    instance_type:
        Instance of the shadow endpoint Clarify scores the model on. Default
        ``"ml.m5.xlarge"``.
    probability_threshold:
        Score at or above which a prediction is positive. Default ``0.5``.
    """

    bias_facet: str | None = None
    bias_facet_values: tuple[str, ...] = ()
    bias_facet_threshold: float | None = None
    shap_samples: int | None = None
    instance_type: str = "ml.m5.xlarge"
    probability_threshold: float = 0.5

    @property
    def bias(self) -> bool:
        return self.bias_facet is not None

    @property
    def explainability(self) -> bool:
        return self.shap_samples is not None

    @property
    def any(self) -> bool:
        return self.bias or self.explainability

    def preprocess_arguments(self) -> list[str]:
        """The ``preprocess.py`` options that make it write the configurations."""
        if not self.any:
            return []
        arguments = [
            "--clarify-instance-type",
            self.instance_type,
            "--clarify-endpoint-prefix",
            SHADOW_ENDPOINT_PREFIX,
            "--probability-threshold",
            str(self.probability_threshold),
        ]
        if self.bias_facet is not None:
            arguments += ["--clarify-facet", self.bias_facet]
            for value in self.bias_facet_values:
                arguments += ["--clarify-facet-value", value]
            if self.bias_facet_threshold is not None:
                arguments += ["--clarify-facet-threshold", str(self.bias_facet_threshold)]
        if self.shap_samples is not None:
            arguments += ["--shap-samples", str(self.shap_samples)]
        return arguments

    def preprocess_outputs(self) -> tuple[str, ...]:
        """The preprocessing job's outputs these checks read."""
        outputs = [BIAS_CONFIG_OUTPUT] if self.bias else []
        outputs += [EXPLAINABILITY_CONFIG_OUTPUT] if self.explainability else []
        return (*outputs, MONITOR_CONFIG_OUTPUT) if outputs else ()

    def model_config(self, model_name: object) -> ModelConfig:
        """The SDK's ``ModelConfig`` of the shadow endpoint."""
        return ModelConfig(
            model_name=model_name,
            instance_count=1,
            instance_type=self.instance_type,
            accept_type="text/csv",
            content_type="text/csv",
            endpoint_name_prefix=SHADOW_ENDPOINT_PREFIX,
        )

    def predicted_label(self) -> ModelPredictedLabelConfig:
        """The model answers one probability per row."""
        return ModelPredictedLabelConfig(probability_threshold=self.probability_threshold)


class RuntimeConfigClarifyCheckStep(ClarifyCheckStep):  # type: ignore[misc]  # untyped SDK
    """``ClarifyCheckStep`` that reads its analysis configuration from an earlier step.

    Parameters
    ----------
    config_uri:
        ``s3://`` prefix (a pipeline expression) holding ``analysis_config.json``, written
        at run time by ``preprocess.py``.
    monitor_config_uri:
        ``s3://`` URI (an expression) of the monitor's analysis configuration, registered
        as the package's ``ConfigFile``.
    **kwargs:
        ``ClarifyCheckStep``'s arguments.

    Nothing is uploaded while the definition is built: the two SDK methods that would
    upload are replaced. The analysis configuration the SDK computes is kept in
    :attr:`sdk_analysis_config` (tests compare it with what ``preprocess.py`` writes).
    """

    def __init__(self, *, config_uri: object, monitor_config_uri: object, **kwargs: Any) -> None:
        self._config_uri = config_uri
        self._monitor_config_uri = monitor_config_uri
        self.sdk_analysis_config: dict[str, Any] = {}
        super().__init__(**kwargs)

    def _upload_monitoring_analysis_config(self) -> object:
        return self._monitor_config_uri

    def _generate_processing_job_parameters(
        self,
        analysis_config: dict[str, Any],
        baselining_processor: SageMakerClarifyProcessor,  # noqa: ARG002  # ClarifyCheckStep's
    ) -> dict[str, Any]:
        analysis_config["methods"]["report"] = {"name": "report", "title": "Analysis Report"}
        self.sdk_analysis_config = analysis_config
        data = self.clarify_check_config.data_config
        return {
            "config_input": _input(
                "analysis_config", self._config_uri, SageMakerClarifyProcessor._CLARIFY_CONFIG_INPUT
            ),
            "data_input": _input(
                "dataset", data.s3_data_input_path, SageMakerClarifyProcessor._CLARIFY_DATA_INPUT
            ),
            "result_output": ProcessingOutput(
                output_name="analysis_result",
                s3_output={
                    "s3_uri": data.s3_output_path,
                    "local_path": SageMakerClarifyProcessor._CLARIFY_OUTPUT,
                    "s3_upload_mode": ProcessingOutputHandler.get_s3_upload_mode(analysis_config),
                },
            ),
        }

    @property
    def arguments(self) -> dict[str, object]:
        # As for QualityCheckStep (sagemaker 3.27): the job's NetworkConfig object is put
        # in the request as is and would not serialize.
        return serializable_network(super().arguments)


def _input(name: str, uri: object, local_path: str) -> ProcessingInput:
    return ProcessingInput(
        input_name=name,
        s3_input={
            "s3_uri": uri,
            "local_path": local_path,
            "s3_data_type": "S3Prefix",
            "s3_input_mode": "File",
            "s3_data_distribution_type": "FullyReplicated",
            "s3_compression_type": "None",
        },
    )


def data_config(
    *, dataset_uri: object, output_uri: object, label: str, unused_root: str
) -> DataConfig:
    """Clarify's ``DataConfig`` of the test split (headerless CSV, label first).

    ``unused_root``: the SDK refuses a per-run output URI unless a static "analysis config
    output path" is given; nothing is written there (the configuration is not uploaded).
    """
    return DataConfig(
        s3_data_input_path=dataset_uri,
        s3_output_path=output_uri,
        s3_analysis_config_output_path=unused_root,
        label=label,
        dataset_type="text/csv",
    )

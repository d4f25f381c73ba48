"""The platform's construct library.

Named ``ml_constructs`` rather than ``constructs``: a top-level package called
``constructs`` would shadow the ``constructs`` library that ``aws_cdk`` itself imports.
Each module holds one construct, named after its class.
"""

from ml_constructs.access_logs_bucket import AccessLogsBucket
from ml_constructs.artifact_bucket_hardening import ArtifactBucketHardening
from ml_constructs.compliance import (
    acknowledge,
    acknowledge_generated_wildcards,
    acknowledge_inline_policy,
    acknowledge_wildcards,
    add_compliance_checks,
)
from ml_constructs.data_quality_monitor import DataQualityMonitor
from ml_constructs.feature_store import FeatureStore
from ml_constructs.idempotency_table import IdempotencyTable
from ml_constructs.mlflow_tracking_server import MlflowTrackingServer
from ml_constructs.model_bias_monitor import ModelBiasMonitor
from ml_constructs.model_explainability_monitor import ModelExplainabilityMonitor
from ml_constructs.model_monitor import ModelMonitor, MonitorJobSettings
from ml_constructs.model_quality_monitor import ModelQualityMonitor
from ml_constructs.model_registry import ModelPackageGroup, ModelRegistry
from ml_constructs.platform_function import FunctionPlacement, PlatformFunction
from ml_constructs.platform_keys import PlatformKeys
from ml_constructs.platform_network import PlatformNetwork
from ml_constructs.sagemaker_execution_role import SageMakerExecutionRole
from ml_constructs.sagemaker_pipeline import SageMakerPipeline
from ml_constructs.secure_bucket import SecureBucket
from ml_constructs.studio_domain import StudioDomain

__all__ = [
    "AccessLogsBucket",
    "ArtifactBucketHardening",
    "DataQualityMonitor",
    "FeatureStore",
    "FunctionPlacement",
    "IdempotencyTable",
    "MlflowTrackingServer",
    "ModelBiasMonitor",
    "ModelExplainabilityMonitor",
    "ModelMonitor",
    "ModelPackageGroup",
    "ModelQualityMonitor",
    "ModelRegistry",
    "MonitorJobSettings",
    "PlatformFunction",
    "PlatformKeys",
    "PlatformNetwork",
    "SageMakerExecutionRole",
    "SageMakerPipeline",
    "SecureBucket",
    "StudioDomain",
    "acknowledge",
    "acknowledge_generated_wildcards",
    "acknowledge_inline_policy",
    "acknowledge_wildcards",
    "add_compliance_checks",
]

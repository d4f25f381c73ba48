"""Platform configuration: YAML files in ``config/`` validated into frozen, typed models.

Everything environment-specific lives in ``config/<environment>.yaml``; the model catalogue
shared by all environments lives in ``config/models.yaml``. :func:`load_environment` is the
one place they are read and validated; the rest of the code receives the typed objects.
"""

from platform_config.base import ConfigError
from platform_config.environment_spec import (
    AuthMode,
    DataConfig,
    ExistingVpc,
    InterfaceEndpoint,
    MlflowConfig,
    ModelRegistryConfig,
    NetworkConfig,
    NewVpc,
    Retention,
    SharedSpaceSpec,
    StudioApp,
    StudioConfig,
    UserProfileSpec,
)
from platform_config.feature_group_spec import FeatureGroupSpec, FeatureSpec
from platform_config.loader import available_environments, load_environment
from platform_config.model_spec import ModelSpec
from platform_config.monitoring_spec import MonitoringSpec, RetrainingSpec
from platform_config.schema import EnvironmentConfig

__all__ = [
    "AuthMode",
    "ConfigError",
    "DataConfig",
    "EnvironmentConfig",
    "ExistingVpc",
    "FeatureGroupSpec",
    "FeatureSpec",
    "InterfaceEndpoint",
    "MlflowConfig",
    "ModelRegistryConfig",
    "ModelSpec",
    "MonitoringSpec",
    "NetworkConfig",
    "NewVpc",
    "Retention",
    "RetrainingSpec",
    "SharedSpaceSpec",
    "StudioApp",
    "StudioConfig",
    "UserProfileSpec",
    "available_environments",
    "load_environment",
]

"""Platform configuration: YAML files in ``config/`` validated into frozen, typed models.

Everything environment-specific lives in ``config/<environment>.yaml``; the model catalogue
shared by all environments lives in ``config/models.yaml``. :func:`load_environment` is the
one place they are read and validated; the rest of the code receives the typed objects.
"""

from platform_config.loader import ConfigError, available_environments, load_environment
from platform_config.schema import (
    DataConfig,
    EnvironmentConfig,
    ExistingVpc,
    InterfaceEndpoint,
    ModelSpec,
    NetworkConfig,
    NewVpc,
    Retention,
)

__all__ = [
    "ConfigError",
    "DataConfig",
    "EnvironmentConfig",
    "ExistingVpc",
    "InterfaceEndpoint",
    "ModelSpec",
    "NetworkConfig",
    "NewVpc",
    "Retention",
    "available_environments",
    "load_environment",
]

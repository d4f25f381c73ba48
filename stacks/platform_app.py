"""How an app is given the platform of one environment: the same for app.py and the tests."""

from __future__ import annotations

from aws_cdk import App
from constructs import Construct

from ml_constructs import add_compliance_checks
from platform_config import EnvironmentConfig
from stacks.ml_platform import MlPlatform

#: Context every platform app gets: construct creation stack traces hold jsii's temporary
#: folder names, which would make two synths of the same commit differ.
APP_CONTEXT = {"aws:cdk:disable-creation-stack-traces": True}


def construct_id_of(env_name: str) -> str:
    """``staging`` -> ``Staging``, ``eu-prod`` -> ``EuProd``: the environment's construct id."""
    return "".join(part.capitalize() for part in env_name.split("-"))


def build_platform(app: App, config: EnvironmentConfig) -> MlPlatform:
    """Add the compliance rule packs and the environment's :class:`MlPlatform` to ``app``.

    The stacks sit under a construct named after the environment (``Sandbox/Data``), the
    same paths the environment's :class:`PlatformStage` gives them.
    """
    add_compliance_checks(app)
    return MlPlatform(Construct(app, construct_id_of(config.name)), config=config)

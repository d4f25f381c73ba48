"""Run the ``sagemaker`` SDK v3 with no AWS access, to build pipeline definitions.

This is the one place that knows what the SDK needs in order to build a pipeline
definition offline (no credentials, no network, no clock). Everything else in
``pipeline_definitions`` imports the SDK through :func:`import_sdk` and builds inside
:func:`offline_pipeline_session`.

What the SDK does that has to be prevented, found in the ``sagemaker`` 3.27 sources:

* **A boto3 client is created at import time** (``sagemaker.ai_registry.air_hub.AIRHub``
  creates ``boto3.client("sagemaker")`` in its class body; ``sagemaker.serve`` imports
  it). Without a region the import fails with ``NoRegionError``; without credentials
  botocore walks its credential chain, which queries the EC2 instance metadata service
  (169.254.169.254) over the network. :func:`import_sdk` therefore imports with a
  placeholder region and placeholder credentials in the environment, then restores the
  environment exactly as it was.
* **The IAM role is validated** by ``ModelBuilder`` and ``ModelTrainer`` with
  ``iam:SimulatePrincipalPolicy`` unless ``SAGEMAKER_VALIDATE_ROLE=false``. Roles are
  given as full ARNs, so they are not looked up either.
* **``Session.default_bucket()`` calls S3** (``HeadBucket``, and ``CreateBucket`` when
  it is missing), even when a bucket name is given. The session is handed the bucket
  through its cached value so that ``default_bucket()`` returns it without a call.
* **SDK defaults files are read** from the machine (``/etc/xdg/sagemaker/config.yaml``,
  ``~/.config/sagemaker/config.yaml``, or any path or ``s3://`` URI named by
  ``SAGEMAKER_ADMIN_CONFIG_OVERRIDE`` / ``SAGEMAKER_USER_CONFIG_OVERRIDE``); they could
  inject subnets, keys or tags into a definition. The session gets
  :data:`SDK_DEFAULTS` explicitly, and both variables name an empty file for the
  sessions the SDK creates by itself.
* **Telemetry** sends an HTTPS request (and an STS call) from a background thread after
  each ``train``/``run``/``register``; :data:`SDK_DEFAULTS` opts out.
* **Throw-away sessions from the default chain** are also created *during* a build
  (``ProcessingStep.__init__`` builds a ``LocalSession`` just to read a method name),
  so the build runs with the same placeholder region and credentials in the
  environment as the import.
* **Credentials**: every session carries placeholder static credentials (never the
  caller's, and no profile, container or instance-metadata lookup), so a stray call
  could not be signed with real credentials.
* **Job names carry a timestamp** (``name_from_base``); the default
  ``PipelineDefinitionConfig(use_custom_job_prefix=False)`` of ``Pipeline`` removes them
  from the definition, so the builders must keep that default.
* **Every config lookup re-validates the defaults against the SDK's JSON schema**
  (about 90 times per definition, 0.18 s each): see
  :func:`_sdk_defaults_validated_once`.
* **Every SDK session and client re-reads botocore's data files** (``endpoints.json``,
  the SageMaker API model...): about 45 JSON files parsed per definition, 70 % of its
  build time. :func:`_shared_botocore_loader` gives the sessions created while the SDK
  is imported or a definition is built one botocore ``Loader``, whose cache then parses
  each file once per process, as the clients of a single botocore session would.
* **Importing the SDK configures the root logger** (``logging.basicConfig(level=INFO)``
  in ``sagemaker.core.experiments._metrics``); :func:`import_sdk` puts the root logger
  back as it found it, and the SDK's loggers are limited to errors during a build
  (its INFO/WARNING lines, such as "Popping out 'ProcessingJobName'", are expected
  there and would only clutter ``cdk synth``).

Environment variables are changed only inside :func:`import_sdk` (for the duration of
the import) and inside :func:`offline_pipeline_session` (for the duration of the
``with`` block); both restore the previous values, including absent ones. Because the
process environment is global, do not build definitions from several threads at once.

Step code must be referenced by ``s3://`` URI: a local path is uploaded to S3 while the
definition is generated. Not neutralised here: processing jobs get the tags of a
SageMaker Studio project file ``.sagemaker-code-config`` if one exists in the working
directory or above it (``sagemaker.core._studio``); none exists in this repository.
"""

from __future__ import annotations

import copy
import importlib
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.loaders import Loader
    from sagemaker.core.workflow.pipeline_context import PipelineSession

SDK_DEFAULTS: Mapping[str, object] = MappingProxyType(
    {
        "SchemaVersion": "1.0",
        "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
    }
)
"""The SDK defaults config of the offline session: telemetry off, nothing else.

Everything a definition needs is passed explicitly; a defaults file could otherwise
inject subnets, keys or tags.
"""

PLACEHOLDER_ACCESS_KEY_ID = "offline-build"
PLACEHOLDER_SECRET_ACCESS_KEY = "offline-build"
IMPORT_REGION = "us-east-1"
"""Region given to the clients the SDK creates at import time; they are never used."""

SDK_MODULES = (
    "sagemaker.core.workflow",
    "sagemaker.core.workflow.pipeline_context",
    "sagemaker.core.processing",
    "sagemaker.core.image_uris",
    "sagemaker.train",
    "sagemaker.serve",
    "sagemaker.mlops.workflow",
)
"""The SDK modules the pipeline definitions use, imported by :func:`import_sdk`."""


def offline_environ(region: str) -> dict[str, str]:
    """The environment variables set while the SDK is imported or a definition is built.

    ``AWS_DEFAULT_REGION`` and placeholder credentials: the SDK creates throw-away
    sessions and clients from the default chain (at import time, and e.g. a
    ``LocalSession`` inside ``ProcessingStep.__init__`` just to read a method name).
    ``AWS_EC2_METADATA_DISABLED``: never query the instance metadata service.
    ``AWS_CONFIG_FILE``, ``AWS_SHARED_CREDENTIALS_FILE``: no profile from ``~/.aws``.
    ``SAGEMAKER_VALIDATE_ROLE=false``: no ``iam:SimulatePrincipalPolicy``.
    ``SAGEMAKER_*_CONFIG_OVERRIDE``: an empty defaults file, so that the sessions the
    SDK creates for itself read no defaults file of the machine (nor one on S3).
    """
    return {
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": PLACEHOLDER_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": PLACEHOLDER_SECRET_ACCESS_KEY,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAGEMAKER_VALIDATE_ROLE": "false",
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": os.devnull,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": os.devnull,
    }


OFFLINE_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SAGEMAKER",
    "AWS_ENDPOINT_URL_S3",
)
"""Removed while the SDK is imported or a definition is built: no other credential or
profile source is consulted, whatever the caller's environment holds."""


class _SharedLoader:
    """Holds the botocore data loader shared by the SDK's sessions (see
    :func:`_shared_botocore_loader`), created on first use."""

    loader: Loader | None = None


_SHARED_LOADER = _SharedLoader()


@contextmanager
def _shared_botocore_loader() -> Iterator[None]:
    """Give every botocore session created in the block the same (cached) data loader.

    botocore reads its data files (endpoints, service models) through a ``Loader`` per
    session, which caches what it parsed; the clients of one session share it. The SDK
    creates many throw-away sessions, each parsing the same files again. This makes them
    share one loader for the duration of the block; the files are the installed
    botocore's, read-only, so sharing them is what one session would do. Restored on exit.
    """
    import botocore.loaders
    import botocore.session

    original = botocore.loaders.create_loader

    def create_shared_loader(search_path_string: str | None = None) -> Loader:
        if search_path_string:  # a custom data path (AWS_DATA_PATH): do not share
            return original(search_path_string)
        if _SHARED_LOADER.loader is None:
            _SHARED_LOADER.loader = original(search_path_string)
        return _SHARED_LOADER.loader

    # Sessions call botocore.session.create_loader; the SDK's endpoint resolver calls
    # botocore.loaders.create_loader directly.
    botocore.session.create_loader = create_shared_loader
    botocore.loaders.create_loader = create_shared_loader
    try:
        yield
    finally:
        botocore.session.create_loader = original
        botocore.loaders.create_loader = original


@contextmanager
def _environ(values: Mapping[str, str], unset: tuple[str, ...] = ()) -> Iterator[None]:
    """Set ``values`` (and remove ``unset``) in ``os.environ``; restore on exit."""
    names = set(values) | set(unset)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in unset:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@cache
def import_sdk() -> None:
    """Import the SDK modules in :data:`SDK_MODULES` without touching AWS.

    Idempotent (cached once it succeeds). Call it before any ``import sagemaker...``
    statement; modules that build definitions do so at their top, before importing SDK
    classes.
    """
    root = logging.getLogger()
    root_level, root_handlers = root.level, list(root.handlers)
    try:
        with (
            _environ(offline_environ(IMPORT_REGION), unset=OFFLINE_UNSET),
            _shared_botocore_loader(),
        ):
            for module in SDK_MODULES:
                importlib.import_module(module)
    finally:
        root.setLevel(root_level)
        root.handlers[:] = root_handlers


@contextmanager
def _quiet_sdk() -> Iterator[None]:
    """Limit the SDK's loggers to errors and hide its PipelineSession UserWarning."""
    sdk_logger = logging.getLogger("sagemaker")
    level = sdk_logger.level
    sdk_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Running within a PipelineSession", category=UserWarning
            )
            yield
    finally:
        sdk_logger.setLevel(level)


@contextmanager
def offline_pipeline_session(*, region: str, default_bucket: str) -> Iterator[PipelineSession]:
    """Yield a ``PipelineSession`` for ``region`` that makes no AWS call.

    Parameters
    ----------
    region:
        The AWS region the definition is for. Image URIs and some defaults depend on it.
    default_bucket:
        The bucket the session reports as its default, without asking S3. Definitions
        built here give every S3 location explicitly; this only guards SDK fallbacks.

    Build the whole definition (``Pipeline.definition()`` included) inside the ``with``
    block: role validation is switched off and SDK defaults files are replaced only
    there.
    """
    import_sdk()
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    sdk_defaults = copy.deepcopy(dict(SDK_DEFAULTS))
    with (
        _environ(offline_environ(region), unset=OFFLINE_UNSET),
        _shared_botocore_loader(),
        _sdk_defaults_validated_once(sdk_defaults),
        _quiet_sdk(),
    ):
        # Created inside the block: botocore reads the profile variables on creation.
        boto_session = boto3.Session(
            aws_access_key_id=PLACEHOLDER_ACCESS_KEY_ID,
            aws_secret_access_key=PLACEHOLDER_SECRET_ACCESS_KEY,
            region_name=region,
        )
        session = PipelineSession(
            boto_session=boto_session,
            default_bucket=default_bucket,
            sagemaker_config=sdk_defaults,
        )
        # default_bucket() would call S3 HeadBucket to check (or create) the bucket;
        # the SDK returns its cached value without a call, so cache the given name.
        session._default_bucket = default_bucket
        yield session


@contextmanager
def _sdk_defaults_validated_once(sdk_defaults: dict[str, object]) -> Iterator[None]:
    """Validate the SDK defaults once, not on every lookup, for the ``with`` block.

    The SDK validates its whole defaults config against its JSON schema (``check_schema``
    included) on *every* config lookup: about 90 times, 0.18 s each, per definition,
    which made one build take 6 s instead of well under one. Inside the block,
    ``SageMakerConfig.validate_sagemaker_config`` skips a config equal to
    ``sdk_defaults``, which the session's constructor validates; any other config is
    still validated. The original is restored on exit.
    """
    from sagemaker.core.config.config_manager import SageMakerConfig

    original = SageMakerConfig.__dict__["validate_sagemaker_config"]
    validate = original.__func__
    # PipelineSession's constructor validates sdk_defaults (through another function).
    reference = copy.deepcopy(sdk_defaults)

    def validate_unless_known(sagemaker_config: dict[str, object] | None = None) -> None:
        if sagemaker_config != reference:
            validate(sagemaker_config)

    SageMakerConfig.validate_sagemaker_config = staticmethod(validate_unless_known)
    try:
        yield
    finally:
        SageMakerConfig.validate_sagemaker_config = original


def image_uri(
    *,
    framework: str,
    region: str,
    version: str,
    image_scope: str,
    instance_type: str | None = None,
    py_version: str | None = None,
) -> str:
    """Resolve an ECR image URI from the image URI tables shipped with the SDK.

    No network: ``sagemaker.core.image_uris.retrieve`` reads
    ``sagemaker/core/image_uri_config/<framework>.json`` for non-JumpStart images.
    Raises ``ValueError`` (from the SDK) for an unknown version or unsupported region.
    """
    import_sdk()
    from sagemaker.core import image_uris

    with _shared_botocore_loader():
        return str(
            image_uris.retrieve(
                framework=framework,
                region=region,
                version=version,
                image_scope=image_scope,
                instance_type=instance_type,
                py_version=py_version,
            )
        )

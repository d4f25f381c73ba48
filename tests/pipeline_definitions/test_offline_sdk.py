"""The offline SDK session: botocore's data files are parsed once, and nothing is left patched."""

from __future__ import annotations

import botocore.loaders
import botocore.session

from pipeline_definitions import offline_sdk


def test_sessions_share_one_data_loader_only_inside_the_block() -> None:
    original = botocore.loaders.create_loader
    with offline_sdk.offline_pipeline_session(region="eu-west-1", default_bucket="some-bucket"):
        first = botocore.session.Session().get_component("data_loader")
        second = botocore.session.Session().get_component("data_loader")
        assert first is second
        assert botocore.loaders.create_loader() is first
    assert botocore.loaders.create_loader is original
    assert botocore.session.create_loader is original
    assert botocore.session.Session().get_component("data_loader") is not first


def test_a_custom_botocore_data_path_is_not_shared() -> None:
    with offline_sdk.offline_pipeline_session(region="eu-west-1", default_bucket="some-bucket"):
        shared = botocore.loaders.create_loader()
        assert botocore.loaders.create_loader("/tmp/botocore-data") is not shared

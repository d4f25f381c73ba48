"""``python -m scripts.releases`` against moto, with dev's and staging's accounts.

Each environment's account is the one in ``config/<env>.yaml``; moto keeps one backend per
account (``MOTO_ACCOUNT_ID`` selects it). Staging serves a version imported from dev.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from platform_config import load_environment
from platform_contracts.model_settings import (
    ModelSettings,
    ReleaseSettings,
    RetrainingSettings,
    settings_parameter_name,
)
from platform_contracts.releases import (
    RecordChange,
    Slot,
    change_description,
    model_package_group_name,
    model_stack_name,
    record_parameter_name,
)
from scripts import releases

DEV, STAGING = load_environment("dev"), load_environment("staging")
MODEL = "churn-prediction"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield


def in_account(monkeypatch: pytest.MonkeyPatch, account: str) -> boto3.Session:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
    return boto3.Session(region_name="eu-west-1")


def deploy(session: boto3.Session, prefix: str, *, candidate: bool = False) -> None:
    """What the stacks leave: the settings document, the records, the registry group."""
    slots = ("champion", "candidate") if candidate else ("champion",)
    settings = ModelSettings(
        model=MODEL,
        pipeline_name=f"{prefix}-{MODEL}-training",
        model_package_group_name=model_package_group_name(prefix, MODEL),
        retraining=RetrainingSettings(cooldown_seconds=60, on_drift=False),
        release=ReleaseSettings(
            stack_name=model_stack_name(prefix, MODEL),
            slots=slots,
            candidate_variant="shadow" if candidate else None,
            pinned_versions=(1,) if candidate else (),
        ),
    )
    ssm = session.client("ssm")
    ssm.put_parameter(
        Name=settings_parameter_name(prefix, MODEL), Value=settings.to_json(), Type="String"
    )
    for slot in slots:
        ssm.put_parameter(
            Name=record_parameter_name(prefix, MODEL, Slot(slot)),
            Value="none",
            Type="String",
            Description=change_description(RecordChange.CREATED, None, "no release yet"),
        )
    session.client("sagemaker").create_model_package_group(
        ModelPackageGroupName=settings.model_package_group_name
    )


def register(session: boto3.Session, prefix: str, **extra: Any) -> str:
    return str(
        session.client("sagemaker").create_model_package(
            ModelPackageGroupName=model_package_group_name(prefix, MODEL),
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            **extra,
        )["ModelPackageArn"]
    )


def release(session: boto3.Session, prefix: str, arn: str, slot: Slot = Slot.CHAMPION) -> None:
    """What the release automation does on approval."""
    sagemaker = session.client("sagemaker")
    # moto 5.2.5 drops CustomerMetadataProperties on an update that does not repeat them
    # (SageMaker keeps them), so they are repeated here.
    metadata = sagemaker.describe_model_package(ModelPackageName=arn).get(
        "CustomerMetadataProperties"
    )
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Approved",
        ApprovalDescription="AUC 0.91",
        **({"CustomerMetadataProperties": metadata} if metadata else {}),
    )
    version = int(arn.rsplit("/", 1)[1])
    session.client("ssm").put_parameter(
        Name=record_parameter_name(prefix, MODEL, slot),
        Value=arn,
        Type="String",
        Overwrite=True,
        Description=change_description(RecordChange.RELEASED, version, "approved by alice"),
    )


@pytest.fixture
def environments(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Dev serves v2 (v3 pending); staging serves v1 imported from dev's v2 (v2 pending)."""
    dev = in_account(monkeypatch, DEV.account)
    deploy(dev, DEV.name_prefix)
    register(dev, DEV.name_prefix)
    dev_v2 = register(dev, DEV.name_prefix)
    register(dev, DEV.name_prefix)
    release(dev, DEV.name_prefix, dev_v2)

    staging = in_account(monkeypatch, STAGING.account)
    deploy(staging, STAGING.name_prefix, candidate=True)
    lineage = {
        "source_account": DEV.account,
        "source_environment": DEV.name_prefix,
        "source_package_arn": dev_v2,
        "source_version": "2",
    }
    imported = register(staging, STAGING.name_prefix, CustomerMetadataProperties=lineage)
    register(staging, STAGING.name_prefix)
    release(staging, STAGING.name_prefix, imported)
    return {"dev": dev, "staging": staging}


def test_staging_shows_the_version_imported_from_dev_and_what_waits(
    environments, monkeypatch, capsys
):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", STAGING.account)

    assert releases.main(["staging"]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"{STAGING.name_prefix} ({STAGING.account}, {STAGING.region})")
    assert "  champion   v1  (production variants)" in out
    assert "(AUC 0.91)" in out and "approved by " in out
    assert f"imported from {DEV.name_prefix} v2 (account {DEV.account})" in out
    assert "record: released v1: approved by alice" in out
    assert "  candidate  nothing (no release yet)  (shadow variant)" in out
    assert "  pinned     v1  (a variant pinned to it)" in out
    assert out.rstrip().endswith("pending approval: v2")


def test_dev_shows_its_own_release_without_lineage(environments, monkeypatch, capsys):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", DEV.account)

    assert releases.main(["dev"]) == 0

    out = capsys.readouterr().out
    assert "  champion   v2  (production variants)" in out
    assert "imported from" not in out
    assert "pending approval: v1, v3" in out


def test_credentials_of_another_account_are_refused(environments, monkeypatch, capsys):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", STAGING.account)

    assert releases.main(["dev"]) == 2

    assert capsys.readouterr().err.strip() == (
        f"credentials of account {STAGING.account}; dev is {DEV.account}"
    )


def test_an_unknown_environment_is_one_line(capsys):
    assert releases.main(["qa"]) == 2

    [line] = capsys.readouterr().err.strip().splitlines()
    assert "no such environment 'qa'" in line


@pytest.mark.parametrize(
    ("argv", "payload"),
    [
        (["promote", MODEL], {"action": "promote-candidate", "model": MODEL}),
        (["import", MODEL, "2"], {"action": "import", "model": MODEL, "version": 2}),
    ],
)
def test_promote_and_import_invoke_the_release_automation(
    environments, monkeypatch, capsys, argv, payload
):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", STAGING.account)
    sent: list[tuple[str, dict[str, Any]]] = []

    def invoke(session: Any, prefix: str, body: dict[str, Any]) -> dict[str, Any]:
        sent.append((prefix, body))
        return {"outcome": "refused", "reason": "no-candidate"}

    monkeypatch.setattr(releases, "invoke", invoke)

    assert releases.main(["staging", *argv]) == 1

    [(prefix, body)] = sent
    assert prefix == STAGING.name_prefix
    assert {k: v for k, v in body.items() if k != "requested_by"} == payload
    assert body["requested_by"].startswith("arn:aws:")
    assert json.loads(capsys.readouterr().out)["reason"] == "no-candidate"


def test_invoke_calls_the_environments_function_synchronously():
    session = boto3.Session(region_name="eu-west-1")
    client = session.client("lambda")
    body = {"action": "promote-candidate", "model": MODEL}
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke",
            {"StatusCode": 200, "Payload": _streaming(b'{"outcome": "promoted"}')},
            expected_params={
                "FunctionName": "ml-platform-staging-release-automation",
                "InvocationType": "RequestResponse",
                "Payload": json.dumps(body).encode(),
            },
        )
        session.client = lambda name: client  # type: ignore[method-assign]

        assert releases.invoke(session, STAGING.name_prefix, body) == {"outcome": "promoted"}


def _streaming(data: bytes) -> Any:
    import io

    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(data), len(data))

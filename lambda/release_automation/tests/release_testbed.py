"""The release automation's test bed: an environment with two models, in moto.

``churn-prediction`` has one slot (champion); ``fraud-detection`` has a challenger, so a
candidate slot too. Each has its settings document, its release records (``none``), a
registry group with three packages awaiting approval, and a model stack in
:class:`CloudFormationDouble`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.sqs.models import sqs_backends

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

EVENTS = Path(__file__).parent / "events"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
PREFIX = "ml-platform-dev"
CHURN = "churn-prediction"
FRAUD = "fraud-detection"


@dataclass(frozen=True)
class Environment:
    """An environment of the platform, as far as releases are concerned."""

    name: str
    account: str

    @property
    def prefix(self) -> str:
        return f"ml-platform-{self.name}"

    def bucket(self, kind: str) -> str:
        return f"mlp-{self.name}-{self.account}-{REGION}-{kind}"


DEV = Environment("dev", ACCOUNT_ID)
STAGING = Environment("staging", "333333333333")
ARTIFACTS = DEV.bucket("artifacts")
REPORTS = DEV.bucket("reports")
BOOTSTRAP_VERSION = "/cdk-bootstrap/hnb659fds/version"
IMAGE = f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def package_arn(model: str, version: int, account: str = ACCOUNT_ID, prefix: str = PREFIX) -> str:
    group = model_package_group_name(prefix, model)
    return f"arn:aws:sagemaker:{REGION}:{account}:model-package/{group}/{version}"


def model_settings(model: str, environment: Environment = DEV) -> ModelSettings:
    prefix, reports = environment.prefix, environment.bucket("reports")
    candidate = model == FRAUD
    return ModelSettings(
        model=model,
        pipeline_name=f"{prefix}-{model}-training",
        model_package_group_name=model_package_group_name(prefix, model),
        retraining=RetrainingSettings(cooldown_seconds=3600, on_drift=True),
        release=ReleaseSettings(
            stack_name=model_stack_name(prefix, model),
            slots=("champion", "candidate") if candidate else ("champion",),
            candidate_variant="challenger" if candidate else None,
            baselines_uri=f"s3://{reports}/baselines/{model}",
        ),
    )


def create_record(ssm: Any, model: str, slot: Slot, prefix: str = PREFIX) -> None:
    """What the registry stack's ``Custom::ReleaseRecord`` does on Create."""
    ssm.put_parameter(
        Name=record_parameter_name(prefix, model, slot),
        Value="none",
        Type="String",
        Description=change_description(RecordChange.CREATED, None, "no release yet"),
    )


def register_package(sagemaker: Any, s3: Any, model: str, bucket: str, prefix: str = PREFIX) -> str:
    """A package as the training pipeline registers it: artifacts, metrics and baselines."""
    group = model_package_group_name(prefix, model)
    run = uuid.uuid4().hex[:8]
    files = {
        "model": f"{model}/{run}/output/model.tar.gz",
        "statistics": f"{model}/{run}/baselines/statistics.json",
        "constraints": f"{model}/{run}/baselines/constraints.json",
        "evaluation": f"{model}/{run}/evaluation/evaluation.json",
    }
    for name, key in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=f"{name} of {run}".encode())

    def uri(name: str) -> dict[str, str]:
        return {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/{files[name]}"}

    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{bucket}/{files['model']}"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={"ModelQuality": {"Statistics": uri("evaluation")}},
            DriftCheckBaselines={
                "ModelDataQuality": {
                    "Statistics": uri("statistics"),
                    "Constraints": uri("constraints"),
                }
            },
        )["ModelPackageArn"]
    )


def deploy(
    session: boto3.Session, environment: Environment, models: tuple[str, ...] = (CHURN, FRAUD)
) -> CloudFormationDouble:
    """What ``cdk deploy --all`` leaves in a fresh account: buckets, settings documents,
    records (``none``), registry groups, model stacks; and three packages per model, as
    training registers them (``PendingManualApproval``)."""
    ssm, s3 = session.client("ssm"), session.client("s3")
    sagemaker = session.client("sagemaker")
    for kind in ("artifacts", "reports"):
        s3.create_bucket(
            Bucket=environment.bucket(kind),
            CreateBucketConfiguration={"LocationConstraint": REGION},
        )
    ssm.put_parameter(Name=BOOTSTRAP_VERSION, Value="28", Type="String")
    cloudformation = CloudFormationDouble(ssm, account=environment.account)
    for model in models:
        settings = model_settings(model, environment)
        ssm.put_parameter(
            Name=settings_parameter_name(environment.prefix, model),
            Value=settings.to_json(),
            Type="String",
        )
        assert settings.release is not None
        records = {}
        for slot in map(Slot, settings.release.slots):
            create_record(ssm, model, slot, environment.prefix)
            records[f"{slot.value.title()}Package"] = record_parameter_name(
                environment.prefix, model, slot
            )
        cloudformation.add_stack(settings.release.stack_name, records)
        sagemaker.create_model_package_group(
            ModelPackageGroupName=settings.model_package_group_name
        )
        for _ in range(3):
            register_package(
                sagemaker, s3, model, environment.bucket("artifacts"), environment.prefix
            )
    return cloudformation


@dataclass
class FakeStack:
    name: str
    stack_id: str
    parameters: dict[str, str]  # parameter key -> SSM parameter name
    resolved: dict[str, str]
    capabilities: tuple[str, ...]
    status: str = "CREATE_COMPLETE"
    pending: dict[str, str] | None = None
    token: str = ""
    role_arn: str | None = None


@dataclass
class CloudFormationDouble:
    """DescribeStacks and UpdateStack of stacks whose parameters are SSM parameter types.

    moto 5.2.5 cannot stand in here: its CloudFormation needs extras that are not installed,
    reports an SSM-typed parameter's resolved value as its ``ParameterValue`` with no
    ``ResolvedValue``, and on ``UsePreviousValue`` resolves the resolved value again as a
    parameter name. This double answers as the CloudFormation API reference documents
    (``ResolvedValue``; "No updates are to be performed."; "... is in UPDATE_IN_PROGRESS
    state and can not be updated."), resolving records from moto's SSM at the time of the
    call. It answers at ``before-call``, after botocore has validated each request against
    the CloudFormation API model; every request is kept in :attr:`requests`.
    """

    ssm: Any
    account: str = ACCOUNT_ID
    stacks: dict[str, FakeStack] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add_stack(self, name: str, records: dict[str, str]) -> FakeStack:
        parameters = {"BootstrapVersion": BOOTSTRAP_VERSION, **records}
        stack = FakeStack(
            name=name,
            stack_id=f"arn:aws:cloudformation:{REGION}:{self.account}:stack/{name}/{uuid.uuid4()}",
            parameters=parameters,
            resolved=self._resolve(parameters),
            capabilities=("CAPABILITY_IAM",),
        )
        self.stacks[name] = stack
        return stack

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.cloudformation", self._keep)
        client.meta.events.register("before-call.cloudformation", self._answer)

    def updates(self) -> list[dict[str, Any]]:
        return [params for operation, params in self.requests if operation == "UpdateStack"]

    def finish(self, name: str, *, rolled_back: bool = False, reason: str = "") -> dict[str, Any]:
        """End the stack's update; return its ``Stack Status Change`` event."""
        stack = self.stacks[name]
        assert stack.status == "UPDATE_IN_PROGRESS", stack.status
        if rolled_back:
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
        else:
            stack.status, stack.resolved = "UPDATE_COMPLETE", dict(stack.pending or {})
        stack.pending = None
        event = load_event("stack_update_rollback_complete")
        event["id"] = str(uuid.uuid4())
        event["account"] = self.account
        event["resources"] = [stack.stack_id]
        event["detail"] = {
            "stack-id": stack.stack_id,
            "status-details": {"status": stack.status, "status-reason": reason},
            "client-request-token": stack.token,
        }
        return event

    def start_foreign_update(self, name: str) -> None:
        """An update someone else started (``cdk deploy``), resolving the records now."""
        stack = self.stacks[name]
        stack.status, stack.pending = "UPDATE_IN_PROGRESS", self._resolve(stack.parameters)
        stack.token = f"Console-UpdateStack-{uuid.uuid4()}"

    def _resolve(self, parameters: dict[str, str]) -> dict[str, str]:
        return {
            key: self.ssm.get_parameter(Name=name)["Parameter"]["Value"]
            for key, name in parameters.items()
        }

    def _keep(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["double_params"] = dict(params)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        params = context["double_params"]
        self.requests.append((model.name, params))
        stack = self.stacks.get(params["StackName"])
        if stack is None:
            return _error(f"Stack with id {params['StackName']} does not exist")
        if model.name == "DescribeStacks":
            return _ok({"Stacks": [self._description(stack)]})
        if model.name == "UpdateStack":
            return self._update(stack, params)
        raise AssertionError(f"the double does not answer {model.name}")

    def _description(self, stack: FakeStack) -> dict[str, Any]:
        return {
            "StackId": stack.stack_id,
            "StackName": stack.name,
            "CreationTime": "2026-11-01T00:00:00Z",
            "StackStatus": stack.status,
            "Capabilities": list(stack.capabilities),
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v, "ResolvedValue": stack.resolved[k]}
                for k, v in stack.parameters.items()
            ],
        }

    def _update(self, stack: FakeStack, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        if stack.status.endswith("_IN_PROGRESS"):
            return _error(
                f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )
        assert params.get("UsePreviousTemplate") is True
        given = {p["ParameterKey"] for p in params["Parameters"] if p.get("UsePreviousValue")}
        if given != set(stack.parameters):
            return _error(f"Parameters: {sorted(set(stack.parameters) - given)} must have values")
        resolved = self._resolve(stack.parameters)
        if resolved == stack.resolved:
            return _error("No updates are to be performed.")
        stack.status, stack.pending = "UPDATE_IN_PROGRESS", resolved
        stack.token, stack.role_arn = params.get("ClientRequestToken", ""), params.get("RoleARN")
        return _ok({"StackId": stack.stack_id})


def _ok(body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    return AWSResponse("https://cloudformation", 200, {}, None), {
        **body,
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


def _error(message: str) -> tuple[Any, dict[str, Any]]:
    return AWSResponse("https://cloudformation", 400, {}, None), {
        "Error": {"Type": "Sender", "Code": "ValidationError", "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def package_event(
    model: str, version: int, status: str = "Approved", account: str = ACCOUNT_ID
) -> dict[str, Any]:
    event = load_event("model_package_approved")
    arn = package_arn(model, version, account)
    event["id"] = str(uuid.uuid4())
    event["account"] = account
    event["resources"] = [arn]
    event["detail"].update(
        ModelPackageGroupName=model_package_group_name(PREFIX, model),
        ModelPackageArn=arn,
        ModelPackageVersion=version,
        ModelApprovalStatus=status,
    )
    return event


def record(model: str, slot: Slot = Slot.CHAMPION) -> str:
    name = record_parameter_name(PREFIX, model, slot)
    return str(boto3.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def record_history(model: str, slot: Slot = Slot.CHAMPION) -> list[dict[str, Any]]:
    name = record_parameter_name(PREFIX, model, slot)
    return list(boto3.client("ssm").get_parameter_history(Name=name)["Parameters"])


def all_records() -> dict[str, str]:
    pages = boto3.client("ssm").get_paginator("get_parameters_by_path")
    return {
        p["Name"]: p["Value"]
        for page in pages.paginate(Path=f"/{PREFIX}/releases", Recursive=True)
        for p in page["Parameters"]
    }


def retry_messages(queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue, delayed or not: ``{"body": ..., "delay_seconds": ...}``.

    Read from moto's backend, because a delayed message cannot be received before its time.
    """
    queue = sqs_backends[ACCOUNT_ID][REGION].queues[queue_url.rsplit("/", 1)[-1]]
    return [
        {
            "body": json.loads(message.body),
            "delay_seconds": round((message.delayed_until - message.sent_timestamp) / 1000)
            if message.delayed_until
            else 0,
        }
        for message in queue._messages
    ]

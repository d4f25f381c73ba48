"""Every AWS call a piece of code makes, recorded, and the authorizations IAM makes for it.

:class:`CallRecorder` hands out boto3 sessions that record each call their clients make
(botocore's ``before-parameter-build`` and ``after-call`` events), attributed to the
principal the code runs as in AWS. :class:`CallAccesses` turns a call into the
:class:`~tests.template_access.Access` requests IAM evaluates for it, from the Service
Authorization Reference: the action and resource of the operation, and what the service
does on the caller's behalf (S3 asks KMS with the caller's permissions for an object
encrypted with a customer managed key; CloudFormation resolves a template's SSM parameters
and takes the role it is passed). An operation without a mapping here fails the test: every
call is checked, none is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import unquote

import boto3
import botocore.loaders
import botocore.session

from tests.template_access import Access, AccessModel, Principal

#: Key of the request parameters in botocore's request context.
_PARAMS = "recorded_call_params"


@dataclass(frozen=True)
class RecordedCall:
    """One API call: who made it (as which principal, in which region), and what."""

    principal: Principal
    service: str
    operation: str
    params: Mapping[str, Any]
    response: Mapping[str, Any]
    region: str

    def __str__(self) -> str:
        return f"{self.service}:{self.operation} by {self.principal.label} in {self.region}"


@dataclass
class CallRecorder:
    """Sessions whose calls are recorded in :attr:`calls`."""

    calls: list[RecordedCall] = field(default_factory=list)
    _loader: botocore.loaders.Loader = field(default_factory=botocore.loaders.create_loader)

    def session(
        self, principal: Principal | None, credentials: Mapping[str, str], region: str
    ) -> boto3.Session:
        """A session with ``credentials`` (moto's, for the account), recording as
        ``principal`` (not recorded when ``None``)."""
        core = botocore.session.Session()
        core.register_component("data_loader", self._loader)  # parsed models are shared
        if principal is not None:
            core.register("before-parameter-build", _keep_params)
            core.register("after-call", partial(self._record, principal))
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"),
            region_name=region,
            botocore_session=core,
        )

    def _record(
        self, principal: Principal, model: Any, parsed: Any, context: dict[str, Any], **_: Any
    ) -> None:
        self.calls.append(
            RecordedCall(
                principal=principal,
                service=model.service_model.service_name,
                operation=model.name,
                params=context.get(_PARAMS, {}),
                response=dict(parsed or {}),
                region=str(context.get("client_region")),
            )
        )


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = {key: value for key, value in params.items() if key != "Body"}


def s3_location(copy_source: Any) -> tuple[str, str]:
    """(bucket, key) of a ``CopySource`` (a dict, or ``bucket/key[?versionId=...]``)."""
    if isinstance(copy_source, dict):
        return str(copy_source["Bucket"]), str(copy_source["Key"])
    bucket, key = unquote(str(copy_source).split("?versionId=")[0]).lstrip("/").split("/", 1)
    return bucket, key


class CallAccesses:
    """The accesses of each recorded call.

    Parameters
    ----------
    model:
        The environments' :class:`AccessModel` (buckets' regions and keys, stacks'
        parameters).
    object_key:
        ``(bucket, key) -> ARN`` of the KMS key that encrypts an existing object (as stored),
        or ``None`` for none or the bucket's default.
    """

    def __init__(self, model: AccessModel, object_key: Callable[[str, str], str | None]) -> None:
        self.model = model
        self.object_key = object_key
        self._operations: dict[tuple[str, str], Callable[[RecordedCall], list[Access]]] = {
            ("sagemaker", "DescribeModelPackage"): self._describe_package,
            ("sagemaker", "ListModelPackages"): lambda call: [
                Access("sagemaker:ListModelPackages", "*")
            ],
            ("sagemaker", "CreateModelPackage"): self._create_package,
            ("sagemaker", "UpdateModelPackage"): self._update_package,
            ("s3", "HeadObject"): self._read_object,
            ("s3", "GetObject"): self._read_object,
            ("s3", "PutObject"): self._write_object,
            ("s3", "CopyObject"): self._copy_object,
            ("ssm", "GetParameter"): partial(self._parameters, "ssm:GetParameter"),
            ("ssm", "GetParameters"): partial(self._parameters, "ssm:GetParameters"),
            ("ssm", "GetParameterHistory"): partial(self._parameters, "ssm:GetParameterHistory"),
            ("ssm", "GetParametersByPath"): self._parameters_by_path,
            ("ssm", "PutParameter"): self._put_parameter,
            ("cloudformation", "DescribeStacks"): partial(self._stack, "DescribeStacks"),
            ("cloudformation", "UpdateStack"): self._update_stack,
            ("dynamodb", "GetItem"): partial(self._table, "GetItem"),
            ("dynamodb", "PutItem"): partial(self._table, "PutItem"),
            ("dynamodb", "UpdateItem"): partial(self._table, "UpdateItem"),
            ("dynamodb", "DeleteItem"): partial(self._table, "DeleteItem"),
            ("sqs", "SendMessage"): self._send_message,
        }

    def __call__(self, call: RecordedCall) -> list[Access]:
        operation = self._operations.get((call.service, call.operation))
        if operation is None:
            raise AssertionError(f"{call}: no authorization mapping; add one to CallAccesses")
        return operation(call)

    # --- SageMaker ----------------------------------------------------------------------

    @staticmethod
    def _describe_package(call: RecordedCall) -> list[Access]:
        return [Access("sagemaker:DescribeModelPackage", str(call.params["ModelPackageName"]))]

    @staticmethod
    def _create_package(call: RecordedCall) -> list[Access]:
        arn = str(call.response["ModelPackageArn"])
        group = arn.replace(":model-package/", ":model-package-group/").rsplit("/", 1)[0]
        context = {"sagemaker:ModelApprovalStatus": str(call.params["ModelApprovalStatus"])}
        return [
            Access("sagemaker:CreateModelPackage", resource, context) for resource in (arn, group)
        ]

    @staticmethod
    def _update_package(call: RecordedCall) -> list[Access]:
        context = {}
        if "ModelApprovalStatus" in call.params:
            context["sagemaker:ModelApprovalStatus"] = str(call.params["ModelApprovalStatus"])
        return [
            Access("sagemaker:UpdateModelPackage", str(call.params["ModelPackageArn"]), context)
        ]

    # --- S3 (and KMS through S3) --------------------------------------------------------

    def _kms(self, action: str, key: str | None, bucket: str, caller: Principal) -> list[Access]:
        if key is None:
            return []
        owner = self.model.owner(f"arn:aws:s3:::{bucket}")
        region = owner.region if owner else key.split(":")[3]
        context = {
            "kms:ViaService": f"s3.{region}.amazonaws.com",
            "kms:CallerAccount": caller.account,
            "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}",
        }
        return [Access(action, key, context)]

    def _default_key(self, bucket: str) -> str | None:
        owner = self.model.owner(f"arn:aws:s3:::{bucket}")
        return owner.bucket_keys.get(bucket) if owner else None

    def reading(self, bucket: str, key: str, caller: Principal) -> list[Access]:
        """Reading an object: ``s3:GetObject``, and decrypting it with its key through S3."""
        kms_key = self.object_key(bucket, key) or self._default_key(bucket)
        return [
            Access("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"),
            *self._kms("kms:Decrypt", kms_key, bucket, caller),
        ]

    def writing(self, params: Mapping[str, Any], caller: Principal) -> list[Access]:
        """Writing an object: ``s3:PutObject``, and a data key of its key through S3."""
        bucket, key = str(params["Bucket"]), str(params["Key"])
        kms_key = params.get("SSEKMSKeyId") or self._default_key(bucket)
        return [
            Access("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"),
            *self._kms("kms:GenerateDataKey", kms_key, bucket, caller),
        ]

    def _read_object(self, call: RecordedCall) -> list[Access]:
        return self.reading(str(call.params["Bucket"]), str(call.params["Key"]), call.principal)

    def _write_object(self, call: RecordedCall) -> list[Access]:
        return self.writing(call.params, call.principal)

    def _copy_object(self, call: RecordedCall) -> list[Access]:
        source = self.reading(*s3_location(call.params["CopySource"]), call.principal)
        return source + self.writing(call.params, call.principal)

    # --- SSM ----------------------------------------------------------------------------

    @staticmethod
    def _parameter_arn(call: RecordedCall, name: str) -> str:
        account = call.principal.account
        return f"arn:aws:ssm:{call.region}:{account}:parameter/{name.lstrip('/')}"

    def _parameters(self, action: str, call: RecordedCall) -> list[Access]:
        names = call.params.get("Names") or [call.params["Name"]]
        return [Access(action, self._parameter_arn(call, str(name))) for name in names]

    def _parameters_by_path(self, call: RecordedCall) -> list[Access]:
        arn = self._parameter_arn(call, str(call.params["Path"]).rstrip("/"))
        return [Access("ssm:GetParametersByPath", arn)]

    def _put_parameter(self, call: RecordedCall) -> list[Access]:
        overwrite = "true" if call.params.get("Overwrite") else "false"
        arn = self._parameter_arn(call, str(call.params["Name"]))
        return [Access("ssm:PutParameter", arn, {"ssm:Overwrite": overwrite})]

    # --- CloudFormation -----------------------------------------------------------------

    def _stack_arn(self, call: RecordedCall) -> str:
        name = str(call.params["StackName"])
        if name.startswith("arn:"):
            return name
        stacks = call.response.get("Stacks") or [call.response]
        stack_id = str(stacks[0].get("StackId") or "")
        return stack_id or (
            f"arn:aws:cloudformation:{call.region}:{call.principal.account}:stack/{name}/unknown"
        )

    def _stack(self, operation: str, call: RecordedCall) -> list[Access]:
        return [Access(f"cloudformation:{operation}", self._stack_arn(call))]

    def _update_stack(self, call: RecordedCall) -> list[Access]:
        """UpdateStack, the role it passes, and the SSM parameters CloudFormation resolves
        with the caller's credentials (every ``AWS::SSM::Parameter::Value`` parameter of the
        stack's template)."""
        accesses = self._stack("UpdateStack", call)
        if call.params.get("RoleARN"):
            accesses.append(
                Access(
                    "iam:PassRole",
                    str(call.params["RoleARN"]),
                    {"iam:PassedToService": "cloudformation.amazonaws.com"},
                )
            )
        owner = self.model.owner(accesses[0].resource)
        stack = owner.stacks.get(str(call.params["StackName"])) if owner else None
        if stack is None:
            raise AssertionError(f"{call}: the stack is not one of the templates'")
        for parameter in stack.parameters.values():
            if str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
                name = str(parameter["Default"])
                accesses.append(Access("ssm:GetParameters", self._parameter_arn(call, name)))
        return accesses

    # --- DynamoDB and SQS ---------------------------------------------------------------

    @staticmethod
    def _table(operation: str, call: RecordedCall) -> list[Access]:
        account = call.principal.account
        arn = f"arn:aws:dynamodb:{call.region}:{account}:table/{call.params['TableName']}"
        return [Access(f"dynamodb:{operation}", arn)]

    def _send_message(self, call: RecordedCall) -> list[Access]:
        match = re.fullmatch(r"https://sqs\.([^.]+)\.[^/]+/(\d{12})/(.+)", call.params["QueueUrl"])
        assert match, call.params["QueueUrl"]
        region, account, name = match.groups()
        arn = f"arn:aws:sqs:{region}:{account}:{name}"
        accesses = [Access("sqs:SendMessage", arn)]
        owner = self.model.owner(arn)
        key = owner.queue_keys.get(arn) if owner else None
        if key:
            context = {
                "kms:ViaService": f"sqs.{region}.amazonaws.com",
                "kms:CallerAccount": account,
            }
            accesses += [
                Access(action, key, context) for action in ("kms:GenerateDataKey", "kms:Decrypt")
            ]
        return accesses

"""Who may do what in the synthesized environments, by their templates alone.

Every principal an environment's templates define (each ``AWS::IAM::Role``, and each role
outside the templates that a template attaches a policy to, such as the CDK bootstrap's
deploy role) with its identity policies, and every resource policy (bucket, key, model
package group, queue, topic), resolved with :class:`aws_rules.resolve.Resolver` and decided
with the statement primitives of :mod:`aws_rules.policies`, as IAM combines them:

- an explicit ``Deny`` in either policy wins;
- in the resource's own account, the identity policy or a resource policy naming the
  principal allows (a key policy must allow: itself, or the account, and then the identity
  policy too);
- across accounts, both must allow (the resource policy naming the principal or its account).

A decision is three-valued: ``True``, ``False``, or ``None`` when a condition on a key the
request does not carry would decide it. The permission tests
(``test_promotion_permissions.py``, ``test_role_duties.py``) treat ``None`` as a failure that
names the request, so that nothing the evaluator cannot decide passes silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from aws_rules.cloud_assembly import StackTemplate, read_assembly
from aws_rules.policies import (
    Request,
    action_applies,
    as_list,
    conditions_hold,
    principal_applies,
    resource_applies,
    statements,
)
from aws_rules.resolve import Resolver, ResourceAt

#: AWS managed policies the templates attach, with their documented statements (AWS Managed
#: Policy Reference). A role with any other AWS managed policy cannot be decided: it fails.
AWS_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ]
    },
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": "*",
            }
        ]
    },
}

Tristate = bool | None


def any_of(*values: Tristate) -> Tristate:
    """Kleene ``or``: ``True`` if one is, ``None`` if one cannot be told, else ``False``."""
    if True in values:
        return True
    return None if None in values else False


def all_of(*values: Tristate) -> Tristate:
    """Kleene ``and``."""
    if False in values:
        return False
    return None if None in values else True


def negation(value: Tristate) -> Tristate:
    return None if value is None else not value


@dataclass(frozen=True)
class Principal:
    """A role and the identity policies the templates give it.

    ``label`` is the construct path of the role (or of the policy, for a role the templates
    do not define).
    """

    arn: str
    label: str
    documents: tuple[Any, ...]
    trusted_services: tuple[str, ...] = ()

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class Access:
    """One authorization IAM makes: an action on a resource, with its request context."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = f" {dict(self.context)}" if self.context else ""
        return f"{self.action} on {self.resource}{extra}"


@dataclass(frozen=True)
class Decision:
    """A decision with its parts, for failure messages."""

    allowed: Tristate
    identity: Tristate
    resource: Tristate
    denied: Tristate
    resource_policy: str

    def __str__(self) -> str:
        return (
            f"allowed={self.allowed} (identity policy allows: {self.identity}; resource policy"
            f" {self.resource_policy} allows: {self.resource}; explicit deny: {self.denied})"
        )


def construct_paths(outdir: Path) -> dict[tuple[str, str], str]:
    """(stack name, logical id) -> construct path, from the cloud assembly's metadata."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    paths: dict[tuple[str, str], str] = {}
    for artifact in manifest.get("artifacts", {}).values():
        if artifact["type"] == "cdk:cloud-assembly":
            paths.update(construct_paths(outdir / artifact["properties"]["directoryName"]))
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        metadata = dict(artifact.get("metadata", {}))
        if "additionalMetadataFile" in artifact:
            metadata.update(json.loads((outdir / artifact["additionalMetadataFile"]).read_text()))
        stack_name = artifact["properties"]["stackName"]
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] == "aws:cdk:logicalId":
                    paths[(stack_name, str(entry["data"]))] = path
    return paths


def _evaluate(documents: Iterable[Any], request: Request) -> tuple[Tristate, Tristate, Tristate]:
    """(explicitly denied, allowed to the principal, allowed to the principal's account).

    A statement without ``Principal`` (an identity policy's) applies to the principal.
    """
    root = Request(
        request.action,
        request.resource,
        principal_arn=f"arn:aws:iam::{request.account}:root",
        context=request.context,
    )
    denied: Tristate = False
    direct: Tristate = False
    account: Tristate = False
    for statement in (s for document in documents for s in statements(document)):
        if not (action_applies(statement, request.action)):
            continue
        if not resource_applies(statement, request.resource):
            continue
        to_principal = principal_applies(statement, request)
        to_account = "Principal" in statement and principal_applies(statement, root)
        if not (to_principal or to_account):
            continue
        held = conditions_hold(statement, request.context)
        if statement.get("Effect") == "Deny":
            denied = any_of(denied, held)
        elif to_principal:
            direct = any_of(direct, held)
        else:
            account = any_of(account, held)
    return denied, direct, account


class EnvironmentAccess:
    """The principals and resource policies of one environment's templates, resolved once.

    Attributes
    ----------
    name, account, region:
        The environment.
    resolver:
        The :class:`Resolver` of its stacks.
    stacks:
        Its stacks, by CloudFormation name.
    principals:
        :class:`Principal` by role ARN.
    managed_policies:
        Customer managed policies attached to no role of the templates (the approvers'),
        by construct path: ``(policy ARN, document)``.
    bucket_keys:
        Bucket name -> ARN of its default encryption key.
    """

    def __init__(self, name: str, outdir: Path) -> None:
        self.name = name
        stacks = read_assembly(outdir)
        self.resolver = Resolver(stacks)
        self.stacks: dict[str, StackTemplate] = {stack.stack_name: stack for stack in stacks}
        self.account = stacks[0].account
        self.region = stacks[0].region
        self.paths = construct_paths(outdir)
        self._policies: dict[str, Any] = {}  # resource ARN (or pattern) -> policy
        self.bucket_keys: dict[str, str] = {}
        self.buckets: set[str] = set()
        self.queue_keys: dict[str, str] = {}
        self._index_resources()
        self.managed_policies: dict[str, tuple[str, Any]] = {}
        self.principals = self._principals()

    # --- resources ----------------------------------------------------------------------

    def properties(self, stack: StackTemplate, logical_id: str) -> dict[str, Any]:
        return dict(self.resolver.resolve(stack, stack.resources[logical_id].get("Properties")))

    def label(self, stack: StackTemplate, logical_id: str) -> str:
        return self.paths.get((stack.stack_name, logical_id), f"{stack.stack_name}/{logical_id}")

    def _index_resources(self) -> None:
        """Buckets (and their keys), keys, groups, queues and the resource policies."""
        indexers: dict[str, Callable[[ResourceAt, dict[str, Any]], None]] = {
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::KMS::Key": self._key,
            "AWS::SageMaker::ModelPackageGroup": self._group,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::TopicPolicy": self._topic_policy,
        }
        for at in self.resolver.resources(*indexers):
            indexers[at.type](at, self.properties(at.stack, at.logical_id))

    def _bucket(self, _: ResourceAt, props: dict[str, Any]) -> None:
        self.buckets.add(props["BucketName"])
        encryption = props.get("BucketEncryption") or {}
        for rule in encryption.get("ServerSideEncryptionConfiguration", []):
            key = (rule.get("ServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID")
            if key:
                self.bucket_keys[props["BucketName"]] = key

    def _bucket_policy(self, _: ResourceAt, props: dict[str, Any]) -> None:
        self._policies[f"arn:aws:s3:::{props['Bucket']}"] = props["PolicyDocument"]

    def _key(self, at: ResourceAt, props: dict[str, Any]) -> None:
        arn = self.resolver.reference(at.stack, at.logical_id, "Arn")
        self._policies[arn] = props.get("KeyPolicy")

    def _group(self, _: ResourceAt, props: dict[str, Any]) -> None:
        group = self.group_arn(props["ModelPackageGroupName"])
        self._policies[group] = props.get("ModelPackageGroupPolicy")

    def _queue(self, at: ResourceAt, props: dict[str, Any]) -> None:
        if props.get("KmsMasterKeyId"):
            arn = self.resolver.reference(at.stack, at.logical_id, "Arn")
            self.queue_keys[arn] = props["KmsMasterKeyId"]

    def _queue_policy(self, _: ResourceAt, props: dict[str, Any]) -> None:
        for url in props.get("Queues", []):
            region, (account, name) = url.split(".")[1], url.rsplit("/", 2)[-2:]
            self._policies[f"arn:aws:sqs:{region}:{account}:{name}"] = props["PolicyDocument"]

    def _topic_policy(self, _: ResourceAt, props: dict[str, Any]) -> None:
        for topic in props.get("Topics", []):
            self._policies[topic] = props["PolicyDocument"]

    def group_arn(self, group: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:model-package-group/{group}"

    def package_arn(self, group: str, version: int) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:model-package/{group}/{version}"

    def owns(self, resource: str) -> bool:
        """Whether the resource (an ARN) is one of this environment's."""
        if resource.startswith("arn:aws:s3:::"):
            return resource.removeprefix("arn:aws:s3:::").split("/", 1)[0] in self.buckets
        parts = resource.split(":")
        return len(parts) > 4 and (parts[3], parts[4]) in (
            ("", self.account),
            (self.region, self.account),
        )

    def resource_policy(self, resource: str) -> tuple[str, Any]:
        """(what the policy is, the policy or ``None``) of an ARN of this environment."""
        if resource.startswith("arn:aws:s3:::"):
            bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            return f"of bucket {bucket}", self._policies.get(f"arn:aws:s3:::{bucket}")
        if ":model-package/" in resource:
            group = resource.split(":model-package/", 1)[1].rsplit("/", 1)[0]
            return f"of group {group}", self._policies.get(self.group_arn(group))
        if ":model-package-group/" in resource:
            return "of the group", self._policies.get(resource)
        if resource in self._policies:
            return f"of {resource}", self._policies[resource]
        return "(none)", None

    def key_policy(self, key_arn: str) -> Any:
        return self._policies.get(key_arn)

    # --- principals ---------------------------------------------------------------------

    def _principals(self) -> dict[str, Principal]:
        roles: dict[str, tuple[str, str, list[Any], tuple[str, ...]]] = {}  # name -> parts
        for at in self.resolver.resources("AWS::IAM::Role"):
            props = self.properties(at.stack, at.logical_id)
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
            documents.extend(
                self._managed(arn, at.label) for arn in props.get("ManagedPolicyArns", [])
            )
            services = tuple(
                str(service)
                for statement in statements(props.get("AssumeRolePolicyDocument"))
                for service in as_list((statement.get("Principal") or {}).get("Service"))
            )
            name = self.resolver.physical_name(at.stack, at.logical_id)
            arn = self.resolver.arn(at.stack, at.logical_id)
            roles[name] = (arn, self.label(at.stack, at.logical_id), documents, services)
        for at in self.resolver.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            props = self.properties(at.stack, at.logical_id)
            attached = props.get("Roles", [])
            if at.type == "AWS::IAM::ManagedPolicy" and not attached:
                arn = f"arn:aws:iam::{self.account}:policy/{props.get('ManagedPolicyName')}"
                self.managed_policies[self.label(at.stack, at.logical_id)] = (
                    arn,
                    props["PolicyDocument"],
                )
            for role in attached:
                if role not in roles:  # a role outside the templates (the CDK deploy role)
                    arn = f"arn:aws:iam::{self.account}:role/{role}"
                    roles[role] = (arn, self.label(at.stack, at.logical_id), [], ())
                roles[role][2].append(props["PolicyDocument"])
        return {
            arn: Principal(arn, label, tuple(documents), services)
            for arn, label, documents, services in roles.values()
        }

    def _managed(self, arn: str, role: str) -> Any:
        if arn in AWS_MANAGED_POLICIES:
            return AWS_MANAGED_POLICIES[arn]
        for at in self.resolver.resources("AWS::IAM::ManagedPolicy"):
            props = self.properties(at.stack, at.logical_id)
            if arn == f"arn:aws:iam::{self.account}:policy/{props.get('ManagedPolicyName')}":
                return props["PolicyDocument"]
        raise AssertionError(f"{role}: managed policy {arn} is not known; describe it here")

    def principal(self, label_suffix: str) -> Principal:
        """The one principal whose construct path ends with ``label_suffix``."""
        found = [p for p in self.principals.values() if p.label.endswith(label_suffix)]
        assert len(found) == 1, (label_suffix, [p.label for p in found])
        return found[0]

    def resources(self, *types: str) -> Iterator[tuple[StackTemplate, str, dict[str, Any]]]:
        """(stack, logical id, resolved properties) of every resource of the types."""
        for at in self.resolver.resources(*types):
            yield at.stack, at.logical_id, self.properties(at.stack, at.logical_id)


@cache
def environment_access(name: str, outdir: Path) -> EnvironmentAccess:
    """The :class:`EnvironmentAccess` of a synthesized environment, built once per session."""
    return EnvironmentAccess(name, outdir)


class AccessModel:
    """Decides accesses of principals across environments (see the module's docstring)."""

    def __init__(self, environments: Mapping[str, EnvironmentAccess]) -> None:
        self.environments = dict(environments)

    def owner(self, resource: str) -> EnvironmentAccess | None:
        return next((env for env in self.environments.values() if env.owns(resource)), None)

    def decide(self, principal: Principal, access: Access) -> Decision:
        """Whether ``principal`` may make ``access``."""
        context = {
            "aws:PrincipalArn": principal.arn,
            "aws:PrincipalAccount": principal.account,
            **access.context,
        }
        request = Request(
            access.action, access.resource, principal_arn=principal.arn, context=context
        )
        identity_denied, identity, _ = _evaluate(principal.documents, request)
        owner = self.owner(access.resource)
        what, policy = owner.resource_policy(access.resource) if owner else ("(unknown)", None)
        denied, direct, account = _evaluate([policy] if policy else [], request)
        same_account = owner is None or owner.account == principal.account
        if access.action.lower().startswith("kms:"):
            if policy is None:
                granted: Tristate = None  # a key the templates do not hold
            elif same_account:
                granted = any_of(direct, all_of(account, identity))
            else:
                granted = all_of(identity, any_of(direct, account))
        elif same_account:
            granted = any_of(identity, direct)
        else:
            granted = all_of(identity, any_of(direct, account))
        refused = any_of(identity_denied, denied)
        return Decision(
            allowed=all_of(negation(refused), granted),
            identity=identity,
            resource=any_of(direct, account),
            denied=refused,
            resource_policy=what,
        )

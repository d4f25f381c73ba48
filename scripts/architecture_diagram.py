"""Draw the synthesized platform of an environment as a PNG with AWS icons.

Usage: ``python -m scripts.architecture_diagram [cdk.out] [--output docs/architecture.png]``
(``make diagram ENV=<name>`` synthesizes first when needed and installs Graphviz's ``dot``).

Each stack of the cloud assembly is a cluster, labelled with its construct path and
CloudFormation name; its main resources are nodes with their AWS icons (several of a kind
in one stack are drawn as one node with a count); edges are the flows the templates declare:

* **data** (blue): a resource, or the role it runs as, reads or writes a bucket, a feature
  group or a table;
* **events** (orange, dashed): an EventBridge rule's source and targets, topic subscriptions,
  queue triggers, Lambda failure destinations;
* **uses** (grey): any other reference between drawn resources (endpoint to its alarms'
  topic, a Lambda starting a pipeline, ...).

Resources that are configuration (IAM, routes, endpoint configurations, models) are not
drawn; their references are followed (an endpoint's capture bucket is named in its
endpoint configuration, a Lambda's permissions in its role's policy). KMS keys are drawn
without edges: everything uses them. The Graphviz source is written next to the PNG
(``.dot``); node ids are derived from the templates, so the same assembly gives the same
source.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagrams import Cluster, Diagram, Edge, Node
from diagrams.aws.analytics import GlueDataCatalog
from diagrams.aws.compute import LambdaFunction
from diagrams.aws.database import DynamodbTable
from diagrams.aws.devtools import Codebuild, Codepipeline
from diagrams.aws.general import General, Users
from diagrams.aws.integration import (
    EventbridgeRule,
    SimpleNotificationServiceSnsTopic,
    SimpleQueueServiceSqsQueue,
    StepFunctions,
)
from diagrams.aws.management import Cloudwatch, CloudwatchAlarm, CloudwatchEventTimeBased
from diagrams.aws.ml import (
    Sagemaker,
    SagemakerModel,
    SagemakerNotebook,
    SagemakerTrainingJob,
)
from diagrams.aws.network import VPC, Endpoint, VPCFlowLogs
from diagrams.aws.security import KeyManagementService
from diagrams.aws.storage import SimpleStorageServiceS3Bucket

from aws_rules.cloud_assembly import StackTemplate, read_assembly


@dataclass(frozen=True)
class Kind:
    """How a resource type is drawn: icon, label, how many get their own node."""

    icon: type[Node]
    label: str
    individual: int = 3  # more than this many in a stack: one node with a count
    name_key: str | None = None  # property holding a readable physical name


MAIN: dict[str, Kind] = {
    "AWS::KMS::Key": Kind(KeyManagementService, "KMS keys", individual=0),
    "AWS::S3::Bucket": Kind(SimpleStorageServiceS3Bucket, "bucket", individual=8),
    "AWS::EC2::VPC": Kind(VPC, "VPC"),
    "AWS::EC2::VPCEndpoint": Kind(Endpoint, "VPC endpoints", individual=0),
    "AWS::EC2::FlowLog": Kind(VPCFlowLogs, "flow logs"),
    "AWS::SageMaker::Domain": Kind(SagemakerNotebook, "Studio domain", name_key="DomainName"),
    "AWS::SageMaker::UserProfile": Kind(Users, "user profiles", individual=0),
    "AWS::SageMaker::Space": Kind(SagemakerNotebook, "shared spaces", individual=0),
    "AWS::SageMaker::MlflowTrackingServer": Kind(
        SagemakerTrainingJob, "MLflow tracking server", name_key="TrackingServerName"
    ),
    "AWS::SageMaker::ModelPackageGroup": Kind(SagemakerModel, "model package groups", individual=0),
    "AWS::SageMaker::FeatureGroup": Kind(
        GlueDataCatalog, "feature group", individual=6, name_key="FeatureGroupName"
    ),
    "AWS::SageMaker::Pipeline": Kind(
        SagemakerTrainingJob, "pipeline", individual=8, name_key="PipelineName"
    ),
    "AWS::SageMaker::Endpoint": Kind(Sagemaker, "endpoint", individual=8, name_key="EndpointName"),
    "AWS::SageMaker::MonitoringSchedule": Kind(
        CloudwatchEventTimeBased, "monitoring schedules", individual=0
    ),
    "AWS::Events::Rule": Kind(EventbridgeRule, "rules", individual=3),
    "AWS::Lambda::Function": Kind(LambdaFunction, "function", individual=6),
    "AWS::SQS::Queue": Kind(SimpleQueueServiceSqsQueue, "queue", individual=4),
    "AWS::SNS::Topic": Kind(SimpleNotificationServiceSnsTopic, "topic", individual=4),
    "AWS::DynamoDB::Table": Kind(DynamodbTable, "table"),
    "AWS::DynamoDB::GlobalTable": Kind(DynamodbTable, "table"),
    "AWS::CloudWatch::Alarm": Kind(CloudwatchAlarm, "alarms", individual=0),
    "AWS::CloudWatch::CompositeAlarm": Kind(CloudwatchAlarm, "composite alarms", individual=0),
    "AWS::CloudWatch::Dashboard": Kind(Cloudwatch, "dashboards", individual=0),
    "AWS::CodePipeline::Pipeline": Kind(Codepipeline, "CodePipeline"),
    "AWS::CodeBuild::Project": Kind(Codebuild, "CodeBuild projects", individual=0),
    "AWS::StepFunctions::StateMachine": Kind(StepFunctions, "state machine"),
}
#: Configuration drawn through: a drawn resource that refers to one inherits its references.
TRANSPARENT = {"AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Model"}
#: Resources that connect two others: (property naming the source, property naming the target).
CONNECTORS = {
    "AWS::SNS::Subscription": ("TopicArn", "Endpoint"),
    "AWS::Lambda::EventSourceMapping": ("EventSourceArn", "FunctionName"),
    "AWS::Lambda::EventInvokeConfig": ("FunctionName", "DestinationConfig"),
}
#: Where data lives: an edge to one of these is a data flow.
DATA_STORES = {
    "AWS::S3::Bucket",
    "AWS::SageMaker::FeatureGroup",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
}
EVENT_TYPES = {"AWS::Events::Rule", "AWS::SNS::Topic", "AWS::SQS::Queue"}
#: Properties whose string value is the physical name of a resource of the given type.
NAME_KEYS = {
    "EndpointName": "AWS::SageMaker::Endpoint",
    "ModelPackageGroupName": "AWS::SageMaker::ModelPackageGroup",
    "PipelineName": "AWS::SageMaker::Pipeline",
    "FeatureGroupName": "AWS::SageMaker::FeatureGroup",
}
#: The resource part of a SageMaker ARN, ``<kind>/<name>``, and the type it names.
ARN_KINDS = {
    "endpoint": "AWS::SageMaker::Endpoint",
    "model-package-group": "AWS::SageMaker::ModelPackageGroup",
    "pipeline": "AWS::SageMaker::Pipeline",
    "feature-group": "AWS::SageMaker::FeatureGroup",
}
STYLES = {
    "data": {"color": "#1f6fb2", "label": ""},
    "event": {"color": "#e07b00", "style": "dashed", "label": ""},
    "uses": {"color": "#7f8c8d", "label": ""},
}
#: From this many edges of one kind into another stack, draw one edge to the stack.
FAN_IN_CLUSTER = 3
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")

Ref = tuple[str, str]  # (stack name, logical id)


def _short(logical_id: str) -> str:
    return _CDK_HASH.sub("", logical_id) or logical_id


def _wrapped(label: str, width: int = 16) -> str:
    """``label`` on lines of about ``width`` characters, broken at a space, ``-`` or a capital."""
    words = re.findall(r"[A-Z]+[^-A-Z ]*[- ]?|[^-A-Z ]+[- ]?|[- ]", label) or [label]
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = ""
        line += word
    return "\n".join(part.strip() for part in [*lines, line])


def _name_prefixes(stacks: list[StackTemplate]) -> dict[str, str]:
    """The environment's name prefix (``ml-platform-sandbox-``) of each stack: what the
    names of its stacks share up to a dash, so that a model's endpoint is labelled by the
    model's name in shared and per-model stacks alike."""
    by_environment: dict[str, list[str]] = defaultdict(list)
    for stack in stacks:
        by_environment[stack.display_name.split("/")[0]].append(stack.stack_name)
    prefixes = {}
    for names in by_environment.values():
        # A character-wise prefix is meant (cut at its last dash below), not a path's.
        shared = (
            os.path.commonprefix(names)  # noqa: RUF071
            if len(names) > 1
            else names[0].rsplit("-", 1)[0]
        )
        prefix = shared[: shared.rfind("-") + 1] if len(names) > 1 else shared + "-"
        prefixes.update(dict.fromkeys(names, prefix))
    return prefixes


class _Graph:
    """The nodes and edges of the picture, computed from the templates alone."""

    def __init__(self, stacks: list[StackTemplate]) -> None:
        self.stacks = {stack.stack_name: stack for stack in stacks}
        self.order = [stack.stack_name for stack in stacks]
        self.exports = {
            output["Export"]["Name"]: (stack.stack_name, output.get("Value"))
            for stack in stacks
            for output in stack.outputs.values()
            if isinstance(output.get("Export", {}).get("Name"), str)
        }
        # node key of every drawn resource, and the label and icon of each node
        self.node_of: dict[Ref, str] = {}
        self.nodes: dict[str, tuple[str, Kind, str]] = {}  # key -> (stack, kind, label)
        self.physical: dict[tuple[str, str], Ref] = {}  # (type, name) -> resource
        self.buckets: dict[str, Ref] = {}
        prefixes = _name_prefixes(stacks)
        for stack in stacks:
            by_type = self._index(stack)
            for rtype, logical_ids in by_type.items():
                kind = MAIN.get(rtype)
                if kind is not None:
                    self._add_nodes(stack, rtype, kind, logical_ids, prefixes[stack.stack_name])

    def _index(self, stack: StackTemplate) -> dict[str, list[str]]:
        """The stack's drawn resources by type; buckets and named resources by name."""
        # Lambdas behind custom resources run at deploy time only: not part of the picture.
        providers = {
            ref[1]
            for resource in stack.resources.values()
            if resource["Type"].startswith("Custom::")
            or resource["Type"] == "AWS::CloudFormation::CustomResource"
            for ref in self._local_refs(stack, resource.get("Properties", {}).get("ServiceToken"))
        }
        by_type: dict[str, list[str]] = defaultdict(list)
        for logical_id, resource in stack.resources.items():
            if logical_id in providers:
                continue
            by_type[resource["Type"]].append(logical_id)
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::S3::Bucket" and isinstance(props.get("BucketName"), str):
                self.buckets[props["BucketName"]] = (stack.stack_name, logical_id)
            for key, rtype in NAME_KEYS.items():
                if resource["Type"] == rtype and isinstance(props.get(key), str):
                    self.physical[(rtype, props[key])] = (stack.stack_name, logical_id)
        return by_type

    def _add_nodes(
        self, stack: StackTemplate, rtype: str, kind: Kind, logical_ids: list[str], prefix: str
    ) -> None:
        """A node per resource of ``rtype``, or one for all when they are too many to draw."""
        if len(logical_ids) > kind.individual:
            key = f"{stack.stack_name}/{rtype}"
            label = (
                f"{kind.label} x{len(logical_ids)}"
                if len(logical_ids) > 1
                else (kind.label.rstrip("s"))
            )
            self.nodes[key] = (stack.stack_name, kind, label)
            for logical_id in logical_ids:
                self.node_of[(stack.stack_name, logical_id)] = key
            return
        for logical_id in logical_ids:
            props = stack.resources[logical_id].get("Properties", {})
            name = props.get(kind.name_key) if kind.name_key else None
            label = _short(logical_id)
            if isinstance(name, str):
                label = kind.label if name == prefix[:-1] else name.removeprefix(prefix)
            key = f"{stack.stack_name}/{logical_id}"
            self.nodes[key] = (stack.stack_name, kind, label)
            self.node_of[(stack.stack_name, logical_id)] = key

    # -- references -------------------------------------------------------------------------

    @staticmethod
    def _local_refs(stack: StackTemplate, value: Any) -> Iterator[Ref]:
        if isinstance(value, dict):
            if value.get("Ref") in stack.resources:
                yield (stack.stack_name, value["Ref"])
            target = value.get("Fn::GetAtt")
            if isinstance(target, list) and target and target[0] in stack.resources:
                yield (stack.stack_name, target[0])

    def _resolve_output(self, stack_name: str, output_name: str) -> Iterator[Ref]:
        stack = self.stacks.get(stack_name)
        if stack and output_name in stack.outputs:
            yield from self.refs(stack_name, stack.outputs[output_name].get("Value"))

    def refs(self, stack_name: str, value: Any, key: str | None = None) -> Iterator[Ref]:
        """Every resource ``value`` (a property of a resource of ``stack_name``) refers to."""
        stack = self.stacks[stack_name]
        if isinstance(value, dict):
            if "Ref" in value and value["Ref"] in stack.resources:
                yield (stack_name, value["Ref"])
            elif "Fn::GetAtt" in value:
                target = value["Fn::GetAtt"]
                target = target[0] if isinstance(target, list) else str(target).split(".")[0]
                if target in stack.resources:
                    yield (stack_name, target)
            elif "Fn::GetStackOutput" in value:
                spec = value["Fn::GetStackOutput"]
                if isinstance(spec.get("StackName"), str):
                    yield from self._resolve_output(spec["StackName"], spec.get("OutputName"))
            elif "Fn::ImportValue" in value and isinstance(value["Fn::ImportValue"], str):
                exported = self.exports.get(value["Fn::ImportValue"])
                if exported:
                    yield from self.refs(exported[0], exported[1])
            else:
                for child_key, child in value.items():
                    yield from self.refs(stack_name, child, child_key)
        elif isinstance(value, list):
            for child in value:
                yield from self.refs(stack_name, child, key)
        elif isinstance(value, str):
            if key in NAME_KEYS and (NAME_KEYS[key], value) in self.physical:
                yield self.physical[(NAME_KEYS[key], value)]
            if value.startswith("arn:"):  # arn:...:pipeline/<name>, :endpoint/<name>, ...
                kind, _, name = value.split(":", 5)[-1].partition("/")
                rtype = ARN_KINDS.get(kind)
                if rtype and (rtype, name.split("/")[0]) in self.physical:
                    yield self.physical[(rtype, name.split("/")[0])]
            for bucket, ref in self.buckets.items():
                if f"s3://{bucket}" in value or f":::{bucket}" in value:
                    yield ref

    def _expanded(self, ref: Ref, seen: set[Ref]) -> Iterator[Ref]:
        """``ref``'s references, through configuration resources that are not drawn."""
        stack_name, logical_id = ref
        resource = self.stacks[stack_name].resources[logical_id]
        for target in self.refs(stack_name, resource.get("Properties", {})):
            if target in seen:
                continue
            seen.add(target)
            target_type = self.stacks[target[0]].resources[target[1]]["Type"]
            if target_type in TRANSPARENT:
                yield from self._expanded(target, seen)
            else:
                yield target

    def edges(self) -> dict[tuple[str, str], str]:
        """(from node, to node) -> ``data``, ``event`` or ``uses``."""
        found: dict[tuple[str, str], str] = {}

        def add(source: Ref, target: Ref, kind: str | None = None) -> None:
            a, b = self.node_of.get(source), self.node_of.get(target)
            if a is None or b is None or a == b:
                return
            if self._type(target) == "AWS::KMS::Key" or self._type(source) == "AWS::KMS::Key":
                return
            if kind is None:
                kind = (
                    "data"
                    if self._type(target) in DATA_STORES
                    else (
                        "event"
                        if EVENT_TYPES & {self._type(source), self._type(target)}
                        else "uses"
                    )
                )
            found.setdefault((a, b), kind)

        users_of_role: dict[Ref, set[Ref]] = defaultdict(set)
        for stack_name in self.order:
            for logical_id in self.stacks[stack_name].resources:
                ref = (stack_name, logical_id)
                if ref not in self.node_of:
                    continue
                for target in self._expanded(ref, {ref}):
                    if self._type(target) == "AWS::IAM::Role":
                        users_of_role[target].add(ref)
        for stack_name in self.order:
            for logical_id, resource in self.stacks[stack_name].resources.items():
                ref, rtype = (stack_name, logical_id), resource["Type"]
                props = resource.get("Properties", {})
                if rtype == "AWS::Events::Rule":
                    for target in self.refs(stack_name, props.get("EventPattern", {})):
                        add(target, ref, "event")
                    for target in self.refs(stack_name, props.get("Targets", [])):
                        add(ref, target, "event")
                elif rtype in CONNECTORS:
                    source_key, target_key = CONNECTORS[rtype]
                    for source in self.refs(stack_name, props.get(source_key)):
                        for target in self.refs(stack_name, props.get(target_key)):
                            add(source, target, "event")
                elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                    roles = list(self.refs(stack_name, props.get("Roles", [])))
                    targets = list(self.refs(stack_name, props.get("PolicyDocument", {})))
                    for role in roles:
                        for user in sorted(users_of_role.get(role, ())):
                            for target in targets:
                                add(user, target)
                elif ref in self.node_of:
                    for target in self._expanded(ref, {ref}):
                        add(ref, target)
        return dict(sorted(found.items()))

    def _type(self, ref: Ref) -> str:
        return str(self.stacks[ref[0]].resources[ref[1]]["Type"])


def draw(stacks: list[StackTemplate], output: Path, title: str) -> Path:
    """Write ``output`` (PNG) and its Graphviz source beside it; return the source's path."""
    graph = _Graph(stacks)
    output.parent.mkdir(parents=True, exist_ok=True)
    base = output.with_suffix("")
    attrs = {
        "fontsize": "20",
        "pad": "0.4",
        "splines": "spline",
        "nodesep": "0.35",
        "ranksep": "0.9",
        "labelloc": "t",
        "compound": "true",
    }
    nodes: dict[str, Node] = {}
    clusters: dict[str, str] = {}
    with Diagram(
        title,
        filename=str(base),
        outformat=["png", "dot"],
        show=False,
        direction="TB",
        graph_attr=attrs,
    ):
        for number, stack_name in enumerate(graph.order):
            stack = graph.stacks[stack_name]
            keys = [key for key, (owner, _, _) in graph.nodes.items() if owner == stack_name]
            with Cluster(
                f"{stack.display_name}  ({stack.stack_name})", graph_attr={"fontsize": "14"}
            ) as cluster:
                clusters[stack_name] = cluster.name
                if not keys:  # a stack with nothing drawable still shows, with its size
                    keys_label = f"{len(stack.resources)} resources"
                    nodes[f"{stack_name}/"] = General(keys_label, nodeid=f"n{number}_empty")
                for index, key in enumerate(keys):
                    _, kind, label = graph.nodes[key]
                    nodes[key] = kind.icon(_wrapped(label), nodeid=f"n{number}_{index}")
        # Many edges of one kind from a node into one stack are drawn as one edge to that
        # stack's cluster (Graphviz's lhead), labelled with their count.
        fanned: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for (a, b), edge_kind in graph.edges().items():
            fanned[(a, graph.nodes[b][0], edge_kind)].append(b)
        for (a, stack_name, edge_kind), targets in fanned.items():
            if len(targets) >= FAN_IN_CLUSTER and stack_name != graph.nodes[a][0]:
                style = {
                    **STYLES[edge_kind],
                    "lhead": clusters[stack_name],
                    "label": f"{len(targets)} {edge_kind}",
                }
                nodes[a] >> Edge(**style) >> nodes[targets[0]]
            else:
                for b in targets:
                    nodes[a] >> Edge(**STYLES[edge_kind]) >> nodes[b]
    return base.with_suffix(".dot")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.architecture_diagram", description=__doc__.split("\n")[0]
    )
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument("--output", default=Path("build/architecture.png"), type=Path)
    parser.add_argument(
        "--dot", type=Path, help="where the Graphviz source goes (default: beside the PNG)"
    )
    args = parser.parse_args(argv)
    if not (args.assembly / "manifest.json").is_file():
        print(f"{args.assembly}: no cloud assembly here (run cdk synth first)", file=sys.stderr)
        return 1
    stacks = read_assembly(args.assembly)
    environments = sorted({stack.display_name.split("/")[0] for stack in stacks})
    title = (
        f"ML platform: {', '.join(environments)} ({', '.join(sorted({s.region for s in stacks}))})"
    )
    source = draw(stacks, args.output, title)
    if args.dot and args.dot.resolve() != source.resolve():
        args.dot.parent.mkdir(parents=True, exist_ok=True)
        source = source.replace(args.dot)
    print(f"wrote {args.output} and {source}: {len(stacks)} stacks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

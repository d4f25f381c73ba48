"""What an environment costs per month with no traffic, read from its synthesized templates.

Usage: ``python -m scripts.idle_cost_report [cdk.out] [--prices pricing/prices.yaml] [--top 5]``
(``make cost ENV=<name>`` synthesizes first when needed).

Every resource of every stack in the cloud assembly (nested stage assemblies included) lands in
exactly one of four places:

* **idle cost**: billed by the hour or month whether or not anything uses it (interface VPC
  endpoints per AZ-hour, endpoint instances kept running, serverless provisioned concurrency,
  the MLflow tracking server, KMS keys, CloudWatch alarms and dashboards, Studio space
  volumes), priced from ``pricing/prices.yaml`` for the stack's region;
* **scales with use**: zero at idle, billed per request, GB or job (Lambda, S3, DynamoDB
  on-demand, Studio apps, pipelines, ...), listed by type;
* **free at rest**: configuration with no charge of its own (IAM, routes, policies, ...);
* **unpriced**: a type, instance type or region the price table does not know, listed with the
  reason, never dropped.

The biggest idle costs are flagged with the configuration knob that removes each, and the
knobs already in use with what each saves (an endpoint that scales to zero instances, interface
endpoints in fewer zones than the VPC has, an MLflow app instead of a tracking server).

Resources that exist only under a CloudFormation condition (a model's serving and
monitoring, created once its champion is released, ``docs/releases.md``) are priced as if
the condition held: the report shows what the environment costs with every model served, and
says, per stack, how many resources wait for a condition.

The report reads only files: no AWS call, no clock.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aws_rules.cloud_assembly import StackTemplate, read_assembly

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PRICES = REPO / "pricing" / "prices.yaml"

Resource = dict[str, Any]


@dataclass(frozen=True)
class CostLine:
    """An idle cost of one stack: ``count`` units of ``item`` for ``monthly`` USD."""

    stack: str
    item: str
    count: float
    unit: str
    monthly: float
    knob: str
    estimate: bool


@dataclass(frozen=True)
class Unpriced:
    """A resource the report cannot price, and why."""

    stack: str
    logical_id: str
    resource_type: str
    reason: str


@dataclass(frozen=True)
class Saving:
    """What a knob in use saves each month in one stack, against what it replaces."""

    stack: str
    knob: str
    what: str
    monthly: float
    estimate: bool


@dataclass
class IdleCostReport:
    """Everything the report prints."""

    stacks: list[StackTemplate]
    lines: list[CostLine] = field(default_factory=list)
    scales_with_use: Counter[str] = field(default_factory=Counter)
    free_at_rest: Counter[str] = field(default_factory=Counter)
    unpriced: list[Unpriced] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    savings: list[Saving] = field(default_factory=list)
    #: Resources counted although a condition decides whether they exist, by condition name.
    conditional: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def stack_total(self, stack: StackTemplate) -> float:
        return sum(line.monthly for line in self.lines if line.stack == stack.display_name)


def load_prices(path: Path) -> dict[str, Any]:
    """The price table (see ``pricing/prices.yaml`` for its shape)."""
    prices: dict[str, Any] = yaml.safe_load(path.read_text())
    return prices


class _Pricer:
    """Prices the resources of one assembly with one price table."""

    def __init__(self, stacks: list[StackTemplate], prices: dict[str, Any]) -> None:
        self.stacks = stacks
        self.prices = prices
        self.hours = float(prices["hours_per_month"])
        self.report = IdleCostReport(stacks=stacks)
        # Autoscaling targets name endpoints by physical name and may sit in any stack.
        self.min_capacity: dict[tuple[str, str], int] = {}
        for stack in stacks:
            for resource in stack.resources.values():
                props = resource.get("Properties", {})
                if resource["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget" and str(
                    props.get("ScalableDimension", "")
                ).startswith("sagemaker:variant:"):
                    key = (str(props.get("ResourceId")), str(props["ScalableDimension"]))
                    if isinstance(props.get("MinCapacity"), int):
                        self.min_capacity[key] = props["MinCapacity"]

    # -- helpers ------------------------------------------------------------------------------

    def price(
        self, stack: StackTemplate, name: str, logical_id: str, rtype: str
    ) -> dict[str, Any] | None:
        entry: dict[str, Any] | None = (
            self.prices.get("regions", {}).get(stack.region, {}).get(name)
        )
        if entry is None:
            self.report.unpriced.append(
                Unpriced(
                    stack.display_name,
                    logical_id,
                    rtype,
                    f"no `{name}` price for region {stack.region} in the price table",
                )
            )
        return entry

    def add(
        self,
        stack: StackTemplate,
        item: str,
        count: float,
        unit: str,
        monthly: float,
        knob: str,
        estimate: bool,
    ) -> None:
        self.report.lines.append(
            CostLine(stack.display_name, item, count, unit, monthly, knob, estimate)
        )

    def env_file(self, stack: StackTemplate) -> str:
        return f"config/{stack.display_name.split('/')[0].lower()}.yaml"

    def model_of(self, stack: StackTemplate, endpoint_name: str) -> str:
        """The catalogue model of an endpoint: the model whose stack holds it
        (``<Env>/Models/<model>/Model``), else its name after the stack's name prefix."""
        path = stack.display_name.split("/")
        if len(path) >= 3 and path[-3] == "Models":
            return path[-2]
        prefix = stack.stack_name.rsplit("-", 1)[0] + "-"
        return endpoint_name.removeprefix(prefix)

    def save(
        self, stack: StackTemplate, knob: str, what: str, monthly: float, entry: dict[str, Any]
    ) -> None:
        self.report.savings.append(
            Saving(stack.display_name, knob, what, monthly, entry.get("estimate", True))
        )

    # -- the priced types ---------------------------------------------------------------------

    def vpc_endpoint(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        props = resource.get("Properties", {})
        if props.get("VpcEndpointType", "Gateway") != "Interface":
            self.report.scales_with_use["AWS::EC2::VPCEndpoint (gateway: free)"] += 1
            return
        subnets = props.get("SubnetIds")
        zones = len(subnets) if isinstance(subnets, list) else 1
        if not isinstance(subnets, list):
            self.report.notes.append(
                f"{stack.display_name}/{logical_id}: subnets not a literal list, counted as 1 AZ"
            )
        entry = self.price(stack, "interface_endpoint_az_hour", logical_id, resource["Type"])
        if entry:
            self.add(
                stack,
                "interface VPC endpoints",
                zones,
                "endpoint-AZ",
                zones * entry["price"] * self.hours,
                "`network.interface_endpoints` (keep only the services used; `[]` when "
                "the VPC already has them), `network.interface_endpoint_zones`",
                entry.get("estimate", True),
            )
            vpc_zones = sum(
                1 for other in stack.resources.values() if other["Type"] == "AWS::EC2::Subnet"
            )
            if vpc_zones > zones:
                self.save(
                    stack,
                    f"`network.interface_endpoint_zones: {zones}` in {self.env_file(stack)}",
                    f"interface endpoints in {zones} of the VPC's {vpc_zones} zones",
                    (vpc_zones - zones) * entry["price"] * self.hours,
                    entry,
                )

    def endpoint(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        props = resource.get("Properties", {})
        config_ref = props.get("EndpointConfigName")
        config_id = None
        if isinstance(config_ref, dict):
            target = config_ref.get("Ref") or (config_ref.get("Fn::GetAtt") or [None])[0]
            config_id = target if target in stack.resources else None
        if config_id is None:
            self.report.unpriced.append(
                Unpriced(
                    stack.display_name,
                    logical_id,
                    resource["Type"],
                    "its endpoint configuration is not in this template",
                )
            )
            return
        name = props.get("EndpointName")
        endpoint_name = name if isinstance(name, str) else logical_id
        model = self.model_of(stack, endpoint_name)
        where = (
            f"model `{model}` (config/models.yaml, or `model_overrides` in {self.env_file(stack)})"
        )
        config = stack.resources[config_id].get("Properties", {})
        kept_any = False
        for shadow, variants in (
            (False, config.get("ProductionVariants", [])),
            (True, config.get("ShadowProductionVariants", [])),
        ):
            for variant in variants:
                kept_any |= self._variant(
                    stack,
                    logical_id,
                    endpoint_name,
                    variant,
                    shadow,
                    "AsyncInferenceConfig" in config,
                    where,
                )
        if not kept_any:
            self.report.scales_with_use["AWS::SageMaker::Endpoint (no instance kept at idle)"] += 1

    def _variant(
        self,
        stack: StackTemplate,
        logical_id: str,
        endpoint_name: str,
        variant: Resource,
        shadow: bool,
        asynchronous: bool,
        where: str,
    ) -> bool:
        resource_id = f"endpoint/{endpoint_name}/variant/{variant.get('VariantName')}"
        serverless = variant.get("ServerlessConfig")
        if serverless is not None:
            return self._serverless_variant(
                stack, logical_id, endpoint_name, resource_id, serverless, where
            )
        instance_type = variant.get("InstanceType", "?")
        initial_count: int = variant.get("InitialInstanceCount", 1)
        count = self.min_capacity.get(
            (resource_id, "sagemaker:variant:DesiredInstanceCount"), initial_count
        )
        managed = variant.get("ManagedInstanceScaling") or {}
        if managed.get("Status") == "ENABLED" and isinstance(managed.get("MinInstanceCount"), int):
            count = managed["MinInstanceCount"]  # what managed instance scaling keeps at idle
            if count == 0:
                self._scaled_to_zero(stack, logical_id, endpoint_name, variant, where)
        if count == 0:
            return False
        knob = self._instance_knob(resource_id, shadow, asynchronous, where)
        entry = self.price(stack, "hosting_instance_hour", logical_id, "AWS::SageMaker::Endpoint")
        if not entry:
            return True
        hourly = entry.get("prices", {}).get(instance_type)
        if hourly is None:
            self.report.unpriced.append(
                Unpriced(
                    stack.display_name,
                    logical_id,
                    "AWS::SageMaker::Endpoint",
                    f"{count} x {instance_type} ({endpoint_name}): no price for this "
                    f"instance type in {stack.region}",
                )
            )
            return True
        role = "shadow variant" if shadow else "variant"
        self.add(
            stack,
            f"{instance_type}, {endpoint_name} ({role} {variant.get('VariantName')})",
            count,
            "instance",
            count * hourly * self.hours,
            knob,
            entry.get("estimate", True),
        )
        return True

    def _serverless_variant(
        self,
        stack: StackTemplate,
        logical_id: str,
        endpoint_name: str,
        resource_id: str,
        serverless: Resource,
        where: str,
    ) -> bool:
        """The provisioned concurrency of a serverless variant, if any (whether kept)."""
        concurrency = self.min_capacity.get(
            (resource_id, "sagemaker:variant:DesiredProvisionedConcurrency"),
            serverless.get("ProvisionedConcurrency", 0),
        )
        if not concurrency:
            return False
        gb = serverless["MemorySizeInMB"] / 1024
        entry = self.price(
            stack,
            "serverless_provisioned_concurrency_gb_second",
            logical_id,
            "AWS::SageMaker::Endpoint",
        )
        if entry:
            self.add(
                stack,
                f"serverless provisioned concurrency, {endpoint_name}",
                concurrency,
                f"x {gb:g} GB",
                concurrency * gb * entry["price"] * self.hours * 3600,
                f"{where}: `serving.serverless.provisioned_concurrency` (unset: none)",
                entry.get("estimate", True),
            )
        return True

    def _instance_knob(self, resource_id: str, shadow: bool, asynchronous: bool, where: str) -> str:
        """The setting that removes an instance variant's idle cost."""
        if shadow:
            return f"{where}: `serving.shadow_variants` (remove when the comparison is done)"
        if (resource_id, "sagemaker:variant:DesiredInstanceCount") in self.min_capacity:
            return f"{where}: `serving.autoscaling.min_capacity`" + (
                " (0 scales to zero)"
                if asynchronous
                else ", or `serving.kind: serverless` / `async` for sparse traffic"
            )
        return (
            f"{where}: `serving.scale_to_zero: true` (one production variant, no shadow,"
            " no data capture), `serving.kind` (`serverless`, or `async` with "
            "`autoscaling.min_capacity: 0`), or `instance_count`"
        )

    def _scaled_to_zero(
        self,
        stack: StackTemplate,
        logical_id: str,
        endpoint_name: str,
        variant: Resource,
        where: str,
    ) -> None:
        """An inference-component endpoint that keeps no instance at idle: what it saves
        against keeping its initial instances."""
        initial = variant.get("InitialInstanceCount", 1)
        instance_type = variant.get("InstanceType", "?")
        entry = self.price(stack, "hosting_instance_hour", logical_id, "AWS::SageMaker::Endpoint")
        hourly = (entry or {}).get("prices", {}).get(instance_type)
        if entry and hourly is not None and isinstance(initial, int):
            self.save(
                stack,
                f"{where}: scale to zero (`serving_defaults.scale_to_zero` or"
                " `serving.scale_to_zero`)",
                f"{endpoint_name}: {initial} x {instance_type} at 0 instances when idle",
                initial * hourly * self.hours,
                entry,
            )

    def mlflow_app(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        entry = self.price(stack, "mlflow_app_hour", logical_id, resource["Type"])
        if not entry:
            return
        self.add(
            stack,
            "MLflow app (serverless)",
            1,
            "app",
            entry["price"] * self.hours,
            f"`mlflow.enabled: false` in {self.env_file(stack)}",
            entry.get("estimate", True),
        )
        server = self.prices["regions"][stack.region].get("mlflow_tracking_server_hour", {})
        smallest = min(server.get("prices", {}).values(), default=None)
        if smallest is not None:
            self.save(
                stack,
                f"`mlflow.kind: app` in {self.env_file(stack)}",
                "MLflow app instead of the smallest tracking server",
                (smallest - entry["price"]) * self.hours,
                {"estimate": entry.get("estimate", True) or server.get("estimate", True)},
            )

    def mlflow(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        size = resource.get("Properties", {}).get("TrackingServerSize", "Small")
        entry = self.price(stack, "mlflow_tracking_server_hour", logical_id, resource["Type"])
        if not entry:
            return
        hourly = entry.get("prices", {}).get(size)
        if hourly is None:
            self.report.unpriced.append(
                Unpriced(
                    stack.display_name, logical_id, resource["Type"], f"no price for size {size}"
                )
            )
            return
        self.add(
            stack,
            f"MLflow tracking server ({size})",
            1,
            "server",
            hourly * self.hours,
            f"`mlflow.enabled: false` in {self.env_file(stack)} (or `mlflow.kind: app`:"
            " serverless, or a smaller `mlflow.size`)",
            entry.get("estimate", True),
        )

    def monthly(
        self,
        stack: StackTemplate,
        logical_id: str,
        resource: Resource,
        *,
        price: str,
        item: str,
        count: int,
        unit: str,
        knob: str,
    ) -> None:
        """``count`` ``unit`` of ``item`` at the table's monthly ``price`` each (reported
        unpriced where the region has no such price)."""
        entry = self.price(stack, price, logical_id, resource["Type"])
        if entry:
            self.add(
                stack, item, count, unit, count * entry["price"], knob, entry.get("estimate", True)
            )

    def kms_key(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        self.monthly(
            stack,
            logical_id,
            resource,
            price="kms_key_month",
            item="KMS customer managed keys",
            count=1,
            unit="key",
            knob="none: the keys are the platform's encryption baseline",
        )

    def alarm(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        props = resource.get("Properties", {})
        if "Metrics" in props:
            queries = [query for query in props["Metrics"] if "MetricStat" in query]
            metrics = len(queries) or 1
            periods = [query["MetricStat"].get("Period", 60) for query in queries]
        else:
            metrics, periods = 1, [props.get("Period", 60)]
        high = any(isinstance(period, int) and period < 60 for period in periods)
        name = (
            "cloudwatch_high_resolution_alarm_metric_month"
            if high
            else ("cloudwatch_alarm_metric_month")
        )
        self.monthly(
            stack,
            logical_id,
            resource,
            price=name,
            item="CloudWatch alarms" + (" (high resolution)" if high else ""),
            count=metrics,
            unit="alarm metric",
            knob="come with each endpoint and monitor: fewer endpoints, fewer alarms",
        )

    def composite_alarm(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        self.monthly(
            stack,
            logical_id,
            resource,
            price="cloudwatch_composite_alarm_month",
            item="CloudWatch composite alarms",
            count=1,
            unit="alarm",
            knob="come with monitoring: fewer endpoints, fewer alarms",
        )

    def dashboard(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        self.monthly(
            stack,
            logical_id,
            resource,
            price="cloudwatch_dashboard_month",
            item="CloudWatch dashboards",
            count=1,
            unit="dashboard",
            knob="one per endpoint: fewer endpoints, fewer dashboards",
        )

    def space(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        props = resource.get("Properties", {})
        settings = props.get("SpaceSettings", {})
        storage = settings.get("SpaceStorageSettings", {}).get("EbsStorageSettings", {})
        size = storage.get("EbsVolumeSizeInGb")
        if not isinstance(size, int):
            size = 5  # SageMaker's default space volume
        self.monthly(
            stack,
            logical_id,
            resource,
            price="studio_space_storage_gb_month",
            item=f"Studio space volume, {props.get('SpaceName', logical_id)}",
            count=size,
            unit="GB",
            knob=f"`studio.shared_spaces` / `ebs_volume_size_gb` in {self.env_file(stack)}",
        )

    def domain(
        self,
        stack: StackTemplate,
        logical_id: str,  # noqa: ARG002  # the signature of run's handlers
        resource: Resource,
    ) -> None:
        self.report.scales_with_use[resource["Type"]] += 1
        settings = resource.get("Properties", {}).get("DefaultUserSettings", {})
        idle = {
            app: settings.get(app, {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
            for app in ("JupyterLabAppSettings", "CodeEditorAppSettings")
        }
        timeouts = sorted({str(s.get("IdleTimeoutInMinutes")) for s in idle.values() if s})
        shutdown = (
            (f"idle shutdown stops JupyterLab and Code Editor apps after {'/'.join(timeouts)} min")
            if timeouts
            else "no idle shutdown configured"
        )
        self.report.notes.append(
            f"Studio ({stack.display_name}): no idle cost while its apps are stopped ({shutdown}; "
            "`studio.idle_timeout_minutes`); a running app bills its instance by the hour, home "
            "storage (EFS) by the GB"
        )

    def dynamodb(self, stack: StackTemplate, logical_id: str, resource: Resource) -> None:
        if resource.get("Properties", {}).get("BillingMode") == "PAY_PER_REQUEST":
            self.report.scales_with_use[resource["Type"]] += 1
        else:
            self.report.unpriced.append(
                Unpriced(
                    stack.display_name,
                    logical_id,
                    resource["Type"],
                    "provisioned capacity is not in the price table",
                )
            )

    # -- all of it ----------------------------------------------------------------------------

    def run(self) -> IdleCostReport:
        special: dict[str, Callable[[StackTemplate, str, Resource], None]] = {
            "AWS::EC2::VPCEndpoint": self.vpc_endpoint,
            "AWS::SageMaker::Endpoint": self.endpoint,
            "AWS::SageMaker::MlflowTrackingServer": self.mlflow,
            "AWS::SageMaker::MlflowApp": self.mlflow_app,
            "AWS::KMS::Key": self.kms_key,
            "AWS::CloudWatch::Alarm": self.alarm,
            "AWS::CloudWatch::CompositeAlarm": self.composite_alarm,
            "AWS::CloudWatch::Dashboard": self.dashboard,
            "AWS::SageMaker::Space": self.space,
            "AWS::SageMaker::Domain": self.domain,
            "AWS::DynamoDB::Table": self.dynamodb,
            "AWS::DynamoDB::GlobalTable": self.dynamodb,
        }
        free = self.prices.get("free_at_rest", {})
        usage = self.prices.get("scales_with_use", {})
        for stack in self.stacks:
            conditional = sorted(
                {str(r["Condition"]) for r in stack.resources.values() if "Condition" in r}
            )
            if conditional:
                count = sum("Condition" in r for r in stack.resources.values())
                self.report.notes.append(
                    f"{stack.display_name}: {count} resources exist only when condition"
                    f" {', '.join(conditional)} holds (a model's serving and monitoring, once"
                    " it is released); priced as if it held"
                )
            for logical_id, resource in stack.resources.items():
                rtype = resource["Type"]
                if "Condition" in resource:
                    self.report.conditional[str(resource["Condition"])] += 1
                if rtype in special:
                    special[rtype](stack, logical_id, resource)
                elif rtype.startswith("Custom::") or rtype == "AWS::CloudFormation::CustomResource":
                    self.report.free_at_rest["custom resources (deploy time only)"] += 1
                elif rtype in free:
                    self.report.free_at_rest[rtype] += 1
                elif rtype in usage:
                    self.report.scales_with_use[rtype] += 1
                else:
                    self.report.unpriced.append(
                        Unpriced(
                            stack.display_name, logical_id, rtype, "type not in pricing/prices.yaml"
                        )
                    )
        return self.report


def idle_cost(stacks: list[StackTemplate], prices: dict[str, Any]) -> IdleCostReport:
    """Price ``stacks`` with ``prices``."""
    return _Pricer(stacks, prices).run()


def grouped(lines: list[CostLine]) -> list[CostLine]:
    """Lines of the same stack, item and knob summed, most expensive first."""
    sums: dict[tuple[str, str, str, str, bool], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for line in lines:
        key = (line.stack, line.item, line.unit, line.knob, line.estimate)
        sums[key][0] += line.count
        sums[key][1] += line.monthly
    merged = [
        CostLine(stack, item, count, unit, monthly, knob, estimate)
        for (stack, item, unit, knob, estimate), (count, monthly) in sums.items()
    ]
    return sorted(merged, key=lambda line: (-round(line.monthly, 2), line.stack, line.item))


def _table(rows: Sequence[tuple[str, ...]], right: set[int]) -> Iterator[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        yield "  ".join(cells).rstrip()
        if number == 0:
            yield "-" * (sum(widths) + 2 * (len(widths) - 1))


def _quantity(line: CostLine) -> str:
    count = f"{line.count:g}"
    if line.unit.startswith("x "):
        return f"{count} {line.unit}"
    return f"{count} {line.unit}{'' if line.count == 1 or line.unit == 'GB' else 's'}"


def render(
    report: IdleCostReport,
    prices: dict[str, Any],
    top: int = 5,
    source: str = "pricing/prices.yaml",
) -> str:
    """The report as text; ``source`` names the price table in the heading."""
    lines = grouped(report.lines)
    out = _heading(report, prices, source)
    out += _cost_table(report, lines)
    out += _per_stack(report)
    out += _biggest(lines, top)
    out += _savings(report)
    out += _at_rest(report, prices)
    out += _unpriced(report)
    return "\n".join(out)


def _heading(report: IdleCostReport, prices: dict[str, Any], source: str) -> list[str]:
    """What the report covers, in what currency, with prices of when."""
    regions = sorted({stack.region for stack in report.stacks})
    taken = sorted(
        {
            str(entry.get("taken"))
            for region in regions
            for entry in prices.get("regions", {}).get(region, {}).values()
            if isinstance(entry, dict)
        }
    )
    environments = sorted({stack.display_name.split("/")[0] for stack in report.stacks})
    return [
        (
            f"Idle cost of {', '.join(environments)}: {len(report.stacks)} stacks in "
            f"{', '.join(regions)}; {prices['currency']} per month of {prices['hours_per_month']} h "
            f"with no traffic; prices taken {', '.join(taken)} ({source}, * = estimate)"
        ),
        "",
    ]


def _cost_table(report: IdleCostReport, lines: list[CostLine]) -> list[str]:
    """Every cost line, and the total."""
    rows = [("stack", "idle cost", "quantity", "USD/month")]
    rows += [
        (
            line.stack,
            line.item,
            _quantity(line),
            f"{line.monthly:,.2f}{'*' if line.estimate else ' '}",
        )
        for line in lines
    ]
    out = list(_table(rows, right={3})) if lines else ["(nothing costs anything at idle)"]
    estimated = sum(line.monthly for line in report.lines if line.estimate)
    return [
        *out,
        "",
        (
            f"Total with no traffic: {report.total:,.2f} USD/month"
            f" ({estimated:,.2f} of it from estimated prices)"
        ),
        "",
    ]


def _per_stack(report: IdleCostReport) -> list[str]:
    """Each stack's resources and idle cost."""
    rows = [("stack", "CloudFormation name", "resources", "idle USD/month")]
    rows += [
        (
            stack.display_name,
            stack.stack_name,
            str(len(stack.resources)),
            f"{report.stack_total(stack):,.2f}",
        )
        for stack in report.stacks
    ]
    return ["Per stack:", *_table(rows, right={2, 3}), ""]


def _biggest(lines: list[CostLine], top: int) -> list[str]:
    """The ``top`` knobs that remove the most idle cost."""
    by_knob: dict[str, list[CostLine]] = defaultdict(list)
    for line in lines:
        by_knob[line.knob].append(line)
    ranked = sorted(by_knob.items(), key=lambda kv: (-sum(line.monthly for line in kv[1]), kv[0]))
    out = [f"Biggest idle costs and the knob that removes each (top {top}):"]
    for number, (knob, knob_lines) in enumerate(ranked[:top], start=1):
        total = sum(line.monthly for line in knob_lines)
        what = "; ".join(f"{line.item}: {_quantity(line)}" for line in knob_lines[:3])
        if len(knob_lines) > 3:
            what += f"; and {len(knob_lines) - 3} more"
        out.append(f"  {number}. {total:,.2f} USD/month - {what}")
        out.append(f"     knob: {knob}")
    out.append("")
    return out


def _at_rest(report: IdleCostReport, prices: dict[str, Any]) -> list[str]:
    """What costs nothing at idle: scales with use, free at rest, counted as released."""
    described = {**prices.get("scales_with_use", {})}
    out = ["Zero at idle, scales with use:"]
    for rtype, count in sorted(report.scales_with_use.items()):
        base = rtype.split(" (")[0]
        detail = rtype[len(base) :].strip(" ()") or described.get(base, "")
        out.append(f"  {count:>3} x {base}: {detail}")
    free_total = sum(report.free_at_rest.values())
    out.append(
        f"Free at rest: {free_total} resources of {len(report.free_at_rest)} types "
        "(IAM, network configuration, policies, models, registry, custom resources)"
    )
    if report.conditional:
        conditions = ", ".join(
            f"{name} ({count})" for name, count in sorted(report.conditional.items())
        )
        out.append(
            f"Counted as released: {sum(report.conditional.values())} resources exist only under"
            f" a CloudFormation condition ({conditions}), such as a model's serving once its"
            " champion is released; the report counts them, pricing the released environment"
        )
    out += [f"Note: {note}" for note in report.notes]
    out.append("")
    return out


def _unpriced(report: IdleCostReport) -> list[str]:
    """The resources no price covers (not in the total)."""
    if not report.unpriced:
        return ["Unpriced: none"]
    return [
        (
            f"Unpriced ({len(report.unpriced)}): not counted in the total, add them to "
            "pricing/prices.yaml"
        ),
        *(
            f"  {item.stack}/{item.logical_id} {item.resource_type}: {item.reason}"
            for item in report.unpriced
        ),
    ]


def _savings(report: IdleCostReport) -> list[str]:
    """The knobs in use and what each saves against what it replaces, largest first (the same
    saving of several resources summed: "x 14")."""
    if not report.savings:
        return []
    sums: dict[tuple[str, str, str, bool], list[float]] = defaultdict(lambda: [0, 0.0])
    for saving in report.savings:
        key = (saving.stack, saving.knob, saving.what, saving.estimate)
        sums[key][0] += 1
        sums[key][1] += saving.monthly
    ranked = sorted(sums.items(), key=lambda item: (-round(item[1][1], 2), item[0]))
    total = sum(saving.monthly for saving in report.savings)
    out = [f"Knobs in use and what each saves at idle (total {total:,.2f} USD/month):"]
    for number, ((stack, knob, what, estimate), (count, monthly)) in enumerate(ranked, 1):
        times = f" (x {count:g})" if count > 1 else ""
        star = "*" if estimate else ""
        out.append(f"  {number}. {monthly:,.2f}{star} USD/month - {stack}: {what}{times}")
        out.append(f"     knob: {knob}")
    out.append("")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.idle_cost_report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument("--prices", default=DEFAULT_PRICES, type=Path)
    parser.add_argument("--top", default=5, type=int, help="how many idle costs to flag")
    args = parser.parse_args(argv)
    if not (args.assembly / "manifest.json").is_file():
        print(f"{args.assembly}: no cloud assembly here (run cdk synth first)", file=sys.stderr)
        return 1
    prices = load_prices(args.prices)
    stacks = read_assembly(args.assembly)
    source = args.prices.resolve()
    label = str(source.relative_to(REPO)) if source.is_relative_to(REPO) else str(source)
    print(render(idle_cost(stacks, prices), prices, top=args.top, source=label))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

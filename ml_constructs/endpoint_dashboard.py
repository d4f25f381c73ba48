"""A CloudWatch dashboard per endpoint: traffic, errors, latency, utilisation, backlog."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct


class EndpointDashboard(Construct):
    """The dashboard ``<endpoint_name>``.

    Rows: invocations and 4xx/5xx errors; model and overhead latency p50/p99; CPU, memory
    and (on GPU fleets) GPU utilisation; for asynchronous endpoints, the backlog.

    Attributes
    ----------
    dashboard:
        The ``cloudwatch.Dashboard``.

    Parameters
    ----------
    endpoint_name:
        The endpoint, also the dashboard's name.
    variant_names:
        Production and shadow variants shown.
    gpu:
        Show GPU utilisation (default off).
    asynchronous:
        Show the queue backlog (default off).
    instance_metrics:
        Show CPU and memory (default on; serverless endpoints report none).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_names: Sequence[str],
        gpu: bool = False,
        asynchronous: bool = False,
        instance_metrics: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        period = Duration.minutes(1)

        def metrics(namespace: str, name: str, statistic: str) -> list[cloudwatch.IMetric]:
            return [
                cloudwatch.Metric(
                    namespace=namespace,
                    metric_name=name,
                    dimensions_map={"EndpointName": endpoint_name, "VariantName": variant},
                    statistic=statistic,
                    period=period,
                    label=f"{variant} {name} {statistic}",
                )
                for variant in variant_names
            ]

        def graph(title: str, *series: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title, left=[m for group in series for m in group], width=8
            )

        invocations = "AWS/SageMaker"
        rows: list[list[cloudwatch.IWidget]] = [
            [
                graph("Invocations", metrics(invocations, "Invocations", "Sum")),
                graph(
                    "Errors",
                    metrics(invocations, "Invocation4XXErrors", "Sum"),
                    metrics(invocations, "Invocation5XXErrors", "Sum"),
                ),
                graph(
                    "Model latency (µs)",
                    metrics(invocations, "ModelLatency", "p50"),
                    metrics(invocations, "ModelLatency", "p99"),
                ),
            ],
            [
                graph(
                    "Overhead latency (µs)",
                    metrics(invocations, "OverheadLatency", "p50"),
                    metrics(invocations, "OverheadLatency", "p99"),
                )
            ],
        ]
        utilisation = "/aws/sagemaker/Endpoints"
        if instance_metrics:
            rows[1] += [
                graph("CPU utilisation (%)", metrics(utilisation, "CPUUtilization", "Average")),
                graph(
                    "Memory utilisation (%)", metrics(utilisation, "MemoryUtilization", "Average")
                ),
            ]
        if gpu:
            rows.append(
                [
                    graph("GPU utilisation (%)", metrics(utilisation, "GPUUtilization", "Average")),
                    graph(
                        "GPU memory (%)", metrics(utilisation, "GPUMemoryUtilization", "Average")
                    ),
                ]
            )
        if asynchronous:
            backlog = [
                cloudwatch.Metric(
                    namespace=invocations,
                    metric_name=name,
                    dimensions_map={"EndpointName": endpoint_name},
                    statistic="Average",
                    period=period,
                )
                for name in (
                    "ApproximateBacklogSize",
                    "ApproximateBacklogSizePerInstance",
                    "HasBacklogWithoutCapacity",
                )
            ]
            rows.append([cloudwatch.GraphWidget(title="Queue backlog", left=backlog, width=24)])
        self.dashboard = cloudwatch.Dashboard(
            self, "Default", dashboard_name=endpoint_name, widgets=rows
        )

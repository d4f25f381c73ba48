"""A CloudWatch dashboard per endpoint: traffic, errors, latency, utilisation, backlog."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from ml_constructs.endpoint_alarms import INVOCATION_METRICS, endpoint_metric

#: Where SageMaker publishes its endpoints' instance utilisation.
UTILISATION_METRICS = "/aws/sagemaker/Endpoints"


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
        self._endpoint_name, self._variant_names = endpoint_name, variant_names
        graph = self._graph
        rows: list[list[cloudwatch.IWidget]] = [
            [
                graph("Invocations", ("Invocations", "Sum")),
                graph("Errors", ("Invocation4XXErrors", "Sum"), ("Invocation5XXErrors", "Sum")),
                graph("Model latency (µs)", ("ModelLatency", "p50"), ("ModelLatency", "p99")),
            ],
            [
                graph(
                    "Overhead latency (µs)", ("OverheadLatency", "p50"), ("OverheadLatency", "p99")
                )
            ],
        ]
        utilisation = UTILISATION_METRICS
        if instance_metrics:
            rows[1] += [
                graph("CPU utilisation (%)", ("CPUUtilization", "Average"), namespace=utilisation),
                graph(
                    "Memory utilisation (%)",
                    ("MemoryUtilization", "Average"),
                    namespace=utilisation,
                ),
            ]
        if gpu:
            rows.append(
                [
                    graph(
                        "GPU utilisation (%)", ("GPUUtilization", "Average"), namespace=utilisation
                    ),
                    graph(
                        "GPU memory (%)", ("GPUMemoryUtilization", "Average"), namespace=utilisation
                    ),
                ]
            )
        if asynchronous:
            rows.append([self._backlog()])
        self.dashboard = cloudwatch.Dashboard(
            self, "Default", dashboard_name=endpoint_name, widgets=rows
        )

    def _graph(
        self, title: str, *series: tuple[str, str], namespace: str = INVOCATION_METRICS
    ) -> cloudwatch.GraphWidget:
        """A third of a row: each (metric, statistic) of ``series``, for every variant."""
        metrics: list[cloudwatch.IMetric] = [
            endpoint_metric(
                name,
                statistic,
                {"EndpointName": self._endpoint_name, "VariantName": variant},
                namespace=namespace,
                label=f"{variant} {name} {statistic}",
            )
            for name, statistic in series
            for variant in self._variant_names
        ]
        return cloudwatch.GraphWidget(title=title, left=metrics, width=8)

    def _backlog(self) -> cloudwatch.GraphWidget:
        """A full row: the asynchronous endpoint's queue."""
        backlog: list[cloudwatch.IMetric] = [
            endpoint_metric(name, "Average", {"EndpointName": self._endpoint_name})
            for name in (
                "ApproximateBacklogSize",
                "ApproximateBacklogSizePerInstance",
                "HasBacklogWithoutCapacity",
            )
        ]
        return cloudwatch.GraphWidget(title="Queue backlog", left=backlog, width=24)

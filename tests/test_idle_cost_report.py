"""The idle-cost report: a hand-computed fixture, and the sandbox's real synth."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.idle_cost_report import (
    DEFAULT_PRICES,
    IdleCostReport,
    grouped,
    idle_cost,
    load_prices,
    main,
    read_assembly,
)
from tests.conftest import SynthesizedPlatform

FIXTURE = Path(__file__).parent / "fixtures" / "idle_cost"

# tests/fixtures/idle_cost, priced by hand with its round prices (730 h a month):
EXPECTED = {
    ("Fixture/Base", "MLflow tracking server (Small)"): 0.50 * 730,  # 365.00
    ("Fixture/Base", "interface VPC endpoints"): 2 * 3 * 0.01 * 730,  # 2 endpoints x 3 AZs
    ("Fixture/Base", "KMS customer managed keys"): 2 * 1.00,
    ("Fixture/Base", "Studio space volume, team"): 10 * 0.10,
    # PC 3 x 4 GB x 0.000005 USD per GB-second x 730 h x 3600 s
    ("Fixture/Serving", "serverless provisioned concurrency, fixture-serving-serverless"): 157.68,
    # champion: 3 initial instances, autoscaling min 1; challenger: 2, no autoscaling
    ("Fixture/Serving", "ml.m5.large, fixture-serving-realtime (variant champion)"): 1 * 73.0,
    ("Fixture/Serving", "ml.m5.large, fixture-serving-realtime (variant challenger)"): 2 * 73.0,
    # one plain alarm, one metric-math alarm of two metrics (the expression is free)
    ("Fixture/Serving", "CloudWatch alarms"): 3 * 0.10,
    ("Fixture/Serving", "CloudWatch alarms (high resolution)"): 0.30,
    ("Fixture/Serving", "CloudWatch composite alarms"): 0.50,
    ("Fixture/Serving", "CloudWatch dashboards"): 3.00,
    # a model's own stack: its endpoint and alarm exist once it is released, priced as such
    ("Fixture/Models/scoring/Model", "ml.m5.large, fixture-scoring (variant AllTraffic)"): 73.0,
    ("Fixture/Models/scoring/Model", "CloudWatch alarms"): 0.10,
}
EXPECTED_TOTAL = 865.68  # the async endpoint scales to zero; the unused config has no endpoint


@pytest.fixture(scope="module")
def fixture_report() -> IdleCostReport:
    return idle_cost(read_assembly(FIXTURE), load_prices(FIXTURE / "prices.yaml"))


def test_fixture_lines_match_the_hand_computed_prices(fixture_report: IdleCostReport) -> None:
    lines = {
        (line.stack, line.item): round(line.monthly, 2) for line in grouped(fixture_report.lines)
    }
    assert lines == {key: round(value, 2) for key, value in EXPECTED.items()}
    assert round(fixture_report.total, 2) == EXPECTED_TOTAL


def test_unknown_types_and_instance_types_are_listed_as_unpriced(
    fixture_report: IdleCostReport,
) -> None:
    unpriced = {(item.logical_id, item.resource_type) for item in fixture_report.unpriced}
    assert unpriced == {
        ("Mystery", "AWS::Made::Up"),
        ("Huge", "AWS::SageMaker::Endpoint"),  # ml.p5.48xlarge has no price
        ("Table", "AWS::DynamoDB::Table"),  # provisioned capacity
    }


def test_zero_at_idle_resources_are_listed_as_scaling_with_use(
    fixture_report: IdleCostReport,
) -> None:
    usage = fixture_report.scales_with_use
    assert usage["AWS::Lambda::Function"] == 1
    assert usage["AWS::SageMaker::Pipeline"] == 1
    assert usage["AWS::SageMaker::Endpoint (no instance kept at idle)"] == 1  # async, min 0


def test_cli_prints_total_top_items_knobs_and_unpriced(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURE), "--prices", str(FIXTURE / "prices.yaml"), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "Total with no traffic: 865.68 USD/month" in out
    assert "1. 365.00 USD/month - MLflow tracking server (Small)" in out
    assert "knob: `mlflow.enabled: false`" in out
    assert "`serving.serverless.provisioned_concurrency`" in out
    assert "3. " not in out.split("Biggest idle costs")[1].split("Zero at idle")[0]
    assert "Fixture/Base/Mystery AWS::Made::Up: type not in pricing/prices.yaml" in out


def test_a_models_stack_names_the_model_in_its_knobs_and_its_conditional_resources(
    fixture_report: IdleCostReport,
) -> None:
    (line,) = [line for line in fixture_report.lines if "fixture-scoring" in line.item]
    assert line.knob.startswith("model `scoring` (config/models.yaml")
    assert (
        "Fixture/Models/scoring/Model: 4 resources exist only when condition Released holds"
        " (a model's serving and monitoring, once it is released); priced as if it held"
    ) in fixture_report.notes


def test_cli_says_when_there_is_no_assembly(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 1


def test_every_price_names_its_unit_source_and_date() -> None:
    prices = load_prices(DEFAULT_PRICES)
    for region, table in prices["regions"].items():
        for name, entry in table.items():
            assert {"unit", "source", "taken", "estimate"} <= set(entry), (region, name)
            assert ("price" in entry) != ("prices" in entry), (region, name)


def test_sandbox_report_mentions_every_stack_and_prices_its_idle_costs(
    sandbox: SynthesizedPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(sandbox.outdir)]) == 0
    out = capsys.readouterr().out
    for stack in sandbox.platform.stacks:
        assert stack.stack_name in out, stack.stack_name
    assert "interface VPC endpoints" in out
    assert "MLflow app (serverless)" in out  # sandbox: mlflow.kind app
    report = idle_cost(read_assembly(sandbox.outdir), load_prices(DEFAULT_PRICES))
    assert report.total > 0
    # Each real-time endpoint is priced in its model's stack, under its model's knob, as it
    # will cost once the model is released.
    for model in sandbox.config.models:
        if model.serving is None or model.serving.kind.value != "real_time":
            continue
        lines = [
            line for line in report.lines if f"ml-platform-sandbox-{model.name} (" in line.item
        ]
        scaled_to_zero = [
            saving
            for saving in report.savings
            if f"ml-platform-sandbox-{model.name}:" in saving.what and "0 instances" in saving.what
        ]  # an endpoint scaled to zero costs nothing at idle: its saving is shown instead
        assert lines or scaled_to_zero, model.name
        for line in lines:
            assert line.stack == f"Sandbox/Models/{model.name}/Model"
            assert line.knob.startswith(f"model `{model.name}` (config/models.yaml"), line.knob
        assert f"Sandbox/Models/{model.name}/Model: " in out  # its conditional resources

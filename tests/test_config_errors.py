"""Every class of bad configuration of issue 14 stops with one line naming the file and field.

One case per example the issue gives, each of which the configuration layer used to accept
(and CloudFormation or SageMaker refused later), crash on with a traceback, hang on, or
report misleadingly. Each case breaks a copy of the committed configuration and expects a
:class:`ConfigError` whose message is one line starting with ``<file>: <field>``. Every
case runs in-process; the ones that used to hang or crash, and the region ones, also run
``python -m platform_config`` (exit code 2, exactly one line on standard error), and the
region ones run synth (``app.py``) too, which must report the same line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from platform_config import ConfigError, load_environment
from platform_config.delivery import load_delivery
from platform_config.loader import DEFAULT_CONFIG_DIR, environment_from_settings, read_settings

REPO = Path(__file__).resolve().parent.parent
Edit = Callable[[bytes], bytes]


def replace(old: str, new: str) -> Edit:
    """Replace the one occurrence of ``old``."""

    def edit(text: bytes) -> bytes:
        assert text.count(old.encode()) == 1, old
        return text.replace(old.encode(), new.encode())

    return edit


def append(extra: bytes) -> Edit:
    return lambda text: text + b"\n" + extra + b"\n"


def data(change: Callable[[dict], None]) -> Edit:  # type: ignore[type-arg]
    """Change the parsed file (written back as YAML, comments lost)."""

    def edit(text: bytes) -> bytes:
        parsed = yaml.safe_load(text)
        change(parsed)
        return yaml.safe_dump(parsed, sort_keys=False).encode()

    return edit


def _bomb(levels: int = 9) -> str:
    """A flow list whose aliases expand to 9**levels strings ("billion laughs")."""
    anchors = ["&a0 [x, x, x, x, x, x, x, x, x]"]
    anchors.extend(
        f"&a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]" for level in range(1, levels)
    )
    return "[" + ", ".join(anchors) + "]"


#: Lines of the committed sandbox file that cases point at (so that editing it moves them).
_SANDBOX = (REPO / "config" / "sandbox.yaml").read_text(encoding="utf-8").splitlines()
_ENVIRONMENT_TAG_LINE = _SANDBOX.index("  environment: sandbox") + 1
_TAGS_LINE = _SANDBOX.index("tags:") + 1


def _single_model(region: str, model: dict) -> Callable[[Path], None]:  # type: ignore[type-arg]
    """A configuration of one model in ``region`` (nothing else that the region could refuse)."""

    def prepare(config_dir: Path) -> None:
        env = yaml.safe_load((config_dir / "sandbox.yaml").read_text())
        env["region"] = region
        env.pop("studio", None)
        env.pop("model_overrides", None)  # they name the sample catalogue's models
        (config_dir / "sandbox.yaml").write_text(yaml.safe_dump(env))
        (config_dir / "models.yaml").write_text(yaml.safe_dump({"models": [model]}))

    return prepare


@dataclass(frozen=True)
class Case:
    """One example of the issue: how to break the configuration, and the line expected.

    Attributes
    ----------
    id:
        The example, in a few words.
    file:
        The file broken, and named first by the error.
    edit:
        What is done to it (or, for ``prepare``, nothing).
    field:
        The field (or ``line N``) the error names right after the file.
    says:
        A part of what the error says after it.
    environment:
        The environment loaded (``delivery`` loads the delivery pipeline).
    cli, synth:
        Also run ``python -m platform_config`` / ``app.py`` in a subprocess.
    prepare:
        Replaces the configuration wholesale, before ``edit``.
    """

    id: str
    file: str
    edit: Edit
    field: str
    says: str
    environment: str = "sandbox"
    cli: bool = False
    synth: bool = False
    prepare: Callable[[Path], None] | None = None


CHURN_SERVING = "      instance_type: ml.m5.large          # CPU\n"
LEAD_SERVING = "      instance_type: ml.m5.xlarge\n      instance_count: 2\n"
MONITOR_SCHEDULE = "      schedule: cron(0 * ? * * *)         # hourly\n"

CASES = [
    # Accepted, then refused at deploy (or silently ignored).
    Case(
        "endpoint instance type that does not exist",
        "models.yaml",
        replace(CHURN_SERVING, CHURN_SERVING.replace("ml.m5.large", "ml.m5.huge")),
        "models[0].serving.instance_type",
        "'ml.m5.huge' is not an instance type SageMaker accepts for endpoints",
    ),
    Case(
        "batch instance type that does not exist",
        "models.yaml",
        replace(LEAD_SERVING, LEAD_SERVING.replace("ml.m5.xlarge", "ml.m5.huge")),
        "models[2].serving.instance_type",
        "is not an instance type SageMaker accepts for batch transform jobs",
    ),
    Case(
        "Studio default instance type that does not exist",
        "sandbox.yaml",
        replace("studio:\n", "studio:\n  default_instance_type: ml.m5.huge\n"),
        "studio.default_instance_type",
        "is not an instance type SageMaker accepts for Studio apps",
    ),
    Case(
        "shared space instance type that does not exist",
        "sandbox.yaml",
        replace(
            "      owner: data-scientist\n",
            "      owner: data-scientist\n      instance_type: ml.t3.huge\n",
        ),
        "studio.shared_spaces[0].instance_type",
        "'ml.t3.huge' is not an instance type SageMaker accepts for Studio apps",
    ),
    Case(
        "a CPU instance type not offered for endpoints in the region",
        "models.yaml",
        lambda text: text.replace(
            b"instance_type: ml.m5.large ", b"instance_type: ml.c6i.large", 1
        ),
        "models[0].serving.instance_type",
        "'ml.c6i.large' is not offered for endpoints (real-time and asynchronous) in"
        " eu-central-1 (offered there: no ml.c6i.* type",
        prepare=lambda config_dir: (config_dir / "sandbox.yaml").write_text(
            (config_dir / "sandbox.yaml").read_text().replace("eu-west-1", "eu-central-1")
        ),
    ),
    Case(
        "cron with minute 75 and hour 25",
        "models.yaml",
        replace("schedule: cron(0 3 ? * MON *)", "schedule: cron(75 25 ? * MON *)"),
        "models[0].pipeline.schedule",
        "'75' is not a valid minutes field (75 is out of range 0-59)",
    ),
    Case(
        "cron written in words",
        "models.yaml",
        replace(MONITOR_SCHEDULE, "      schedule: cron(every hour)\n"),
        "models[0].monitoring.schedule",
        "is not a schedule Model Monitor accepts",
    ),
    Case(
        "monitoring more frequent than Model Monitor allows",
        "models.yaml",
        replace(MONITOR_SCHEDULE, "      schedule: cron(*/10 * ? * * *)\n"),
        "models[0].monitoring.schedule",
        "is not a schedule Model Monitor accepts (allowed: cron(0 * ? * * *) hourly",
    ),
    Case(
        "drift feature that is no input feature (the label)",
        "models.yaml",
        replace("drift_features: [tenure_months, monthly_charges]", "drift_features: [churned]"),
        "models[0].monitoring.drift_features[0]",
        "is the label (pipeline.target_column)",
    ),
    Case(
        "monitoring with sampling_percent 0",
        "models.yaml",
        replace("data_capture: {sampling_percent: 20}", "data_capture: {sampling_percent: 0}"),
        "models[0].serving.data_capture.sampling_percent",
        "captures no request, so the monitors (on) would watch nothing",
    ),
    Case(
        "data capture on a batch model",
        "models.yaml",
        replace(LEAD_SERVING, LEAD_SERVING + "      data_capture: {sampling_percent: 10}\n"),
        "models[2].serving.data_capture",
        "is not possible on batch models",
    ),
    Case(
        "training pipeline whose images the region lacks",
        "models.yaml",
        lambda text: text,
        "models[0].pipeline.kind",
        "'training' cannot be built in region ca-west-1",
        prepare=_single_model("ca-west-1", {"name": "churn", "pipeline": {"kind": "training"}}),
        cli=True,
        synth=True,
    ),
    Case(
        "monitor whose image the region lacks",
        "models.yaml",
        lambda text: text,
        "models[0].monitoring.bias",
        "cannot be built in region il-central-1: ",
        prepare=_single_model(
            "il-central-1",
            {
                "name": "churn",
                "pipeline": {"kind": "training", "target_column": "y"},
                "serving": {"kind": "real_time"},
                "monitoring": {
                    "bias": True,
                    "ground_truth_uri": "s3://labels-example/churn/",
                    "bias_facet": {"name": "age", "threshold": 40},
                },
            },
        ),
    ),
    # Tracebacks.
    Case(
        "a byte that is not UTF-8",
        "sandbox.yaml",
        lambda text: text.replace(b"environment: sandbox", b"environment: sandb\xffx"),
        "tags.environment",
        f"byte 0xff (line {_ENVIRONMENT_TAG_LINE}, column 21) is not UTF-8",
        cli=True,
    ),
    Case(
        "a list used as a key",
        "sandbox.yaml",
        replace("tags:\n", "tags:\n  [a, b]: x\n"),
        "tags",
        "has a key that is a list; keys must be strings",
    ),
    Case(
        "a mapping used as a key",
        "sandbox.yaml",
        replace("tags:\n", "tags:\n  {a: 1}: x\n"),
        "tags",
        "has a key that is a mapping; keys must be strings",
    ),
    Case(
        "an integer key next to string keys",
        "models.yaml",
        append(b"1: x\nextra: y"),
        "(top level)",
        "has the key '1', read as a number; keys must be strings (quote it)",
    ),
    Case(
        "deeply nested lists",
        "sandbox.yaml",
        replace("tags:\n", "tags:\n  deep: " + "[" * 5000 + "]" * 5000 + "\n"),
        f"line {_TAGS_LINE + 1}, column 1007",
        "invalid YAML: exceeded maximum nesting depth",
        cli=True,
    ),
    Case(
        "nested lists deeper than any setting",
        "sandbox.yaml",
        replace("tags:\n", "tags:\n  deep: " + "[" * 40 + "]" * 40 + "\n"),
        "tags.deep[0][0]...[0][0]",
        "is nested deeper than 32 levels",
    ),
    Case(
        "a list where a model name is expected",
        "models.yaml",
        replace("  - name: fraud-detection\n", "  - name: [fraud, detection]\n"),
        "models[1].name",
        "['fraud', 'detection'] must be a string",
    ),
    Case(
        "a list where an environment name is expected",
        "delivery.yaml",
        replace("  - environment: dev\n", "  - environment: [dev]\n"),
        "stages[0].environment",
        "['dev'] must be a string",
        environment="delivery",
    ),
    Case(
        "weight: .inf",
        "models.yaml",
        replace("{name: champion, weight: 9,", "{name: champion, weight: .inf,"),
        "models[0].serving.variants[0].weight",
        "inf is not a finite number",
    ),
    Case(
        "another float field given .inf",
        "models.yaml",
        replace("target_backlog_per_instance: 5}", "target_backlog_per_instance: .inf}"),
        "models[4].serving.autoscaling.target_backlog_per_instance",
        "inf is not a finite number",
    ),
    # Hangs.
    Case(
        "an alias bomb in a tag",
        "sandbox.yaml",
        replace("tags:\n", f"tags:\n  bomb: {_bomb()}\n"),
        "tags.bomb",
        "expands (through aliases) to more than 100000 values",
        cli=True,
    ),
    Case(
        "an alias bomb in a description",
        "models.yaml",
        replace(
            "    description: Predicts which customers will cancel within 90 days (tabular, XGBoost).\n",
            f"    description: {_bomb()}\n",
        ),
        "models[0].description",
        "expands (through aliases) to more than 100000 values",
        cli=True,
    ),
    # Many lines from CloudFormation's validator instead of one line from ours.
    Case(
        "a duplicate subnet id",
        "prod.yaml",
        replace("subnet-0a1b2c3d4e5f60003]", "subnet-0a1b2c3d4e5f60001]"),
        "network.existing_vpc.subnet_ids",
        "lists subnet-0a1b2c3d4e5f60001 twice",
        environment="prod",
    ),
    Case(
        "a model name that makes a derived SageMaker name longer than 63 characters",
        "models.yaml",
        replace("  - name: churn-prediction\n", "  - name: customer-churn-prediction-v2\n"),
        "models[0].name",
        "makes the SageMaker monitoring schedule name"
        " 'ml-platform-sandbox-customer-churn-prediction-v2-model-explainability', which is 69"
        " characters long; the SageMaker monitoring schedule name may have at most 63; shorten"
        " it to at most 22 characters",
    ),
    Case(
        "a tag value with characters AWS refuses",
        "sandbox.yaml",
        replace("  platform: sagemaker-ml-platform\n", "  platform: sagemaker;ml<platform>\n"),
        "tags.platform",
        "is not an allowed tag value",
    ),
    Case(
        "more than 50 tags with the platform's own",
        "sandbox.yaml",
        replace("tags:\n", "tags:\n" + "".join(f"  team{i}: x\n" for i in range(46))),
        "tags",
        "has 48 tags; AWS allows 50 per resource and the platform adds up to 3 of its own",
    ),
    Case(
        "a model description longer than its package group takes",
        "models.yaml",
        replace(
            "Predicts which customers will cancel within 90 days (tabular, XGBoost).",
            "x" * 1100,
        ),
        "models[0].description",
        "is 1100 characters long; it is copied to the model package group description, which"
        " takes at most 1024",
    ),
    Case(
        "a feature group description longer than SageMaker takes",
        "feature_groups.yaml",
        replace(
            "Rolling usage and billing aggregates per customer, for churn prediction.",
            "y" * 200,
        ),
        "feature_groups[0].description",
        "which takes at most 128 (give at most 128)",
    ),
    Case(
        "a description on several lines",
        "models.yaml",
        data(lambda d: d["models"][0].update(description="line one\nline two")),
        "models[0].description",
        "has a line break or another control character",
    ),
    # Misleading.
    Case(
        "an unknown region",
        "sandbox.yaml",
        replace("region: eu-west-1", "region: eu-west-9"),
        "region",
        "'eu-west-9' is not a region where SageMaker is offered",
        cli=True,
        synth=True,
    ),
    Case(
        "a string where a number is expected",
        "models.yaml",
        replace("quality_threshold: 0.8", "quality_threshold: abc"),
        "models[0].pipeline.quality_threshold",
        "'abc' is not a number",
    ),
]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the committed configuration, for a case to break."""
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _break(config_dir: Path, case: Case) -> None:
    if case.prepare is not None:
        case.prepare(config_dir)
    path = config_dir / case.file
    path.write_bytes(case.edit(path.read_bytes()))


def _expected_start(config_dir: Path, case: Case) -> str:
    return f"{config_dir / case.file}: {case.field}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_configuration_is_one_line_naming_file_and_field(config_dir: Path, case: Case) -> None:
    _break(config_dir, case)
    with pytest.raises(ConfigError) as raised:
        if case.environment == "delivery":
            load_delivery(config_dir)
        else:
            load_environment(case.environment, config_dir)
    message = str(raised.value)
    assert message.splitlines() == [message], message
    assert message.startswith(_expected_start(config_dir, case)), message
    assert case.says in message, message
    assert not re.search(r"\.(float|int|str)\b|\(and \d+ more\)", message), message


def _one_line_and_exit_2(result: subprocess.CompletedProcess[str], start: str, says: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"configuration error: {start}"), lines[0]
    assert says in lines[0], lines[0]


@pytest.mark.parametrize("case", [c for c in CASES if c.cli], ids=[c.id for c in CASES if c.cli])
def test_config_command_prints_one_line_and_exits_2(config_dir: Path, case: Case) -> None:
    _break(config_dir, case)
    result = subprocess.run(
        [sys.executable, "-m", "platform_config", "--config-dir", str(config_dir), "sandbox"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    _one_line_and_exit_2(result, _expected_start(config_dir, case), case.says)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.synth], ids=[c.id for c in CASES if c.synth]
)
def test_synth_stops_with_the_same_line(config_dir: Path, case: Case, tmp_path: Path) -> None:
    _break(config_dir, case)
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"env": "sandbox", "config_dir": str(config_dir)}),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "PATH": f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    _one_line_and_exit_2(result, _expected_start(config_dir, case), case.says)


# --- Every class closed, not only each case --------------------------------------------

#: Values of every type YAML produces, and the edge values of each.
ODD_VALUES: list[object] = [
    None,
    [],
    {},
    [[1]],
    {"x": {"y": 1}},
    "",
    "x\ny",
    0,
    -1,
    2**70,
    1.5,
    float("inf"),
    float("nan"),
    True,
]
FILES = ("sandbox.yaml", "models.yaml", "feature_groups.yaml")


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """The path of every value inside ``value`` (mapping keys and list indexes)."""
    found: list[tuple[object, ...]] = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replaced(value: object, path: tuple[object, ...], new: object) -> object:
    """``value`` with the value at ``path`` replaced by ``new`` (copied along the path only)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    assert isinstance(value, list) and isinstance(head, int)
    return [*value[:head], _replaced(value[head], rest, new), *value[head + 1 :]]


@pytest.mark.parametrize("file", FILES)
def test_any_value_replaced_by_any_kind_of_value_is_valid_or_one_config_error(file: str) -> None:
    settings = {name: read_settings(DEFAULT_CONFIG_DIR / name) for name in FILES}
    paths = _paths(settings[file])
    assert len(paths) > 20
    for path in paths:
        for odd in ODD_VALUES:
            broken = {**settings, file: _replaced(settings[file], path, odd)}
            try:
                environment_from_settings(
                    "sandbox",
                    broken["sandbox.yaml"],
                    broken["models.yaml"],
                    broken["feature_groups.yaml"],
                )
            except ConfigError as error:
                message = str(error)
                assert message.splitlines() == [message], (path, odd, message)
                assert re.match(r"^\S+\.yaml: ", message), (path, odd, message)

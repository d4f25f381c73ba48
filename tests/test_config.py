"""The configuration: committed files are valid; every kind of mistake is one clear line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from platform_config import ConfigError, InterfaceEndpoint, Retention, load_environment
from platform_config.loader import DEFAULT_CONFIG_DIR

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["sandbox", "dev", "staging", "prod"])
def test_committed_environment_is_valid(name: str) -> None:
    config = load_environment(name)
    assert config.name == name
    assert config.account.isdigit() and len(config.account) == 12


def test_sandbox_is_the_dummy_account_with_a_new_vpc_and_destroy() -> None:
    config = load_environment("sandbox")
    assert config.account == "111111111111"
    assert config.network.new_vpc is not None
    assert config.retention is Retention.DESTROY
    assert config.termination_protection is False


def test_prod_and_staging_retain_and_are_termination_protected() -> None:
    for name in ("staging", "prod"):
        config = load_environment(name)
        assert config.retention is Retention.RETAIN
        assert config.termination_protection is True


def test_interface_endpoints_default_to_all_that_sagemaker_needs() -> None:
    endpoints = load_environment("dev").network.interface_endpoints
    # All but Athena, which only a model reading a feature group needs (and then asks for).
    assert endpoints == tuple(e for e in InterfaceEndpoint if e is not InterfaceEndpoint.ATHENA)


def test_config_objects_are_frozen() -> None:
    config = load_environment("dev")
    with pytest.raises(Exception, match="frozen"):
        config.region = "us-east-1"  # type: ignore[misc]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the committed configuration, for a test to break."""
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(config_dir: Path, name: str, change: dict[str, object]) -> None:
    path = config_dir / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    for dotted, value in change.items():
        target = data
        *parents, leaf = dotted.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        if value is _DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    path.write_text(yaml.safe_dump(data))


_DELETE = object()

BAD_VALUES = [
    (
        {"network.new_vpc.cidr": "10.0.0.0/33"},
        "dev.yaml: network.new_vpc.cidr: '10.0.0.0/33' is not a valid IPv4 CIDR",
    ),
    (
        {"network.new_vpc.cidr": "10.0.0.0/8"},
        "dev.yaml: network.new_vpc.cidr: '10.0.0.0/8' must have a prefix length from /16 to /24",
    ),
    (
        {"network.new_vpc.zone_count": 1},
        (
            "dev.yaml: network.new_vpc.zone_count: 1 is invalid: input should be greater than"
            " or equal to 2"
        ),
    ),
    ({"account": 222222222222}, "dev.yaml: account: 222222222222 must be a string (quote it)"),
    ({"account": "2222"}, "dev.yaml: account: '2222' is not an AWS account id"),
    ({"region": "europe-1"}, "dev.yaml: region: 'europe-1' is not an AWS region code"),
    (
        {"retention": "keep"},
        "dev.yaml: retention: 'keep' is not allowed (allowed: 'retain' or 'destroy')",
    ),
    ({"termination_protection": _DELETE}, "dev.yaml: termination_protection: is required"),
    ({"retension": "retain"}, "dev.yaml: retension: 'retain' is not a known field"),
    # The typo replaces the right key: it is named, not the required key it leaves missing.
    (
        {"retention": _DELETE, "retension": "retain"},
        "dev.yaml: retension: 'retain' is not a known field",
    ),
    (
        {"log_retention_days": 45},
        (
            "dev.yaml: log_retention_days: 45 is not a CloudWatch Logs retention period"
            " (allowed: 1, 3, 5"
        ),
    ),
    (
        {"network.interface_endpoints": ["sagemaker_api", "s3"]},
        "dev.yaml: network.interface_endpoints[1]: 's3' is not allowed (allowed: 'sagemaker_api'",
    ),
    (
        {"network.interface_endpoints": ["kms", "kms"]},
        "dev.yaml: network.interface_endpoints: ['kms', 'kms'] lists an endpoint twice",
    ),
    (
        {
            "network.existing_vpc": {
                "vpc_id": "vpc-0a1b2c3d",
                "cidr": "10.0.0.0/16",
                "availability_zones": ["eu-west-1a", "eu-west-1b"],
                "subnet_ids": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
            }
        },
        (
            "dev.yaml: network: ['new_vpc', 'existing_vpc'] must give exactly one of new_vpc or"
            " existing_vpc"
        ),
    ),
    (
        {"data.data_capture_expiration_days": 30},
        (
            "dev.yaml: data.data_capture_expiration_days: 30 is invalid: input should be greater"
            " than or equal to 31"
        ),
    ),
    (
        {"tags": {"aws:owner": "me"}},
        "dev.yaml: tags.aws:owner: 'aws:owner' is not an allowed tag key",
    ),
]


@pytest.mark.parametrize(("change", "expected"), BAD_VALUES, ids=[e for _, e in BAD_VALUES])
def test_bad_value_is_one_line_naming_file_field_value_and_allowed(
    config_dir: Path, change: dict[str, object], expected: str
) -> None:
    _edit(config_dir, "dev", change)
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(str(config_dir / "dev.yaml").rsplit("/", 1)[0])
    assert expected in message, message


def test_existing_vpc_zone_outside_region_is_rejected(config_dir: Path) -> None:
    _edit(
        config_dir,
        "prod",
        {"network.existing_vpc.availability_zones": ["us-east-1a", "eu-west-1b", "us-east-1c"]},
    )
    with pytest.raises(
        ConfigError,
        match=r"prod.yaml: network.existing_vpc.availability_zones"
        r"\[1\]: 'eu-west-1b' is not a zone of region us-east-1",
    ):
        load_environment("prod", config_dir)


def test_existing_vpc_needs_one_subnet_per_zone(config_dir: Path) -> None:
    _edit(
        config_dir,
        "prod",
        {
            "network.existing_vpc.subnet_ids": [
                "subnet-0a1b2c3d4e5f60001",
                "subnet-0a1b2c3d4e5f60002",
            ]
        },
    )
    with pytest.raises(
        ConfigError,
        match=r"network.existing_vpc.subnet_ids: .* has 2 entries but availability_zones has 3",
    ):
        load_environment("prod", config_dir)


def test_key_given_twice_is_rejected_with_its_line(config_dir: Path) -> None:
    path = config_dir / "dev.yaml"
    path.write_text(path.read_text() + "retention: retain\n")
    with pytest.raises(
        ConfigError, match=r"dev.yaml: \(top level\): key 'retention' is given twice .*\(line \d+\)"
    ):
        load_environment("dev", config_dir)


def test_malformed_yaml_names_line_and_column(config_dir: Path) -> None:
    (config_dir / "dev.yaml").write_text("account: '222222222222'\nnetwork: [unclosed\n")
    with pytest.raises(ConfigError, match=r"dev.yaml: line \d+, column \d+: invalid YAML"):
        load_environment("dev", config_dir)


def test_unknown_environment_lists_the_available_ones(config_dir: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"no such environment 'qa' \(available: dev, prod,"
        r" sandbox, staging\)",
    ):
        load_environment("qa", config_dir)


def test_override_of_a_model_not_in_the_catalogue_is_rejected(config_dir: Path) -> None:
    _edit(config_dir, "dev", {"model_overrides": {"churn": {"description": "x"}}})
    with pytest.raises(
        ConfigError,
        match=re.escape("dev.yaml: model_overrides.churn: 'churn' is not a model of models.yaml"),
    ):
        load_environment("dev", config_dir)


def test_override_changes_only_its_environment(config_dir: Path) -> None:
    (config_dir / "models.yaml").write_text(
        "models:\n  - name: churn\n    description: catalogue text\n"
    )
    _edit(config_dir, "dev", {"model_overrides": {"churn": {"description": "dev text"}}})
    assert load_environment("dev", config_dir).models[0].description == "dev text"
    assert load_environment("staging", config_dir).models[0].description == "catalogue text"


def test_bad_value_in_the_catalogue_names_the_catalogue(config_dir: Path) -> None:
    (config_dir / "models.yaml").write_text("models:\n  - name: Churn_Model\n")
    with pytest.raises(
        ConfigError,
        match=r"models.yaml: models\[0\].name: 'Churn_Model' is not"
        " a valid name",
    ):
        load_environment("dev", config_dir)


def test_bad_value_in_an_override_names_the_environment_file(config_dir: Path) -> None:
    (config_dir / "models.yaml").write_text("models:\n  - name: churn\n")
    _edit(config_dir, "dev", {"model_overrides": {"churn": {"descripton": "typo"}}})
    with pytest.raises(
        ConfigError,
        match=r"dev.yaml: model_overrides.churn.descripton: 'typo'"
        " is not a known field",
    ):
        load_environment("dev", config_dir)


def test_duplicate_model_names_are_rejected(config_dir: Path) -> None:
    (config_dir / "models.yaml").write_text("models:\n  - name: churn\n  - name: churn\n")
    with pytest.raises(ConfigError, match=r"models\.yaml: models: \['churn'\] repeats names"):
        load_environment("dev", config_dir)


def _run_app(context: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDK_CONTEXT_JSON": __import__("json").dumps(context)}
    env["PATH"] = f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


def test_app_exits_2_with_one_line_and_no_traceback_on_bad_config(config_dir: Path) -> None:
    _edit(config_dir, "dev", {"network.new_vpc.cidr": "10.0.0.0/33"})
    result = _run_app({"env": "dev", "config_dir": str(config_dir)})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "dev.yaml: network.new_vpc.cidr: '10.0.0.0/33' is not a valid IPv4 CIDR" in result.stderr


def test_config_check_command_exits_2_on_unknown_environment() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "platform_config", "qa"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: config/qa.yaml: no such environment 'qa'"
        " (available: dev, prod, sandbox, staging)"
    )


def _feature_groups(config_dir: Path, group: dict[str, object]) -> None:
    (config_dir / "feature_groups.yaml").write_text(yaml.safe_dump({"feature_groups": [group]}))


_GROUP = {
    "name": "orders",
    "record_identifier": "order_id",
    "event_time": "event_time",
    "features": [
        {"name": "order_id", "type": "string"},
        {"name": "event_time", "type": "fractional"},
        {"name": "amount", "type": "fractional"},
    ],
}

BAD_FEATURE_GROUPS = [
    (
        {"event_time": "created"},
        (
            "feature_groups.yaml: feature_groups[0].event_time: 'created' is"
            " not one of the features (order_id, event_time, amount)"
        ),
    ),
    (
        {"features": [*_GROUP["features"], {"name": "amount", "type": "string"}]},  # type: ignore[list-item]
        "feature_groups[0].features: ['amount'] repeats feature names",
    ),
    (
        {"features": [*_GROUP["features"], {"name": "tags", "type": "list"}]},  # type: ignore[list-item]
        (
            "feature_groups[0].features[3].type: 'list' is not allowed (allowed: 'string',"
            " 'integral' or 'fractional')"
        ),
    ),
    (
        {"online_ttl": {"unit": "Days", "value": 7}},
        "feature_groups[0].online_ttl: {...} is set but online_store is off",
    ),
    (
        {"record_identifier": "amount"},
        (
            "feature_groups[0].record_identifier: 'amount' has type fractional; allowed: string or"
            " integral"
        ),
    ),
    (
        {"features": [*_GROUP["features"], {"name": "write_time", "type": "string"}]},  # type: ignore[list-item]
        "feature_groups[0].features[3].name: 'write_time' is reserved by the offline store",
    ),
    (
        {"offline_store": False},
        "feature_groups[0]: 'orders' has neither an online nor an offline store",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    BAD_FEATURE_GROUPS,
    ids=[e.split(": ")[1] for _, e in BAD_FEATURE_GROUPS],
)
def test_invalid_feature_group_is_one_line_naming_the_catalogue(
    config_dir: Path, change: dict[str, object], expected: str
) -> None:
    _feature_groups(config_dir, {**_GROUP, **change})
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    assert "\n" not in str(raised.value)
    assert expected in str(raised.value), str(raised.value)


def test_feature_group_declared_in_an_environment_file_is_redirected(config_dir: Path) -> None:
    _edit(config_dir, "dev", {"feature_groups": [_GROUP]})
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "dev.yaml: feature_groups: is not set in an environment"
            " file (feature groups are declared in feature_groups.yaml)"
        ),
    ):
        load_environment("dev", config_dir)


BAD_WORKSPACE = [
    (
        {"studio.shared_spaces": [{"name": "lab", "owner": "nobody"}]},
        (
            "dev.yaml: studio.shared_spaces[0].owner: 'nobody' is not a user profile (user profiles:"
            " data-scientist, ml-engineer)"
        ),
    ),
    (
        {"studio.auth_mode": "sso"},
        "dev.yaml: studio.user_profiles[0].sso_user_name: None is required when auth_mode is sso",
    ),
    (
        {"studio.idle_timeout_minutes": 30},
        (
            "dev.yaml: studio.idle_timeout_minutes: 30 is invalid: input should be greater than or equal"
            " to 60"
        ),
    ),
    (
        {"studio.default_instance_type": "t3.medium"},
        "dev.yaml: studio.default_instance_type: 't3.medium' is invalid",
    ),
    (
        {"mlflow.size": "Huge"},
        "dev.yaml: mlflow.size: 'Huge' is not allowed (allowed: 'Small', 'Medium' or 'Large')",
    ),
    (
        {"model_registry.reader_accounts": ["222222222222"]},
        (
            "dev.yaml: model_registry.reader_accounts: '222222222222' is this environment's own"
            " account"
        ),
    ),
    (
        {"studio.user_profiles": [{"name": "ana"}, {"name": "ana"}]},
        "dev.yaml: studio.user_profiles: ['ana'] repeats names",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), BAD_WORKSPACE, ids=[e.split(": ")[1] for _, e in BAD_WORKSPACE]
)
def test_invalid_workspace_setting_is_one_line(
    config_dir: Path, change: dict[str, object], expected: str
) -> None:
    _edit(config_dir, "dev", change)
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", config_dir)
    assert "\n" not in str(raised.value)
    assert expected in str(raised.value), str(raised.value)


def test_environment_name_too_long_for_bucket_names_is_rejected(config_dir: Path) -> None:
    shutil.copy(config_dir / "dev.yaml", config_dir / "integration-testing-europe.yaml")
    with pytest.raises(
        ConfigError,
        match=r"integration-testing-europe\.yaml: name: 'integration-testing-europe' makes the S3"
        r" bucket name '.*-access-logs', which is 65 characters long; the S3 bucket name may have"
        " at most 63; shorten it to at most 24 characters",
    ):
        load_environment("integration-testing-europe", config_dir)


def test_an_environment_can_switch_a_models_serving_off(config_dir: Path) -> None:
    # The first deployment of an environment has no approved package to serve yet.
    _edit(config_dir, "dev", {"model_overrides": {"churn-prediction": {"serving": None}}})
    models = {model.name: model for model in load_environment("dev", config_dir).models}
    assert models["churn-prediction"].serving is None
    assert models["fraud-detection"].serving is not None
    assert load_environment("staging", config_dir).models[0].serving is not None

"""Serving configuration: every mistake SageMaker would reject at deploy time is one line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_config import ConfigError, load_environment
from platform_config.aws_facts import JobKind, facts, instance_family, offered_instance_types
from platform_config.loader import DEFAULT_CONFIG_DIR
from platform_config.serving_spec import EndpointKind


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the committed configuration, for a test to break."""
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _serve(config_dir: Path, serving: dict[str, Any], model: int = 0) -> None:
    """Replace the catalogue's ``models[model].serving`` with ``serving``."""
    path = config_dir / "models.yaml"
    data = yaml.safe_load(path.read_text())
    data["models"][model]["serving"] = serving
    path.write_text(yaml.safe_dump(data))


def _error(config_dir: Path, env: str = "sandbox") -> str:
    with pytest.raises(ConfigError) as raised:
        load_environment(env, config_dir)
    message = str(raised.value)
    assert "\n" not in message
    return message


RT = {"kind": "real_time"}
#: A Neuron image, which the XGBoost package of the test catalogue's model needs on inf2/trn1.
NEURON = {
    "image_uri": "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.30.0-neuronx-sdk2.20.1"
}
TWO_VARIANTS = [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]

BAD_SERVING = [
    (
        {"kind": "serverless", "instance_type": "ml.g5.xlarge"},
        (
            "models[0].serving.instance_type: 'ml.g5.xlarge' is not possible on serverless endpoints,"
            " which run on CPU only with no GPU, Inferentia or Trainium"
        ),
    ),
    (
        {"kind": "serverless", "instance_type": "ml.inf2.xlarge"},
        "models[0].serving.instance_type: 'ml.inf2.xlarge' is not possible on serverless endpoints",
    ),
    (
        {"kind": "serverless", "instance_type": "ml.trn1.2xlarge"},
        "models[0].serving.instance_type: 'ml.trn1.2xlarge' is not possible on serverless endpoints",
    ),
    (
        {"kind": "serverless", "instance_type": "ml.m5.large"},
        "models[0].serving.instance_type: 'ml.m5.large' is not used by serverless endpoints",
    ),
    (
        {"kind": "serverless", "serverless": {"memory_size_mb": 1000}},
        (
            "models[0].serving.serverless.memory_size_mb: 1000 is not a serverless memory size"
            " (allowed: 1024, 2048, 3072, 4096, 5120, 6144)"
        ),
    ),
    (
        {"kind": "serverless", "serverless": {"memory_size_mb": 1536}},
        "models[0].serving.serverless.memory_size_mb: 1536 is not a serverless memory size",
    ),
    (
        {"kind": "serverless", "serverless": {"memory_size_mb": 7168}},
        "models[0].serving.serverless.memory_size_mb: 7168 is not a serverless memory size",
    ),
    (
        {"kind": "serverless", "serverless": {"max_concurrency": 201}},
        "models[0].serving.serverless.max_concurrency: 201 must be from 1 to 200",
    ),
    (
        {"kind": "serverless", "serverless": {"max_concurrency": 5, "provisioned_concurrency": 6}},
        "models[0].serving.serverless.provisioned_concurrency: 6 is greater than max_concurrency (5)",
    ),
    (
        {"kind": "serverless", "data_capture": {"enabled": True}},
        "models[0].serving.data_capture.enabled: True is not supported by serverless endpoints",
    ),
    (
        {**RT, "async_inference": {"max_concurrent_invocations_per_instance": 2}},
        "models[0].serving.async_inference: {...} is only for kind async (this endpoint is real_time)",
    ),
    (
        {**RT, "serverless": {"memory_size_mb": 2048}},
        "models[0].serving.serverless: {...} is only for kind serverless (this endpoint is real_time)",
    ),
    (
        {"kind": "async", "batch_transform": {"max_payload_mb": 6}},
        "models[0].serving.batch_transform: {...} is only for kind batch (this endpoint is async)",
    ),
    (
        {"kind": "serverless", "variants": TWO_VARIANTS},
        "models[0].serving.variants: {...} is only for kind real_time (this is serverless)",
    ),
    (
        {"kind": "async", "shadow_variants": [{"name": "s"}]},
        "models[0].serving.shadow_variants: {...} is only for kind real_time (this is async)",
    ),
    (
        {**RT, "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 0}]},
        "models[0].serving.variants[1].weight: 0.0 must be positive (a share of traffic)",
    ),
    (
        {**RT, "variants": [{"name": "a", "weight": -0.5}]},
        "models[0].serving.variants[0].weight: -0.5 must be positive",
    ),
    (
        {**RT, "variants": [{"name": "a"}], "shadow_variants": [{"name": "s", "weight": 0}]},
        "models[0].serving.shadow_variants[0].weight: 0.0 must be positive",
    ),
    (  # issue 11 defect 1: CreateEndpointConfig allows one production variant with shadows
        {**RT, "variants": TWO_VARIANTS, "shadow_variants": [{"name": "s"}]},
        (
            "models[0].serving.shadow_variants: ['s'] needs exactly one production variant"
            " (CreateEndpointConfig allows one with shadow variants); this endpoint has 2: a, b"
        ),
    ),
    (  # issue 11 defect 10: a GPU instance with a CPU-only image
        {
            **RT,
            "instance_type": "ml.g5.xlarge",
            "image_uri": "141502667606.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1",
        },
        "is an image for cpu inference and cannot serve on ml.g5.xlarge",
    ),
    (  # issue 11 defect 10: the training kind registers the XGBoost (CPU) container
        {"kind": "async", "instance_type": "ml.g5.xlarge"},
        (
            "models[0].serving.instance_type: 'ml.g5.xlarge' needs a GPU image, but pipeline kind"
            " training registers an image that runs on CPU only"
        ),
    ),
    (  # an Inferentia2 instance with a CUDA image
        {
            **RT,
            "instance_type": "ml.inf2.xlarge",
            "image_uri": "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:0.38.0-lmi29.0.0-cu130",
        },
        "is an image for gpu inference and cannot serve on ml.inf2.xlarge",
    ),
    (
        {**RT, "variants": [{"name": "a"}, {"name": "a"}]},
        "models[0].serving.variants: ['a'] repeats variant names; each must be unique",
    ),
    (
        {**RT, "variants": TWO_VARIANTS, "deployment": {"strategy": "rolling"}},
        (
            "models[0].serving.deployment.strategy: 'rolling' needs a single variant (this endpoint"
            " has 2: a, b)"
        ),
    ),
    (
        {
            **RT,
            "variants": [{"name": "a"}],
            "shadow_variants": [{"name": "s"}],
            "deployment": {"strategy": "rolling"},
        },
        "models[0].serving.deployment.strategy: 'rolling' needs a single variant",
    ),
    (
        {"kind": "serverless", "deployment": {"strategy": "rolling"}},
        "models[0].serving.deployment.strategy: 'rolling' is not possible on serverless endpoints",
    ),
    (
        {"kind": "serverless", "deployment": {"strategy": "canary"}},
        "models[0].serving.deployment.strategy: 'canary' is not possible on serverless endpoints",
    ),
    (
        {**RT, "deployment": {"strategy": "canary", "canary_size_percent": 60}},
        (
            "models[0].serving.deployment.canary_size_percent: 60 must be from 1 to 50 (percent of"
            " capacity)"
        ),
    ),
    (
        {**RT, "deployment": {"strategy": "linear", "linear_step_percent": 75}},
        "models[0].serving.deployment.linear_step_percent: 75 must be from 1 to 50",
    ),
    (
        {**RT, "deployment": {"strategy": "rolling", "rolling_batch_percent": 2}},
        "models[0].serving.deployment.rolling_batch_percent: 2 must be from 5 to 50",
    ),
    (
        {**RT, "autoscaling": {"min_capacity": 4, "max_capacity": 2}},
        "models[0].serving.autoscaling.min_capacity: 4 is greater than max_capacity (2)",
    ),
    (
        {"kind": "async", "autoscaling": {"min_capacity": 3, "max_capacity": 1}},
        "models[0].serving.autoscaling.min_capacity: 3 is greater than max_capacity (1)",
    ),
    (
        {**RT, "autoscaling": {"min_capacity": 0, "max_capacity": 2}},
        "models[0].serving.autoscaling.min_capacity: 0 can be 0 on async endpoints only",
    ),
    (
        {"kind": "serverless", "autoscaling": {"max_capacity": 2}},
        "models[0].serving.autoscaling: {...} is not for serverless (SageMaker scales it)",
    ),
    (
        {"kind": "batch", "autoscaling": {"max_capacity": 2}},
        "models[0].serving.autoscaling: {...} is not for batch",
    ),
    (
        {"kind": "streaming"},
        (
            "models[0].serving.kind: 'streaming' is not allowed (allowed: 'real_time', 'serverless',"
            " 'async' or 'batch')"
        ),
    ),
    (
        {**RT, "data_capture": {"sampling_percent": 101}},
        "models[0].serving.data_capture.sampling_percent: 101 is invalid",
    ),
    ({**RT, "model_version": 0}, "models[0].serving.model_version"),
    ({**RT, "instance_type": "m5.large"}, "models[0].serving.instance_type: 'm5.large' is invalid"),
    (
        {**RT, "image_uri": "docker.io/library/nginx:latest"},
        "models[0].serving.image_uri: 'docker.io/library/nginx:latest' is invalid",
    ),
    (
        {**RT, "endpoint_type": "fast"},
        "models[0].serving.endpoint_type: 'fast' is not a known field",
    ),
]


@pytest.mark.parametrize(("serving", "expected"), BAD_SERVING, ids=[e for _, e in BAD_SERVING])
def test_bad_serving_is_one_line_naming_the_catalogue_field_value_and_allowed(
    config_dir: Path, serving: dict[str, Any], expected: str
) -> None:
    _serve(config_dir, serving)
    message = _error(config_dir)
    assert message.startswith(f"{config_dir / 'models.yaml'}: models[0].serving."), message
    assert expected in message, message


def test_trainium_in_a_region_that_does_not_offer_it_names_the_region(config_dir: Path) -> None:
    _serve(config_dir, {"kind": "real_time", "instance_type": "ml.trn1.2xlarge", **NEURON})
    message = _error(config_dir, "sandbox")
    assert message.startswith(
        f"{config_dir / 'models.yaml'}: models[0].serving.instance_type: 'ml.trn1.2xlarge' is"
        " not offered for endpoints (real-time and asynchronous) in eu-west-1 (offered there:"
        " no ml.trn1.* type; source: the AWS price list via cfn-lint"
    ), message


def test_inferentia_in_a_region_without_it_is_rejected_for_variants_too(config_dir: Path) -> None:
    _serve(
        config_dir,
        {
            "kind": "real_time",
            "variants": [
                {"name": "a", "instance_type": "ml.inf2.8xlarge"},
                {"name": "b", "instance_type": "ml.inf2.xlarge"},
            ],
            **NEURON,
        },
    )
    path = config_dir / "sandbox.yaml"
    path.write_text(path.read_text().replace("region: eu-west-1", "region: ca-central-1"))
    message = _error(config_dir, "sandbox")
    assert (
        "models[0].serving.variants[0].instance_type: 'ml.inf2.8xlarge' is not offered for"
        " endpoints (real-time and asynchronous) in ca-central-1 (offered there: no ml.inf2.*"
        " type;" in message
    ), message


def test_trainium_is_accepted_where_offered(config_dir: Path) -> None:
    _serve(config_dir, {"kind": "real_time", "instance_type": "ml.trn1.32xlarge", **NEURON})
    assert load_environment("prod", config_dir).models[0].serving is not None


def test_a_bad_override_names_the_environment_file(config_dir: Path) -> None:
    path = config_dir / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["model_overrides"] = {"lead-scoring": {"serving": {"instance_count": 0}}}
    path.write_text(yaml.safe_dump(data))
    message = _error(config_dir, "dev")
    assert message.startswith(
        f"{path}: model_overrides.lead-scoring.serving.instance_count: 0 is invalid"
    ), message


def test_an_override_can_switch_a_served_model_to_another_kind() -> None:
    dev, prod = load_environment("dev"), load_environment("prod")
    (dev_fraud,) = [m.serving for m in dev.models if m.name == "fraud-detection"]
    (prod_fraud,) = [m.serving for m in prod.models if m.name == "fraud-detection"]
    assert dev_fraud is not None and dev_fraud.kind is EndpointKind.SERVERLESS
    assert prod_fraud is not None and prod_fraud.kind is EndpointKind.REAL_TIME
    assert prod_fraud.serverless is None and prod_fraud.effective_instance_type == "ml.c6i.xlarge"


def _families(env: str) -> set[str]:
    return {
        instance_family(t)
        for m in load_environment(env).models
        if m.serving
        for _, t in m.serving.instance_types()
    }


def test_sandbox_catalogue_exercises_every_kind_and_every_fleet_its_region_offers() -> None:
    sandbox = load_environment("sandbox")
    kinds = {model.serving.kind for model in sandbox.models if model.serving}
    assert kinds == set(EndpointKind)
    assert {"m5", "inf2"} <= _families("sandbox")
    served = [m.serving for m in sandbox.models if m.serving]
    assert any(
        s.variants and len(s.variants) > 1 and s.deployment.strategy == "canary" for s in served
    )
    assert any(s.deployment.strategy == "rolling" for s in served)
    # A shadow test needs a single production variant (issue 11 defect 1): prod's fraud-detection.
    prod = [m.serving for m in load_environment("prod").models if m.serving]
    assert any(s.shadow_variants and len(s.production_variants) == 1 for s in prod)
    # eu-west-1 offers no Trainium for hosting: prod (us-east-1) serves on trn1.
    assert "trn1" in _families("prod")


def test_regional_offer_names_its_source() -> None:
    assert facts()["regional_offer"]["endpoint"]["cfn_lint_data"] == "aws_sagemaker_hosting"
    offered = offered_instance_types(JobKind.ENDPOINT, "eu-west-1")
    assert offered is not None
    assert "ml.inf2.xlarge" in offered
    assert "ml.trn1.2xlarge" not in offered

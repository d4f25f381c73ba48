"""LMI (DJL Serving) on Inferentia2 and Trainium: derived settings, templates, config errors."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

import platform_config.container_images as table
from ml_constructs.lmi_serving import (
    STARTUP_MARGIN_SECONDS,
    llm_settings,
    lmi_environment,
    lmi_variant_timeouts,
)
from ml_constructs.model_endpoint import VariantPackage
from ml_constructs.real_time_endpoint import RealTimeEndpoint
from platform_config import ConfigError, load_environment
from platform_config.foundation_models import foundation_models
from platform_config.llm_serving_spec import NEURON_CORES, LlmServingSpec
from platform_config.loader import DEFAULT_CONFIG_DIR
from platform_config.serving_spec import EndpointKind, ServingSpec
from tests.conftest import SynthesizedPlatform

LMI = "djl-inference:0.30.0-neuronx-sdk2.20.1"
LMI_URI = f"763104351884.dkr.ecr.{{region}}.amazonaws.com/{LMI}"
ASSISTANT = 3  # support-assistant's index in config/models.yaml
NEURON_MODEL = "meta-textgenerationneuron-llama-3-2-1b"


# --- the derivation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_type", "cores"),
    [
        ("ml.inf2.xlarge", 2),
        ("ml.inf2.8xlarge", 2),
        ("ml.inf2.24xlarge", 12),
        ("ml.inf2.48xlarge", 24),
        ("ml.trn1.2xlarge", 2),
        ("ml.trn1.32xlarge", 32),
        ("ml.trn1n.32xlarge", 32),
    ],
)
def test_the_model_is_sharded_over_every_neuroncore_of_the_instance(
    instance_type: str, cores: int
) -> None:
    environment = lmi_environment(instance_type=instance_type, settings=LlmServingSpec())
    assert environment["OPTION_TENSOR_PARALLEL_DEGREE"] == str(cores)


def test_the_default_environment_is_complete() -> None:
    assert lmi_environment(instance_type="ml.inf2.xlarge", settings=LlmServingSpec()) == {
        "HF_MODEL_ID": "/opt/ml/model",
        "OPTION_ENTRYPOINT": "djl_python.transformers_neuronx",
        "OPTION_ROLLING_BATCH": "auto",
        "OPTION_TENSOR_PARALLEL_DEGREE": "2",
        "OPTION_N_POSITIONS": "4096",
        "OPTION_MAX_ROLLING_BATCH_SIZE": "8",
        "OPTION_DTYPE": "bf16",
        "OPTION_MODEL_LOADING_TIMEOUT": "1800",
    }


def test_the_catalogue_settings_reach_the_environment_and_the_timeouts() -> None:
    settings = LlmServingSpec(
        tensor_parallel_degree=4,
        max_sequence_length=8192,
        batch_size=16,
        dtype="fp16",
        model_loading_timeout_seconds=2400,
        model_download_timeout_seconds=900,
    )
    environment = lmi_environment(instance_type="ml.inf2.48xlarge", settings=settings)
    assert environment["OPTION_TENSOR_PARALLEL_DEGREE"] == "4"  # six copies of the model
    assert environment["OPTION_N_POSITIONS"] == "8192"
    assert environment["OPTION_MAX_ROLLING_BATCH_SIZE"] == "16"
    assert environment["OPTION_DTYPE"] == "fp16"
    assert environment["OPTION_MODEL_LOADING_TIMEOUT"] == "2400"
    timeouts = lmi_variant_timeouts(settings)
    assert timeouts.container_startup_health_check_seconds == 2400 + STARTUP_MARGIN_SECONDS
    assert timeouts.model_data_download_seconds == 900


def test_the_longest_loading_timeout_keeps_the_health_check_within_the_api_limit() -> None:
    longest = LlmServingSpec.model_fields["model_loading_timeout_seconds"].metadata
    maximum = next(item.le for item in longest if hasattr(item, "le"))
    settings = LlmServingSpec(model_loading_timeout_seconds=maximum)
    assert lmi_variant_timeouts(settings).container_startup_health_check_seconds <= 3600


@pytest.mark.parametrize(
    ("image", "lmi"),
    [
        (LMI_URI.replace("{region}", "eu-west-1"), True),
        (
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.38.0-lmi29.0.0-cu130",
            False,
        ),
        ("141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1", False),
        (None, False),
    ],
)
def test_only_an_lmi_neuron_image_gets_lmi_settings(image: str | None, lmi: bool) -> None:
    spec = ServingSpec(kind=EndpointKind.REAL_TIME, instance_type="ml.inf2.xlarge")
    assert (llm_settings(spec, image) is not None) is lmi


# --- the templates -----------------------------------------------------------------------


def _resources(platform: SynthesizedPlatform, kind: str) -> dict[str, dict[str, Any]]:
    """Properties of the model stacks' resources of ``kind``, by logical id and stack."""
    found = {}
    for name, stacks in platform.platform.models.items():
        template = platform.template_json(stacks.model)
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == kind:
                found[f"{name}/{logical_id}"] = resource["Properties"]
    return found


def test_every_lmi_model_is_configured_for_the_instance_type_it_is_served_on(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    checked = 0
    for platform in platforms.values():
        models = _resources(platform, "AWS::SageMaker::Model")
        for key, config in _resources(platform, "AWS::SageMaker::EndpointConfig").items():
            model_name = key.split("/")[0]
            variants = config["ProductionVariants"] + config.get("ShadowProductionVariants", [])
            components = [
                c
                for k, c in _resources(platform, "AWS::SageMaker::InferenceComponent").items()
                if k.startswith(f"{model_name}/")
            ]
            for declared in variants:
                variant = declared
                if "ModelName" not in variant:  # an endpoint of inference components
                    (component,) = components  # scaled to zero: one component per endpoint
                    variant = {**variant, **component["Specification"]["StartupParameters"]}
                    variant["ModelName"] = component["Specification"]["ModelName"]
                logical_id = variant["ModelName"]["Fn::GetAtt"][0]
                container = models[f"{model_name}/{logical_id}"]["PrimaryContainer"]
                if LMI not in str(container.get("Image")):
                    assert "Environment" not in container
                    assert "ContainerStartupHealthCheckTimeoutInSeconds" not in variant
                    continue
                checked += 1
                cores = NEURON_CORES[variant["InstanceType"]]
                assert container["Environment"]["OPTION_TENSOR_PARALLEL_DEGREE"] == str(cores)
                assert container["Environment"]["OPTION_N_POSITIONS"] == "4096"
                loading = int(container["Environment"]["OPTION_MODEL_LOADING_TIMEOUT"])
                assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] > loading
                assert variant["ModelDataDownloadTimeoutInSeconds"] == 1200
    assert checked == len(platforms)  # support-assistant, in every environment


def test_variants_of_one_version_on_different_fleets_get_a_model_each() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="i", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    spec = ServingSpec(
        kind=EndpointKind.REAL_TIME,
        instance_type="ml.inf2.xlarge",
        variants=[
            {"name": "small", "weight": 1},
            {"name": "large", "weight": 1, "instance_type": "ml.inf2.24xlarge"},
        ],
    )
    endpoint = RealTimeEndpoint(
        stack,
        "E",
        endpoint_name="e",
        spec=spec,
        variant_packages={
            name: VariantPackage(
                "Champion", "arn:aws:sagemaker:eu-west-1:111111111111:model-package/g/1"
            )
            for name in ("small", "large")
        },
        provider=lambda_.Function.from_function_arn(
            stack, "R", "arn:aws:lambda:eu-west-1:111111111111:function:r"
        ),
        role=iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
        subnets=vpc.isolated_subnets,
        security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc),
        volume_key=kms.Key(stack, "Key"),
        image=LMI_URI.replace("{region}", "eu-west-1"),
    )
    degrees = {
        key: model.environment["OPTION_TENSOR_PARALLEL_DEGREE"]
        for key, model in endpoint.models.items()
    }
    assert degrees == {"Champion": "2", "ChampionTp12": "12"}
    (config,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
    for variant in config["Properties"]["ProductionVariants"]:
        assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 1800 + 300
        assert variant["ModelDataDownloadTimeoutInSeconds"] == 1200


# --- configuration mistakes: one line each -----------------------------------------------


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    for path in DEFAULT_CONFIG_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _serve(config_dir: Path, model: int = ASSISTANT, **changes: Any) -> None:
    path = config_dir / "models.yaml"
    data = yaml.safe_load(path.read_text())
    data["models"][model]["serving"].update(changes)
    path.write_text(yaml.safe_dump(data))


def _error(config_dir: Path, env: str = "sandbox") -> str:
    with pytest.raises(ConfigError) as raised:
        load_environment(env, config_dir)
    message = str(raised.value)
    assert "\n" not in message
    return message


BAD_IMAGES = [
    (
        {"image_uri": LMI_URI.replace("0.30.0-neuronx-sdk2.20.1", "0.29.0-neuronx-sdk2.19.1")},
        (
            "names djl-inference:0.29.0-neuronx-sdk2.19.1, which is not in the container image"
            " table (platform_config/container_images.yaml; see docs/images.md)"
        ),
    ),
    (
        {"image_uri": LMI_URI.replace("{region}", "us-east-1")},
        (
            "is pinned to us-east-1's registry; use {region} or eu-west-1"
            f" (763104351884.dkr.ecr.eu-west-1.amazonaws.com/{LMI})"
        ),
    ),
    (
        {"image_uri": LMI_URI.replace("763104351884", "111122223333")},
        f"names registry account 111122223333, but {LMI} is published in eu-west-1 by 763104351884",
    ),
    (
        {"instance_type": "ml.m5.xlarge"},
        "is an image for neuron inference and cannot serve on ml.m5.xlarge (cpu)",
    ),
    (
        {
            "image_uri": "763104351884.dkr.ecr.{region}.amazonaws.com/djl-inference:"
            "0.38.0-lmi29.0.0-cu130",
            "instance_type": "ml.c6i.xlarge",
            "llm": None,
        },
        "is an image for gpu inference and cannot serve on ml.c6i.xlarge (cpu)",
    ),
    (
        {"kind": "batch", "deployment": None, "data_capture": None, "alarms": None},
        "is an LMI server for real_time or async endpoints (this is batch)",
    ),
    (
        {"llm": {"tensor_parallel_degree": 3}},
        (
            f"models[{ASSISTANT}].serving.llm.tensor_parallel_degree: 3 does not fit ml.inf2.xlarge"
            " (2 NeuronCores; allowed: 1, 2)"
        ),
    ),
    (
        {"instance_type": "ml.inf2.24xlarge", "llm": {"tensor_parallel_degree": 5}},
        "5 does not fit ml.inf2.24xlarge (12 NeuronCores; allowed: 1, 2, 3, 4, 6, 12)",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_IMAGES, ids=[e for _, e in BAD_IMAGES])
def test_an_image_or_llm_setting_that_does_not_fit_is_one_line(
    config_dir: Path, changes: dict[str, Any], expected: str
) -> None:
    _serve(config_dir, **{k: v for k, v in changes.items() if v is not None})
    path = config_dir / "models.yaml"
    data = yaml.safe_load(path.read_text())
    for key in [k for k, v in changes.items() if v is None]:
        data["models"][ASSISTANT]["serving"].pop(key, None)
    path.write_text(yaml.safe_dump(data))
    message = _error(config_dir, "dev")  # the sandbox overrides support-assistant's serving
    assert f"models[{ASSISTANT}].serving." in message, message
    assert expected in message, message


def test_llm_settings_need_an_lmi_neuron_image(config_dir: Path) -> None:
    _serve(config_dir, model=0, llm={"batch_size": 4})
    assert _error(config_dir).endswith(
        "models[0].serving.llm: {...} needs image_uri to be an LMI Neuron image of the container"
        f" image table ({LMI})"
    )


def test_a_model_too_large_for_its_neuroncores_is_rejected(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    large = dataclasses.replace(foundation_models()[NEURON_MODEL], parameters_billions=70.0)
    models = {**foundation_models(), NEURON_MODEL: large}
    monkeypatch.setattr("platform_config.serving_images.foundation_models", lambda: models)
    assert _error(config_dir).endswith(
        f"models[{ASSISTANT}].serving.llm.tensor_parallel_degree: 2 is too small for"
        f" {NEURON_MODEL} on ml.inf2.xlarge: its bf16 weights (130.4 GiB) need at least 9"
        " NeuronCores (16 GiB each)"
    )


@pytest.fixture
def older_lmi_image(tmp_path: Path) -> Iterator[str]:
    """The table with the LMI image of Neuron SDK 2.19 (published, but not a 2.20 image)."""
    data = yaml.safe_load(table.TABLE_FILE.read_text())
    older = "djl-inference:0.29.0-neuronx-sdk2.19.1"
    data["images"][older] = {**data["images"][LMI], "neuron_sdk": "2.19.1", "transformers": None}
    data["images"][older]["framework"] = {"name": "djl-serving", "version": "0.29.0"}
    path = tmp_path / "container_images.yaml"
    path.write_text(yaml.safe_dump(data))
    patch = pytest.MonkeyPatch()
    patch.setattr(table, "TABLE_FILE", path)
    table.container_images.cache_clear()
    yield older
    patch.undo()
    table.container_images.cache_clear()


def test_serving_on_another_neuron_sdk_line_than_training_is_rejected(
    config_dir: Path, older_lmi_image: str
) -> None:
    _serve(config_dir, image_uri=f"763104351884.dkr.ecr.{{region}}.amazonaws.com/{older_lmi_image}")
    assert _error(config_dir).endswith(
        f"serves with Neuron SDK 2.19.1, but the pipeline trains {NEURON_MODEL} with 2.20.0:"
        " use an image of the 2.20 line"
    )

"""Regenerate ``platform_config/aws_facts.json``, the facts about AWS the configuration checks.

``python -m scripts.regenerate_aws_facts`` rewrites the file from the installed, pinned
packages; ``--check`` only says whether it is current (exit 1 if not). Run it after bumping
botocore, cfn-lint or sagemaker, and review the diff: a new instance type or region is a
data change. What each section holds and where it comes from:

* ``regions``: the regions where SageMaker has an API endpoint (botocore's
  ``endpoints.json``, service ``api.sagemaker``; FIPS and secondary endpoints left out).
* ``instance_types``: per kind of job, the instance types the SageMaker API accepts: the
  enum of the request field in botocore's SageMaker service model (for example
  ``CreateEndpointConfig``'s ``ProductionVariant.InstanceType``).
* ``regional_offer``: per kind of job that has such data, the instance types offered in
  each region: the AWS Price List API as collected by cfn-lint (``data/schemas/extensions/
  aws_sagemaker_{hosting,transform,processing}/instancetype_enum.json``), kept to the types
  the API accepts. Training and Studio have no per-region data there.
* ``unbuildable``: what synth builds per region from the ``sagemaker`` SDK's tables, and
  the regions where it cannot and why (an image or a JumpStart bucket the tables do not
  list there): each built-in kind of pipeline (``pipeline:training``, ``pipeline:automl``,
  ``pipeline:fine_tuning:<base model>``), the batch inference pipeline
  (``pipeline:batch``) and each Model Monitor type's image (``monitor:<type>``). Found by
  running the project's own builders in every region, as the stacks do at synth.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

from botocore.loaders import create_loader
from botocore.model import ServiceModel, StringShape, StructureShape

REPO = Path(__file__).resolve().parent.parent
FACTS_FILE = REPO / "platform_config" / "aws_facts.json"

#: Kind of job -> (request shape, member path to the instance type) in the SageMaker API.
INSTANCE_TYPE_FIELDS = {
    "endpoint": ("ProductionVariant", "InstanceType"),
    "batch_transform": ("TransformResources", "InstanceType"),
    "training": ("ResourceConfig", "InstanceType"),
    "processing": ("ProcessingClusterConfig", "InstanceType"),
    "monitoring": ("MonitoringClusterConfig", "InstanceType"),
    "studio_app": ("ResourceSpec", "InstanceType"),
}
#: Kind of job -> cfn-lint's per-region price-list data.
REGIONAL_OFFER_DATA = {
    "endpoint": "aws_sagemaker_hosting",
    "batch_transform": "aws_sagemaker_transform",
    "processing": "aws_sagemaker_processing",
    "monitoring": "aws_sagemaker_processing",
}


def region_facts() -> list[str]:
    """Regions with a SageMaker API endpoint, from botocore's endpoint data."""
    endpoints = create_loader().load_data("endpoints")
    return sorted(
        region
        for partition in endpoints["partitions"]
        for region in partition["services"].get("api.sagemaker", {}).get("endpoints", {})
        if "fips" not in region and not region.endswith("-secondary")
    )


def instance_type_facts() -> dict[str, dict[str, Any]]:
    """Per kind of job: the API's enum name and its instance types (``ml.*`` only)."""
    model = ServiceModel(create_loader().load_service_model("sagemaker", "service-2"), "sagemaker")
    facts: dict[str, dict[str, Any]] = {}
    for kind, (structure, member) in INSTANCE_TYPE_FIELDS.items():
        shape = cast(StructureShape, model.shape_for(structure)).members[member]
        types = sorted(value for value in cast(StringShape, shape).enum if value.startswith("ml."))
        facts[kind] = {"api_enum": shape.name, "request_field": f"{structure}.{member}"}
        facts[kind]["types"] = types
    return facts


def regional_offer_facts(accepted: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind of job with price-list data: region -> instance types offered there."""
    import cfnlint

    extensions = Path(cfnlint.__file__).parent / "data" / "schemas" / "extensions"
    facts = {}
    for kind, folder in REGIONAL_OFFER_DATA.items():
        data = json.loads((extensions / folder / "instancetype_enum.json").read_text())
        api = set(accepted[kind]["types"])
        regions = {
            region: sorted(set(entry["enum"]) & api)
            for region, entry in sorted(data.items())
            if isinstance(entry, dict) and "enum" in entry
        }
        facts[kind] = {"cfn_lint_data": folder, "regions": regions}
    return facts


def unbuildable_facts(regions: list[str]) -> dict[str, dict[str, str]]:
    """What synth cannot build in which region, and why (see the module)."""
    facts: dict[str, dict[str, str]] = {}
    for key, build in _builders().items():
        facts[key] = {}
        for region in regions:
            try:
                build(region)
            except ValueError as error:
                facts[key][region] = " ".join(str(error).split())
    return facts


def _builders() -> dict[str, Callable[[str], object]]:
    """Per key of ``unbuildable``: what synth builds for it in a region."""
    from pipeline_definitions.batch_pipeline import build_batch_pipeline
    from pipeline_definitions.pipeline_kinds import plugin_of
    from platform_config.foundation_models import foundation_models
    from platform_config.pipeline_spec import (
        AutoMlPipelineSpec,
        Distribution,
        FineTuningPipelineSpec,
        PipelineSpec,
        TrainingPipelineSpec,
    )

    monitoring_images = _module_from(REPO / "stacks" / "monitoring_images.py")
    model_monitor_image = monitoring_images.model_monitor_image
    clarify_image = monitoring_images.clarify_image

    specs: dict[str, PipelineSpec] = {
        "training": TrainingPipelineSpec(),
        "automl": AutoMlPipelineSpec(target_column="target"),
    }
    for model_id, model in foundation_models().items():
        specs[f"fine_tuning:{model_id}"] = FineTuningPipelineSpec(
            base_model=model_id,
            accept_eula=True,
            distribution=(
                Distribution.TORCHRUN if model.accelerator == "neuron" else Distribution.NONE
            ),
        )
    builders: dict[str, Callable[[str], object]] = {
        f"pipeline:{key}": partial(
            lambda spec, region: plugin_of(spec).build(spec, **_build_arguments(region)),
            spec,
        )
        for key, spec in specs.items()
    }

    def batch(region: str) -> object:
        arguments = _build_arguments(region)
        return build_batch_pipeline(
            pipeline_name=arguments["pipeline_name"],
            region=region,
            output_bucket=arguments["default_bucket"],
            input_data_uri=arguments["input_data_uri"],
            model_name="cdk-placeholder-batch-model",
            kms_key_arn=arguments["kms_key_arn"],
        )

    builders["pipeline:batch"] = batch
    builders["monitor:data_quality"] = builders["monitor:model_quality"] = model_monitor_image
    builders["monitor:bias"] = builders["monitor:explainability"] = clarify_image
    return builders


def _module_from(path: Path) -> Any:
    """A module of ``stacks/`` loaded alone: ``stacks/__init__`` would start CDK's Node."""
    spec = importlib.util.spec_from_file_location(f"_facts_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_arguments(region: str) -> dict[str, Any]:
    """The arguments the pipelines stack gives a builder, with placeholder values."""
    from pipeline_definitions.training_pipeline import StepCodeUris
    from platform_config.names import BucketKind, ResourceNames
    from platform_contracts.retraining import training_data_uri

    account = "111111111111"
    names = ResourceNames("facts", account, region)
    code = f"s3://{names.bucket(BucketKind.CODE)}/pipelines/steps/0123456789abcdef"
    return {
        "pipeline_name": names.pipeline("model"),
        "region": region,
        "role_arn": f"arn:aws:iam::{account}:role/cdk-placeholder-execution-role",
        "default_bucket": names.bucket(BucketKind.ARTIFACTS),
        "input_data_uri": training_data_uri(names.bucket(BucketKind.DATASETS), "model"),
        "model_package_group_name": names.model_package_group("model"),
        "kms_key_arn": f"arn:aws:kms:{region}:{account}:key/cdk-placeholder-workload-key",
        "subnet_ids": ("subnet-0cdc0ffee00000000", "subnet-0cdc0ffee00000001"),
        "security_group_ids": ("sg-0cdc0ffee0000000f",),
        "code_uris": StepCodeUris(
            preprocess=f"{code}/preprocess.py", evaluate=f"{code}/evaluate.py"
        ),
    }


def generate(*, builds: bool = True) -> dict[str, Any]:
    """The facts from the installed packages (``builds=False``: ``unbuildable`` left out)."""
    from platform_config.value_types import REGION_SHAPE

    regions = region_facts()
    accepted = instance_type_facts()
    facts: dict[str, Any] = {
        "_comment": [
            "Facts about AWS that the configuration checks (platform_config/aws_facts.py).",
            "Generated by `python -m scripts.regenerate_aws_facts` from the packages named",
            "in `sources`; do not edit by hand. docs/configuration-errors.md says what each",
            "section holds and where it comes from.",
        ],
        "sources": {name: version(name) for name in ("botocore", "cfn-lint", "sagemaker")},
        "regions": regions,
        "instance_types": accepted,
        "regional_offer": regional_offer_facts(accepted),
    }
    if builds:
        configurable = [region for region in regions if REGION_SHAPE.fullmatch(region)]
        facts["unbuildable"] = unbuildable_facts(configurable)
    return facts


def render(facts: dict[str, Any]) -> str:
    """JSON with one line per list, so that a review sees which region or type changed."""
    text = json.dumps(facts, indent=1, sort_keys=False)
    # Collapse each list of strings onto one line.
    return (
        re.sub(
            r"\[\n\s+((?:\"[^\"\n]*\",?\n\s+)*\"[^\"\n]*\")\n\s+\]",
            lambda match: "[" + re.sub(r",\n\s+", ", ", match.group(1)) + "]",
            text,
        )
        + "\n"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the file is current")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.check:
        current = FACTS_FILE.read_text(encoding="utf-8") == text
        print(f"{FACTS_FILE.relative_to(REPO)}: {'current' if current else 'OUT OF DATE'}")
        return 0 if current else 1
    FACTS_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {FACTS_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""AWS's rules as code (``aws_rules``): every environment passes them, and each rule finds the
mistake it is written for, on a small template written for the test.

The defects of issue 11 each have a test here (template level) or in
``tests/test_serving_config.py`` (configuration level): 1 (shadow beside two production
variants), 2 (EventBridge dead-letter queues and their key), 3 (``ALL_AT_ONCE`` without a wait
interval), 7 (List calls granted on ARNs), 8 (``kms:CreateGrant`` of the endpoint updater),
9 (rules without a target), 10 (GPU with a CPU image).
"""

from __future__ import annotations

from typing import Any

import pytest

from aws_rules import AssemblyReport, check_stacks
from aws_rules.cloud_assembly import read_assembly
from tests.aws_rules_templates import (
    ACCOUNT,
    GPU,
    NEURON,
    REGION,
    XGBOOST,
    allow,
    key,
    model,
    pipeline,
    resource,
    role,
    service_may_use_key,
    stack,
    training_step,
    variant,
)
from tests.conftest import ENVIRONMENTS, SynthesizedPlatform

#: Findings of defects 4 and 6 of issue 11, which the images branch fixes (not this one):
#: (environment, rule, resource without the stage). Exact, so that a new finding fails, and
#: so does one fixed: the lead empties this when merging that branch.


def _report(platform: SynthesizedPlatform) -> AssemblyReport:
    return check_stacks(read_assembly(platform.outdir))


def _rules(report: AssemblyReport, rule: str) -> list[str]:
    return [f.message for f in report.findings if f.rule == rule]


# --- every environment ---------------------------------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_environment_passes_aws_rules_with_non_trivial_counts(
    platforms: dict[str, SynthesizedPlatform], env_name: str
) -> None:
    report = _report(platforms[env_name])
    found = {(env_name, f.rule, f.resource.split("/", 1)[1]) for f in report.findings}
    assert found == set(), report.findings
    assert report.requests.checked >= 50  # resources and pipeline steps
    assert report.api_rules.checked >= 25
    assert report.deliveries.checked >= 30
    assert report.iam_actions.checked >= 250


def test_no_platform_function_creates_endpoint_configs_cloudformation_does(
    sandbox: SynthesizedPlatform,
) -> None:
    """Releases go through CloudFormation (docs/releases.md): no function of the platform
    calls CreateEndpointConfig, so SM010 (the caller may create grants on the endpoint's
    key; its unit test is test_sm010_endpoint_updater_without_create_grant_on_the_key) has
    no caller in the templates to check."""
    from aws_rules.api_rules import Assembly, sm010_endpoint_callers_may_grant_on_the_key
    from aws_rules.resolve import Resolver

    verdicts = list(
        sm010_endpoint_callers_may_grant_on_the_key(
            Assembly(Resolver(read_assembly(sandbox.outdir)))
        )
    )
    assert verdicts == []


# --- SageMaker requests (botocore) ---------------------------------------------------------


def _endpoint(routing: dict[str, Any]) -> dict[str, Any]:
    return resource(
        "AWS::SageMaker::Endpoint",
        EndpointConfigName="config",
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing},
        },
    )


def test_all_at_once_without_wait_interval_is_rejected_by_botocore_and_sm009() -> None:
    # Issue 11 defect 3.
    report = check_stacks([stack({"Endpoint": _endpoint({"Type": "ALL_AT_ONCE"})})])
    assert any("WaitIntervalInSeconds" in m for m in _rules(report, "SMV"))
    assert _rules(report, "SM009") == ["ALL_AT_ONCE traffic routing without WaitIntervalInSeconds"]
    fixed = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
    assert check_stacks([stack({"Endpoint": _endpoint(fixed)})]).findings == ()


def test_a_misspelt_property_and_a_wrong_enum_are_request_errors() -> None:
    config = resource(
        "AWS::SageMaker::EndpointConfig",
        ProductionVariants=[{**variant("a", "ml.m5.huge"), "InitialInstanceCont": 1}],
    )
    resources = {"Role": role(), "Model": model(image=XGBOOST), "Config": config}
    messages = _rules(check_stacks([stack(resources)]), "SMV")
    assert any(
        'Unknown parameter in ProductionVariants[0]: "InitialInstanceCont"' in m for m in messages
    )
    assert any("'ml.m5.huge'" in m for m in messages)


def test_pipeline_steps_are_validated_with_expressions_as_typed_placeholders() -> None:
    good = pipeline(training_step())
    resources = {"Role": role(), "Pipeline": good}
    report = check_stacks([stack(resources)])
    assert report.findings == ()
    assert report.requests.checked == 2  # CreatePipeline and the step's CreateTrainingJob
    bad = pipeline(training_step(StoppingCondition={"MaxRuntimeInSeconds": "an hour"}))
    messages = _rules(check_stacks([stack({"Role": role(), "Pipeline": bad})]), "SMV")
    assert any(
        "step Train" in f.resource and "MaxRuntimeInSeconds" in f.message
        for f in check_stacks([stack({"Role": role(), "Pipeline": bad})]).findings
    ), messages


def test_intrinsics_resolve_across_stacks_and_within_a_template() -> None:
    exporting = stack(
        {"Role": role()},
        name="exporting",
        outputs={"RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}, "Export": {"Name": "x"}}},
    )
    importing = stack(
        {
            "Model": resource(
                "AWS::SageMaker::Model",
                ExecutionRoleArn={"Fn::ImportValue": "x"},
                PrimaryContainer={
                    "Image": {"Fn::Sub": "141502667606.dkr.ecr.${AWS::Region}.amazonaws.com/x:1"},
                    "Environment": {
                        "A": {"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]},
                        "B": {"Fn::If": ["IsProd", "p", "n"]},
                        "C": {"Ref": "Bucket"},
                    },
                },
            )
        },
        name="importing",
        parameters={"Bucket": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/b"}},
        conditions={"IsProd": {"Fn::Equals": ["a", "b"]}},
    )
    from aws_rules.resolve import Resolver

    resolver = Resolver([exporting, importing])
    at = next(resolver.resources("AWS::SageMaker::Model"))
    properties = resolver.resolve(at.stack, at.properties)
    assert properties["ExecutionRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    assert resolver.origin(properties["ExecutionRoleArn"]).logical_id == "Role"
    container = properties["PrimaryContainer"]
    assert container["Image"] == f"141502667606.dkr.ecr.{REGION}.amazonaws.com/x:1"
    assert container["Environment"] == {"A": "b", "B": "n", "C": "{{resolve:ssm:/b}}"}
    assert check_stacks([exporting, importing]).requests.findings == ()


# --- API rules -------------------------------------------------------------------------------


def _config(*production: dict, shadow: list[dict] | None = None, **properties: Any) -> dict:
    extra = {"ShadowProductionVariants": shadow} if shadow else {}
    return resource(
        "AWS::SageMaker::EndpointConfig",
        ProductionVariants=list(production),
        **extra,
        **properties,
    )


def _serving(config: dict, **models: dict) -> list:
    return [
        stack({"Role": role(), **(models or {"Model": model(image=XGBOOST)}), "Config": config})
    ]


def test_sm001_shadow_beside_two_production_variants() -> None:
    # Issue 11 defect 1 (the configuration rejects it first: tests/test_serving_config.py).
    bad = _config(variant("a"), variant("b"), shadow=[variant("s")])
    assert _rules(check_stacks(_serving(bad)), "SM001") == [
        "2 production and 1 shadow variants; with shadow variants the API allows exactly one of each"
    ]
    good = _config(variant("a"), shadow=[variant("s")])
    assert _rules(check_stacks(_serving(good)), "SM001") == []


def test_sm002_async_with_a_shadow_or_serverless() -> None:
    async_config = {"OutputConfig": {"S3OutputPath": "s3://b/out"}}
    shadow = _config(variant("a"), shadow=[variant("s")], AsyncInferenceConfig=async_config)
    assert _rules(check_stacks(_serving(shadow)), "SM002") == [
        "asynchronous inference with shadow variants"
    ]
    serverless = {"VariantName": "a", "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]}}
    serverless["ServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 1}
    bad = _config(serverless, AsyncInferenceConfig=async_config)
    assert _rules(check_stacks(_serving(bad)), "SM002") == [
        "asynchronous inference on a serverless variant"
    ]


def test_sm003_serverless_with_capture_key_vpc_and_isolation() -> None:
    serverless = {
        "VariantName": "a",
        "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1},
    }
    config = _config(
        serverless,
        KmsKeyId="alias/k",
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 10,
            "DestinationS3Uri": "s3://b/c",
            "CaptureOptions": [{"CaptureMode": "Input"}],
        },
    )
    isolated = model(
        image=XGBOOST,
        EnableNetworkIsolation=True,
        VpcConfig={"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
    )
    (message,) = _rules(check_stacks(_serving(config, Model=isolated)), "SM003")
    assert message == (
        "serverless with data capture, KmsKeyId, a VpcConfig on its model,"
        " network isolation on its model"
    )
    plain = _config({**serverless})
    assert _rules(check_stacks(_serving(plain)), "SM003") == []


def test_sm004_volume_key_on_local_nvme_storage() -> None:
    bad = _config(variant("a", "ml.g5.xlarge"), KmsKeyId="alias/k")
    models = {"Model": model(image=GPU)}
    assert _rules(check_stacks(_serving(bad, **models)), "SM004") == [
        "KmsKeyId with ml.g5.xlarge, which has local NVMe storage"
    ]
    good = _config(variant("a", "ml.g5.xlarge"))
    assert _rules(check_stacks(_serving(good, **models)), "SM004") == []


def test_sm005_inferentia_without_a_neuron_image() -> None:
    config = _config(variant("a", "ml.inf2.xlarge"))
    (message,) = _rules(check_stacks(_serving(config, Model=model(image=GPU))), "SM005")
    assert message.startswith("ml.inf2.xlarge serves") and "not a NEURON image" in message
    assert _rules(check_stacks(_serving(config, Model=model(image=NEURON))), "SM005") == []


def _registered(group: str, image: str, supported: list[str]) -> dict[str, Any]:
    """A pipeline registering a package of ``image`` into ``group``, and the package-version
    custom resource the serving stack resolves it through."""
    step = {
        "Name": "RegisterModel",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": group,
            "InferenceSpecification": {
                "Containers": [{"Image": image, "ModelDataUrl": {"Get": "Steps.Train.X"}}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
                "SupportedRealtimeInferenceInstanceTypes": supported,
            },
            "ModelApprovalStatus": "PendingManualApproval",
        },
    }
    return {
        "Pipeline": pipeline(step),
        "Package": resource(
            "Custom::ModelPackageVersion",
            ServiceToken="arn:aws:lambda:eu-west-1:111111111111:function:f",
            ModelPackageGroupName=group,
            ModelVersion="latest",
        ),
        "Model": model(package_of="Package"),
    }


def test_sm006_gpu_serving_the_xgboost_package_registered_by_a_pipeline() -> None:
    # Issue 11 defect 10, with the image in the package a pipeline registers.
    served = _registered("g", XGBOOST, ["ml.g5.xlarge"])
    config = _config(variant("a", "ml.g5.xlarge"))
    report = check_stacks([stack({"Role": role(), **served, "Config": config})])
    assert _rules(report, "SM006") == [f"ml.g5.xlarge serves {XGBOOST}, not a GPU image"]
    on_cpu = _config(variant("a", "ml.m5.large"))
    served = _registered("g", XGBOOST, ["ml.m5.large"])
    assert (
        check_stacks([stack({"Role": role(), **served, "Config": on_cpu})]).api_rules.findings == ()
    )


def test_sm007_instance_type_the_package_does_not_support() -> None:
    served = _registered("g", XGBOOST, ["ml.m5.large", "ml.m5.xlarge"])
    config = _config(variant("a", "ml.c6i.xlarge"))
    report = check_stacks([stack({"Role": role(), **served, "Config": config})])
    assert _rules(report, "SM007") == [
        "ml.c6i.xlarge is not among the package's supported types (ml.m5.large, ml.m5.xlarge)"
    ]


def test_sm008_isolated_training_that_fetches_its_code() -> None:
    source = "s3://jumpstart/sourcedir.tar.gz"
    step = training_step(
        HyperParameters={"sagemaker_submit_directory": source},
        EnableNetworkIsolation=True,
    )
    report = check_stacks([stack({"Role": role(), "Pipeline": pipeline(step)})])
    assert _rules(report, "SM008") == [f"network isolation, but the container fetches {source}"]
    channel = {
        "ChannelName": "code",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
    }
    with_code = training_step(
        HyperParameters={"sagemaker_submit_directory": source},
        EnableNetworkIsolation=True,
        InputDataConfig=[channel],
    )
    report = check_stacks([stack({"Role": role(), "Pipeline": pipeline(with_code)})])
    assert _rules(report, "SM008") == []


def _updater_and_keyed_endpoint(*statements: dict[str, Any]) -> dict[str, Any]:
    endpoint_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/*"
    return {
        "Role": role(),
        "Model": model(image=XGBOOST),
        "Key": key(),
        "Config": _config(variant("a"), KmsKeyId={"Fn::GetAtt": ["Key", "Arn"]}),
        "Endpoint": resource(
            "AWS::SageMaker::Endpoint",
            EndpointName="e",
            EndpointConfigName={"Fn::GetAtt": ["Config", "EndpointConfigName"]},
        ),
        "Updater": role(
            allow(["sagemaker:UpdateEndpoint", "sagemaker:CreateEndpoint"], endpoint_arn),
            *statements,
            service="lambda.amazonaws.com",
        ),
    }


def test_sm010_endpoint_updater_without_create_grant_on_the_key() -> None:
    # Issue 11 defect 8.
    report = check_stacks([stack(_updater_and_keyed_endpoint())])
    assert _rules(report, "SM010") == [
        "may update the endpoint but not kms:CreateGrant on Test/test-stack/Key"
    ]
    grant = allow(["kms:CreateGrant", "kms:DescribeKey"], {"Fn::GetAtt": ["Key", "Arn"]})
    grant["Condition"] = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    report = check_stacks([stack(_updater_and_keyed_endpoint(grant))])
    assert _rules(report, "SM010") == []


def test_evb001_rule_without_a_target() -> None:
    # Issue 11 defect 9.
    pattern = {"source": ["aws.sagemaker"]}
    report = check_stacks([stack({"Rule": resource("AWS::Events::Rule", EventPattern=pattern)})])
    assert _rules(report, "EVB001") == ["an EventBridge rule without a target"]


# --- service deliveries ----------------------------------------------------------------------


def _rule_with_dead_letter_queue(key_statements: list[dict[str, Any]]) -> dict[str, Any]:
    queue_arn = {"Fn::GetAtt": ["Queue", "Arn"]}
    queue_policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]}}},
            }
        ]
    }
    target = {
        "Arn": "arn:aws:lambda:eu-west-1:111111111111:function:f",
        "Id": "t",
        "DeadLetterConfig": {"Arn": queue_arn},
    }
    return {
        "Key": key(*key_statements),
        "Queue": resource("AWS::SQS::Queue", KmsMasterKeyId={"Fn::GetAtt": ["Key", "Arn"]}),
        "QueuePolicy": resource(
            "AWS::SQS::QueuePolicy", Queues=[{"Ref": "Queue"}], PolicyDocument=queue_policy
        ),
        "Rule": resource("AWS::Events::Rule", EventPattern={"source": ["x"]}, Targets=[target]),
    }


def test_dead_letter_queue_whose_key_eventbridge_cannot_use() -> None:
    # Issue 11 defect 2.
    report = check_stacks([stack(_rule_with_dead_letter_queue([]))])
    (message,) = _rules(report, "DLV")
    assert "key policy of Test/test-stack/Key does not allow events.amazonaws.com" in message
    pinned = service_may_use_key(
        "events.amazonaws.com",
        StringEquals={"aws:SourceAccount": ACCOUNT},
        ArnLike={"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/*"},
    )
    assert check_stacks([stack(_rule_with_dead_letter_queue([pinned]))]).findings == ()
    other_account = service_may_use_key(
        "events.amazonaws.com", StringEquals={"aws:SourceAccount": "999999999999"}
    )
    report = check_stacks([stack(_rule_with_dead_letter_queue([other_account]))])
    assert len(_rules(report, "DLV")) == 1


def _alarm_to_topic(topic_policy: bool, key_statements: list[dict[str, Any]]) -> dict[str, Any]:
    resources = {
        "Key": key(*key_statements),
        "Topic": resource("AWS::SNS::Topic", KmsMasterKeyId={"Fn::GetAtt": ["Key", "Arn"]}),
        "Alarm": resource(
            "AWS::CloudWatch::Alarm",
            AlarmActions=[{"Ref": "Topic"}],
            MetricName="m",
            Namespace="n",
            ComparisonOperator="GreaterThanThreshold",
            EvaluationPeriods=1,
            Threshold=1,
        ),
    }
    if topic_policy:
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": "Topic"},
        }
        resources["TopicPolicy"] = resource(
            "AWS::SNS::TopicPolicy",
            Topics=[{"Ref": "Topic"}],
            PolicyDocument={"Statement": [statement]},
        )
    return resources


def test_alarm_topic_needs_its_policy_and_its_key_to_allow_cloudwatch() -> None:
    report = check_stacks([stack(_alarm_to_topic(False, []))])
    messages = _rules(report, "DLV")
    assert len(messages) == 2
    assert "does not allow cloudwatch.amazonaws.com sns:Publish" in messages[0]
    assert "key policy" in messages[1]
    key_use = service_may_use_key("cloudwatch.amazonaws.com")
    assert check_stacks([stack(_alarm_to_topic(True, [key_use]))]).findings == ()


def test_server_access_logs_into_a_kms_encrypted_bucket_or_without_its_policy() -> None:
    kms = {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
        ]
    }
    resources = {
        "Logs": resource("AWS::S3::Bucket", BucketName="logs", BucketEncryption=kms),
        "Data": resource(
            "AWS::S3::Bucket",
            BucketName="data",
            LoggingConfiguration={"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": "d/"},
        ),
    }
    messages = _rules(check_stacks([stack(resources)]), "DLV")
    assert any("does not allow logging.s3.amazonaws.com s3:PutObject" in m for m in messages)
    assert any("SSE-KMS" in m for m in messages)


def test_log_group_key_must_let_cloudwatch_logs_use_it() -> None:
    group = resource("AWS::Logs::LogGroup", KmsKeyId={"Fn::GetAtt": ["Key", "Arn"]})
    report = check_stacks([stack({"Key": key(), "Group": group})])
    (message,) = _rules(report, "DLV")
    assert f"does not allow logs.{REGION}.amazonaws.com kms:Encrypt" in message
    logs = service_may_use_key(
        f"logs.{REGION}.amazonaws.com",
        ArnLike={
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
        },
    )
    logs["Action"] = ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"]
    assert check_stacks([stack({"Key": key(logs), "Group": group})]).findings == ()


def test_async_notifications_go_through_the_model_role() -> None:
    topic = resource("AWS::SNS::Topic", KmsMasterKeyId={"Fn::GetAtt": ["Key", "Arn"]})
    async_config = {
        "OutputConfig": {
            "S3OutputPath": "s3://b/out",
            "NotificationConfig": {"SuccessTopic": {"Ref": "Topic"}},
        }
    }
    config = _config(variant("a"), AsyncInferenceConfig=async_config)
    resources = {"Key": key(), "Topic": topic, "Model": model(image=XGBOOST), "Config": config}
    report = check_stacks([stack({**resources, "Role": role()})])
    messages = _rules(report, "DLV")
    assert any("is not allowed sns:Publish" in m for m in messages), messages
    may = role(
        allow("sns:Publish", {"Ref": "Topic"}),
        allow(["kms:GenerateDataKey*", "kms:Decrypt"], {"Fn::GetAtt": ["Key", "Arn"]}),
    )
    assert check_stacks([stack({**resources, "Role": may})]).deliveries.findings == ()


# --- IAM resource levels ---------------------------------------------------------------------


def test_list_calls_granted_on_domain_arns_grant_nothing() -> None:
    # Issue 11 defect 7.
    domain = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/d-1"
    bad = role(allow(["sagemaker:ListApps", "sagemaker:DescribeDomain"], [domain]))
    assert _rules(check_stacks([stack({"Role": bad})]), "IAM") == [
        f"sagemaker:ListApps supports only Resource '*', not {domain}"
    ]
    good = role(allow("sagemaker:ListApps", "*"), allow("sagemaker:DescribeDomain", domain))
    assert check_stacks([stack({"Role": good})]).findings == ()


def test_iam_checks_resource_types_wildcards_and_unknown_actions() -> None:
    bucket = "arn:aws:s3:::b"
    grants = role(
        allow(["s3:GetObject*", "s3:List*"], [bucket, f"{bucket}/*"]),  # CDK's grant_read
        allow("sagemaker:CreateEndpointConfig", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/x"),
        allow("sagemaker:CreateEndpointConfg", "arn:aws:sagemaker:*:*:*"),
    )
    messages = _rules(check_stacks([stack({"Role": grants})]), "IAM")
    assert messages == [
        (
            "sagemaker:CreateEndpointConfig acts on none of the resource types of"
            f" arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/x"
        ),
        "sagemaker:CreateEndpointConfg is not an action of the Service Authorization Reference",
    ]

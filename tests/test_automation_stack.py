"""The automation stack: the retraining trigger, its rules, retries and dead letters."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from stacks.lambda_packages import function_package
from tests.conftest import SynthesizedPlatform


def _automation(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.automation)


def _function(template: Template) -> dict[str, Any]:
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "retraining_trigger.lambda_handler"}}
    )
    assert len(functions) == 1
    return next(iter(functions.values()))["Properties"]  # type: ignore[no-any-return]


def test_trigger_runs_python_on_arm_in_the_vpc_with_tracing_and_reserved_concurrency(
    sandbox: SynthesizedPlatform,
) -> None:
    function = _function(_automation(sandbox))
    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "retraining_trigger.lambda_handler"
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["ReservedConcurrentExecutions"] == 2
    assert len(function["VpcConfig"]["SubnetIds"]) == 2
    assert "KmsKeyArn" in function
    assert "DeadLetterConfig" in function


def test_trigger_environment_does_not_grow_with_the_catalogue(sandbox: SynthesizedPlatform) -> None:
    environment = _function(_automation(sandbox))["Environment"]["Variables"]
    assert environment["EXPECTED_ACCOUNT_ID"] == "111111111111"
    assert environment["NAME_PREFIX"] == "ml-platform-sandbox"
    assert environment["DATASET_BUCKET_NAME"] == "mlp-sandbox-111111111111-eu-west-1-datasets"
    assert set(environment) == {
        "NAME_PREFIX",
        "EXPECTED_ACCOUNT_ID",
        "IDEMPOTENCY_TABLE_NAME",
        "DATASET_BUCKET_NAME",
        "ARRIVALS_QUEUE_URL",
        "DEAD_LETTER_QUEUE_URL",
        "POWERTOOLS_SERVICE_NAME",
    }


def test_trigger_may_start_only_this_environments_pipelines(sandbox: SynthesizedPlatform) -> None:
    policies = _automation(sandbox).find_resources("AWS::IAM::Policy")
    statements = [
        s
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sagemaker:StartPipelineExecution"
    ]
    assert len(statements) == 1
    assert statements[0]["Resource"] == (
        "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/ml-platform-sandbox-*"
    )


def test_trigger_may_list_packages_to_know_whether_a_version_is_approved(
    sandbox: SynthesizedPlatform,
) -> None:
    policies = _automation(sandbox).find_resources("AWS::IAM::Policy")
    actions = [
        action
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Resource") == "*"
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert actions.count("sagemaker:ListModelPackages") == 1


def test_violation_rule_targets_the_trigger_with_retries_and_the_dead_letter_queue(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _automation(sandbox)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Processing Job State Change"],
                "detail": {
                    "ProcessingJobStatus": ["Completed"],
                    "ExitMessage": [{"prefix": "CompletedWithViolations"}],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {
                            "Fn::GetAtt": [Match.string_like_regexp("^RetrainingTrigger"), "Arn"]
                        },
                        "RetryPolicy": {
                            "MaximumRetryAttempts": 4,
                            "MaximumEventAgeInSeconds": 7200,
                        },
                        "DeadLetterConfig": {
                            "Arn": {
                                "Fn::GetAtt": [
                                    Match.string_like_regexp("^RetrainingTriggerDeadLetterQueue"),
                                    "Arn",
                                ]
                            }
                        },
                    }
                )
            ],
        },
    )


def test_async_failures_are_retried_twice_then_dead_lettered(sandbox: SynthesizedPlatform) -> None:
    _automation(sandbox).has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2}
    )


def test_dead_letter_queue_is_encrypted_and_tls_only(sandbox: SynthesizedPlatform) -> None:
    template = _automation(sandbox)
    template.has_resource_properties(
        "AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value(), "MessageRetentionPeriod": 1209600}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_idempotency_table_matches_what_the_handlers_expect(sandbox: SynthesizedPlatform) -> None:
    _automation(sandbox).has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
        },
    )


def test_new_data_rule_watches_every_models_training_prefix_in_the_datasets_bucket(
    sandbox: SynthesizedPlatform,
) -> None:
    _automation(sandbox).has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": ["mlp-sandbox-111111111111-eu-west-1-datasets"]},
                    "object": {"key": [{"wildcard": "*/training/*"}]},
                },
            }
        },
    )


def test_arrivals_queue_feeds_the_trigger_reporting_batch_item_failures(
    sandbox: SynthesizedPlatform,
) -> None:
    _automation(sandbox).has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {
                "Fn::GetAtt": [Match.string_like_regexp("^RetrainingArrivals"), "Arn"]
            },
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_datasets_bucket_announces_new_objects_on_eventbridge(
    sandbox: SynthesizedPlatform,
) -> None:
    bucket = sandbox.template(sandbox.platform.data).find_resources("AWS::S3::Bucket")[
        "Datasets0030EE04"
    ]["Properties"]
    assert bucket["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_function_package_holds_the_handler_and_powertools_but_no_tests() -> None:
    package = function_package("retraining_trigger")
    names = {path.relative_to(package).parts[0] for path in package.rglob("*")}
    assert {
        "retraining_trigger.py",
        "trigger_settings.py",
        "trigger_events.py",
        "arrivals.py",
        "pipeline_starts.py",
        "automation_runtime.py",
        "platform_contracts",
        "aws_lambda_powertools",
        "jmespath",
    } <= names
    assert "tests" not in names and "conftest.py" not in names
    assert not list(package.rglob("__pycache__"))


def _deployment(template: Template) -> dict[str, Any]:
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "model_deployment.lambda_handler"}}
    )
    assert len(functions) == 1
    return next(iter(functions.values()))["Properties"]  # type: ignore[no-any-return]


def test_drift_alarm_rule_listens_for_the_environments_drift_alarms(
    sandbox: SynthesizedPlatform,
) -> None:
    _automation(sandbox).has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {
                    "alarmName": [{"wildcard": "ml-platform-sandbox-*-drift"}],
                    "state": {"value": ["ALARM"]},
                },
            }
        },
    )


def test_approvals_of_served_models_invoke_the_deployment_function(
    sandbox: SynthesizedPlatform,
) -> None:
    template = _automation(sandbox)
    rules = template.find_resources(
        "AWS::Events::Rule",
        {"Properties": {"EventPattern": {"detail-type": ["SageMaker Model Package State Change"]}}},
    )
    assert len(rules) == 1
    rule = next(iter(rules.values()))["Properties"]
    groups = rule["EventPattern"]["detail"]["ModelPackageGroupName"]
    assert "ml-platform-sandbox-churn-prediction" in groups
    assert "ml-platform-sandbox-lead-scoring" not in groups  # batch: no endpoint to update
    assert rule["EventPattern"]["detail"]["ModelApprovalStatus"] == ["Approved", "Rejected"]
    target = rule["Targets"][0]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 7200}
    assert "DeadLetterConfig" in target


def test_deployment_function_rolls_out_with_each_endpoints_guardrails(
    sandbox: SynthesizedPlatform,
) -> None:
    function = _deployment(_automation(sandbox))
    assert function["ReservedConcurrentExecutions"] == 1
    variables = function["Environment"]["Variables"]
    assert variables["BASELINES_URI"] == (
        "s3://mlp-sandbox-111111111111-eu-west-1-reports/baselines"
    )
    text = json.dumps(variables["DEPLOYMENT_MODELS"])
    for expected in (
        '\\"variant_names\\":[\\"champion\\"]',
        '\\"strategy\\":\\"canary\\"',
        '\\"canary_percent\\":10',
        "rollback_alarm_names",
    ):
        assert expected in text, expected


def test_deployment_function_passes_only_the_endpoint_roles_to_sagemaker(
    sandbox: SynthesizedPlatform,
) -> None:
    policies = _automation(sandbox).find_resources("AWS::IAM::Policy")
    passes = [
        s
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "iam:PassRole"
    ]
    assert len(passes) == 1
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert "*" not in json.dumps(passes[0]["Resource"])

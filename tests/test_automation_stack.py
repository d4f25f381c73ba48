"""The automation stack: the retraining trigger, its rules, retries and dead letters."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from aws_cdk.assertions import Match, Template

from stacks.lambda_packages import function_package
from tests.conftest import (
    SynthesizedPlatform,
    automation_template,
    registry_template,
    resources_of_type,
    settings_document,
)


def _automation(platform: SynthesizedPlatform) -> Template:
    return platform.template(platform.platform.automation)


def _function(template: Template, handler: str = "retraining_trigger") -> dict[str, Any]:
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": f"{handler}.lambda_handler"}}
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


def _statements(platform: SynthesizedPlatform, action: str) -> list[dict[str, Any]]:
    """Every statement of the automation stack's policies that allows ``action``."""
    return [
        statement
        for policy in _automation(platform).find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if action
        in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]


def _rule(platform: SynthesizedPlatform, detail_type: str) -> dict[str, Any]:
    """Properties of the one automation rule for events of ``detail_type``."""
    (rule,) = [
        r["Properties"]
        for r in automation_template(platform)["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and r["Properties"].get("EventPattern", {}).get("detail-type") == [detail_type]
        and "ProcessingJobStatus" not in json.dumps(r["Properties"]["EventPattern"])
    ]
    return rule  # type: ignore[no-any-return]


def test_approvals_in_every_models_group_invoke_the_release_automation(
    platforms: dict[str, SynthesizedPlatform],
) -> None:
    sandbox = platforms["sandbox"]
    rule = _rule(sandbox, "SageMaker Model Package State Change")
    (group_pattern,) = rule["EventPattern"]["detail"]["ModelPackageGroupName"]

    def groups(platform: SynthesizedPlatform) -> list[str]:
        return [
            group["Properties"]["ModelPackageGroupName"]
            for group in resources_of_type(platform, "AWS::SageMaker::ModelPackageGroup").values()
        ]

    assert len(groups(sandbox)) == len(sandbox.config.models)
    for name in groups(sandbox):  # batch-served models are released too
        assert name.startswith(group_pattern["prefix"]), name
    for name in groups(platforms["prod"]):
        assert not name.startswith(group_pattern["prefix"]), name
    assert rule["EventPattern"]["detail"]["ModelApprovalStatus"] == ["Approved", "Rejected"]
    (target,) = rule["Targets"]
    release_automation = _automation(sandbox).find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "release_automation.lambda_handler"}}
    )
    assert target["Arn"] == {"Fn::GetAtt": [*release_automation, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 7200}
    assert "DeadLetterConfig" in target


def test_release_automation_updates_only_model_stacks_and_never_an_endpoint(
    sandbox: SynthesizedPlatform,
) -> None:
    function = _function(_automation(sandbox), "release_automation")
    variables = function["Environment"]["Variables"]
    assert variables["NAME_PREFIX"] == sandbox.config.name_prefix
    for model in sandbox.config.models:
        assert model.name not in json.dumps(variables)
    role = function["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in _automation(sandbox).find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        action
        for statement in statements
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    # CloudFormation rolls a release out with the endpoint's own guardrails.
    assert not {a for a in actions if "Endpoint" in a}
    (update,) = [s for s in statements if "cloudformation:UpdateStack" in s["Action"]]
    (stacks_pattern,) = [update["Resource"]]
    arn = "arn:aws:cloudformation:eu-west-1:111111111111:stack/"
    for stack in sandbox.platform.stacks:
        updatable = fnmatchcase(f"{arn}{stack.stack_name}/0c0ffee0", stacks_pattern)
        is_model_stack = any(pair.model is stack for pair in sandbox.platform.models.values())
        assert updatable is is_model_stack, stack.stack_name
    for model in sandbox.config.models:
        release = settings_document(sandbox, model.name).release
        if release is not None:
            assert release.stack_name == sandbox.model(model.name).model.stack_name


def test_release_automation_passes_only_the_deployment_role_to_cloudformation(
    sandbox: SynthesizedPlatform,
) -> None:
    passes = _statements(sandbox, "iam:PassRole")
    assert len(passes) == 1
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
    }
    assert passes[0]["Resource"] == (
        "arn:aws:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-eu-west-1"
    )


def test_release_records_are_created_by_the_provider_and_written_by_the_automation_only(
    sandbox: SynthesizedPlatform,
) -> None:
    records = "arn:aws:ssm:eu-west-1:111111111111:parameter/ml-platform-sandbox/releases/*"
    writers = _statements(sandbox, "ssm:PutParameter")
    assert {json.dumps(w["Resource"]) for w in writers} == {json.dumps(records)}
    # The deploy-time provider may only create a record, never overwrite one.
    conditions = sorted(json.dumps(w.get("Condition")) for w in writers)
    assert conditions == sorted(
        [json.dumps({"StringEquals": {"ssm:Overwrite": "false"}}), json.dumps(None)]
    )
    for model in sandbox.config.models:
        for record in registry_template(sandbox, model.name)["Resources"].values():
            if record["Type"] == "Custom::ReleaseRecord":
                name = record["Properties"]["ParameterName"]
                assert fnmatchcase(f"arn:aws:ssm:eu-west-1:111111111111:parameter{name}", records)


#: Stateful resources of the automation stack: the alert topic every alarm notifies and its
#: key, the table of handled events, and the queues that hold work (retries, arrivals,
#: dead letters). A refactor must not replace them.
PINNED_LOGICAL_IDS = {
    "Alerts91F83244": "AWS::SNS::Topic",
    "AlertsKey9E1197AF": "AWS::KMS::Key",
    "IdempotencyTable22A5A209": "AWS::DynamoDB::GlobalTable",
    "ReleasesRetryQueue6272E9C1": "AWS::SQS::Queue",
    "RetrainingArrivalsQueue7F34B42B": "AWS::SQS::Queue",
    "ReleaseAutomationDeadLetterQueue80EBF829": "AWS::SQS::Queue",
    "RetrainingTriggerDeadLetterQueueF4E9F7B0": "AWS::SQS::Queue",
}


def test_stateful_logical_ids_are_pinned(platforms: dict[str, SynthesizedPlatform]) -> None:
    for name, platform in platforms.items():
        resources = automation_template(platform)["Resources"]
        found = {key: resources[key]["Type"] for key in PINNED_LOGICAL_IDS if key in resources}
        assert found == PINNED_LOGICAL_IDS, name

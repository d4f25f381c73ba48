"""The EventBridge wiring of every environment, derived from its synthesized templates.

For every ``AWS::Events::Rule`` of every environment (a rule these tests do not know fails
:func:`test_every_rule_of_every_environment_is_one_these_tests_know`): AWS's documented
sample event of the rule's source and detail-type (``tests/events``, each with its page) is
filled with names read from the templates (monitoring schedules, alarms, buckets, package
groups, stack ids); the rule's ``EventPattern`` must match the events meant for it, by
moto's EventBridge pattern matcher (``moto.events.models.EventPattern``: ``prefix`` and
``wildcard`` included), and none filled with another environment's names. The matching
events are then given to the target as deployed: a function is built with exactly the
environment variables its template gives it, against moto holding what the templates
create (``tests/wiring_testbed.py``), and the intended effect is asserted, with nothing in
the function's dead-letter queue; a topic or a pipeline target must be the template's.

The contracts across stacks are checked too: every pipeline parameter the trigger passes is
declared by the model's pipeline, and every schedule, alarm, pipeline, group, stack, table,
queue and bucket a function or a settings document names exists in the templates.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.events.models import EventPattern
from moto.sqs.models import sqs_backends

from platform_contracts.model_settings import ModelSettings
from platform_contracts.retraining import (
    DEFAULT_RUN,
    INPUT_DATA_URI,
    REGISTER_NEW_BASELINE,
    SKIP_DRIFT_CHECK,
    Trigger,
    rule_for,
    training_data_prefix,
    training_data_uri,
)
from tests import event_samples
from tests.conftest import ENVIRONMENTS, SynthesizedPlatform
from tests.wiring_testbed import (
    RELEASE_HANDLER,
    TRIGGER_HANDLER,
    Rule,
    Templates,
    deploy,
    not_permitted,
    pipeline_parameters,
    queue_name,
    record_calls,
)

REPO = Path(__file__).resolve().parent.parent
PROCESSING_JOB = ("aws.sagemaker", "SageMaker Processing Job State Change")
ALARM = ("aws.cloudwatch", "CloudWatch Alarm State Change")
OBJECT_CREATED = ("aws.s3", "Object Created")
PACKAGE = ("aws.sagemaker", "SageMaker Model Package State Change")
STACK = ("aws.cloudformation", "CloudFormation Stack Status Change")
SCHEDULE = ("aws.events", "Scheduled Event")
#: Every kind of rule the platform has: (target, source, detail-type) -> what it is for.
KNOWN_RULES = {
    ("retraining_trigger", *PROCESSING_JOB): "monitoring violation starts retraining",
    ("retraining_trigger", *ALARM): "drift alarm starts retraining",
    ("retraining_trigger", *OBJECT_CREATED): "new training data starts retraining",
    ("release_automation", *PACKAGE): "approval releases a version",
    ("release_automation", *STACK): "a model stack's deployment ends a roll-out",
    ("topic", *PROCESSING_JOB): "failed monitoring execution alerts",
    ("pipeline", *SCHEDULE): "schedule starts the pipeline with its defaults",
}


# --- the templates -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def templates(platforms: dict[str, SynthesizedPlatform]) -> dict[str, Templates]:
    return {name: Templates(platform.outdir) for name, platform in platforms.items()}


def other(env_name: str) -> str:
    """Another environment, whose names a rule of ``env_name`` must not match."""
    return ENVIRONMENTS[(ENVIRONMENTS.index(env_name) + 1) % len(ENVIRONMENTS)]


def target_kind(templates: Templates, rule: Rule) -> str:
    """``retraining_trigger``, ``release_automation``, ``topic``, ``pipeline`` or the ARN."""
    [target] = rule.properties["Targets"]
    origin = templates.origin(target["Arn"])
    if origin is None:
        return str(target["Arn"])
    if origin.type == "AWS::Lambda::Function":
        return str(origin.properties["Handler"]).split(".")[0]
    return {"AWS::SNS::Topic": "topic", "AWS::SageMaker::Pipeline": "pipeline"}.get(
        origin.type, origin.type
    )


def kind_of(templates: Templates, rule: Rule) -> tuple[str, str, str]:
    source, detail_type = rule.key or SCHEDULE
    return target_kind(templates, rule), source, detail_type


def rules_of(templates: Templates, kind: tuple[str, str, str]) -> list[Rule]:
    return [rule for rule in templates.rules if kind_of(templates, rule) == kind]


def matches(rule: Rule, event: dict[str, Any]) -> bool:
    assert rule.pattern is not None
    return EventPattern.load(json.dumps(rule.pattern)).matches_event(event)


def the_rule(env: Templates, other_env: Templates, kind: tuple[str, str, str], events: Any) -> Rule:
    """The environment's one rule of ``kind``, checked against the events of both
    environments (``events(templates)``): it matches some of its own, none of the other's."""
    [rule] = rules_of(env, kind)
    assert any(matches(rule, event) for event in events(env)), rule.label
    foreign = [event for event in events(other_env) if matches(rule, event)]
    assert foreign == [], f"{rule.label} matches another environment's events"
    return rule


# --- names from the templates, and the events they fill --------------------------------------


def schedules(templates: Templates) -> dict[str, str]:
    """Monitoring schedule name -> the endpoint it monitors (from its job definition)."""
    definitions = templates.named(
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelQualityJobDefinition",
        "AWS::SageMaker::ModelBiasJobDefinition",
        "AWS::SageMaker::ModelExplainabilityJobDefinition",
    )
    found = {}
    for _, props in templates.each("AWS::SageMaker::MonitoringSchedule"):
        definition = definitions[props["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]]
        found[str(props["MonitoringScheduleName"])] = _endpoint_of(templates.resolved(definition))
    return found


def _endpoint_of(node: Any) -> str:
    if isinstance(node, dict):
        if isinstance(node.get("EndpointName"), str):
            return node["EndpointName"]
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            with contextlib.suppress(LookupError):
                return _endpoint_of(item)
    raise LookupError("no EndpointName")


def monitoring_events(templates: Templates, status: str = "Completed") -> list[dict[str, Any]]:
    exit_message = (
        "CompletedWithViolations: Job completed successfully with 3 violations."
        if status == "Completed"
        else None
    )
    return [
        event_samples.monitoring_execution(
            account=templates.account,
            region=templates.region,
            schedule=schedule,
            endpoint=endpoint,
            status=status,
            exit_message=exit_message,
        )
        for schedule, endpoint in sorted(schedules(templates).items())
    ]


def alarm_events(templates: Templates) -> list[dict[str, Any]]:
    names = templates.named("AWS::CloudWatch::CompositeAlarm", "AWS::CloudWatch::Alarm")
    return [
        event_samples.alarm_state_change(
            account=templates.account, region=templates.region, alarm=name
        )
        for name in sorted(names)
    ]


def object_events(templates: Templates) -> list[dict[str, Any]]:
    """An object under every model's training prefix, in every bucket of the templates."""
    return [
        event_samples.object_created(
            account=templates.account,
            region=templates.region,
            bucket=bucket,
            key=f"{training_data_prefix(model)}batch-1/part-0.csv",
        )
        for bucket in sorted(templates.named("AWS::S3::Bucket"))
        for model in sorted(templates.settings)
    ]


def package_events(templates: Templates, status: str = "Approved") -> list[dict[str, Any]]:
    return [
        event_samples.package_state_change(
            account=templates.account,
            region=templates.region,
            group=group,
            version=1,
            status=status,
        )
        for group in sorted(templates.named("AWS::SageMaker::ModelPackageGroup"))
    ]


def stack_id(templates: Templates, stack_name: str) -> str:
    return (
        f"arn:aws:cloudformation:{templates.region}:{templates.account}:stack/{stack_name}/"
        f"{uuid.uuid5(uuid.NAMESPACE_URL, stack_name)}"
    )


def stack_events(templates: Templates, status: str = "UPDATE_COMPLETE") -> list[dict[str, Any]]:
    return [
        event_samples.stack_status_change(
            account=templates.account,
            region=templates.region,
            stack_id=stack_id(templates, stack.stack_name),
            status=status,
        )
        for stack in templates.stacks
    ]


# --- the functions, deployed in moto with their template's environment -----------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def moto_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[Templates], contextlib.AbstractContextManager[boto3.Session]]:
    """Deploy an environment's templates to a fresh moto, in its account and region."""

    @contextlib.contextmanager
    def deployed(templates: Templates) -> Iterator[boto3.Session]:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": templates.region,
            "AWS_REGION": templates.region,
            "MOTO_ACCOUNT_ID": templates.account,
            "AWS_LAMBDA_FUNCTION_NAME": "wiring-test",
        }.items():
            monkeypatch.setenv(name, value)
        with mock_aws():
            session = boto3.Session(region_name=templates.region)
            deploy(templates, session)
            yield session

    return deployed


def function_environment(templates: Templates, handler: str) -> dict[str, str]:
    """Exactly the variables the template gives the function, and Lambda's own region."""
    return {**templates.functions[handler].environment, "AWS_REGION": templates.region}


def dead_letters(session: boto3.Session, environ: dict[str, str]) -> list[str]:
    messages = session.client("sqs").receive_message(
        QueueUrl=environ["DEAD_LETTER_QUEUE_URL"], MaxNumberOfMessages=10
    )
    return [m["Body"] for m in messages.get("Messages", [])]


def executions(session: boto3.Session, pipeline: str) -> list[dict[str, str]]:
    """The parameters of each execution of ``pipeline``."""
    sagemaker = session.client("sagemaker")
    summaries = sagemaker.list_pipeline_executions(PipelineName=pipeline)
    return [
        {
            p["Name"]: p["Value"]
            for p in sagemaker.list_pipeline_parameters_for_execution(
                PipelineExecutionArn=summary["PipelineExecutionArn"]
            )["PipelineParameters"]
        }
        for summary in summaries["PipelineExecutionSummaries"]
    ]


@pytest.fixture
def lambda_context() -> Any:
    class Context:
        function_name = "wiring-test"
        function_version = "$LATEST"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:eu-west-1:111111111111:function:wiring-test"
        aws_request_id = "3f7c3e0c-5d1a-4d0e-8f57-6a1b2c3d4e5f"

        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    return Context()


def trigger_in(templates: Templates, session: boto3.Session, clock: Clock) -> Any:
    """The trigger built with its template's environment, on its own session (moto is the
    same); the calls it makes are kept in ``trigger.calls``."""
    import retraining_trigger

    own = boto3.Session(region_name=templates.region)  # the test's own calls are not its
    calls = record_calls(own)
    environ = function_environment(templates, TRIGGER_HANDLER)
    trigger = retraining_trigger.build(environ, session=own, clock=clock)
    trigger.calls = calls
    return trigger


def assert_permitted(templates: Templates, trigger: Any) -> None:
    """Every call the trigger made is one its role, as the template gives it, allows."""
    assert trigger.calls
    function = templates.functions[TRIGGER_HANDLER]
    assert not_permitted(templates, function, trigger.calls) == []


def started_as(
    templates: Templates, model: ModelSettings, trigger: Trigger, approved: bool = False
) -> dict[str, str]:
    """The parameters the contract gives a run of ``model`` started by ``trigger``."""
    bucket = templates.functions[TRIGGER_HANDLER].environment["DATASET_BUCKET_NAME"]
    return rule_for(trigger, has_approved_version=approved).parameters(
        training_data_uri(bucket, model.model)
    )


def retrains_on_drift(templates: Templates) -> dict[str, ModelSettings]:
    return {
        model: document
        for model, (_, document) in templates.settings.items()
        if document.retraining.on_drift
    }


# --- every rule is known -------------------------------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_rule_of_every_environment_is_one_these_tests_know(
    templates: dict[str, Templates], env_name: str
) -> None:
    env = templates[env_name]
    kinds = {rule.label: kind_of(env, rule) for rule in env.rules}
    unknown = {label: kind for label, kind in kinds.items() if kind not in KNOWN_RULES}
    assert unknown == {}, "a new rule needs a wiring test here"
    assert len(kinds) >= 6
    for kind in KNOWN_RULES:
        if kind[0] != "pipeline":
            assert len(rules_of(env, kind)) == 1, kind


# --- retraining: violation, drift alarm, new data -------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_a_monitoring_violation_starts_the_models_pipeline_with_the_contracts_parameters(
    templates: dict[str, Templates], env_name: str, moto_environment: Any, lambda_context: Any
) -> None:
    env = templates[env_name]
    rule = the_rule(
        env, templates[other(env_name)], ("retraining_trigger", *PROCESSING_JOB), monitoring_events
    )
    events = [event for event in monitoring_events(env) if matches(rule, event)]
    assert len(events) == len(schedules(env))  # every schedule's violations reach the trigger
    failed = monitoring_events(env, status="Failed")
    assert not any(matches(rule, event) for event in failed)
    with moto_environment(env) as session:
        trigger = trigger_in(env, session, Clock())
        outcomes = [trigger.handle(event, lambda_context)["outcome"] for event in events]
        assert dead_letters(session, function_environment(env, TRIGGER_HANDLER)) == []
        assert_permitted(env, trigger)
        for model in retrains_on_drift(env).values():
            runs = executions(session, model.pipeline_name)
            watched = model.retraining.monitoring_schedule_names
            assert runs == (
                [started_as(env, model, Trigger.MONITORING_VIOLATION)] if watched else []
            )
    assert set(outcomes) <= {"started", "skipped-cooldown", "ignored"}
    assert "started" in outcomes


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_a_drift_alarm_starts_the_models_pipeline_with_the_contracts_parameters(
    templates: dict[str, Templates], env_name: str, moto_environment: Any, lambda_context: Any
) -> None:
    env = templates[env_name]
    rule = the_rule(env, templates[other(env_name)], ("retraining_trigger", *ALARM), alarm_events)
    events = [event for event in alarm_events(env) if matches(rule, event)]
    named = {doc.retraining.drift_alarm_name for _, doc in env.settings.values()} - {None}
    assert {event["detail"]["alarmName"] for event in events} == named
    ok = alarm_events(env)[0]
    ok["detail"]["state"]["value"] = "OK"
    assert not matches(rule, ok)
    with moto_environment(env) as session:
        trigger = trigger_in(env, session, Clock())
        outcomes = [trigger.handle(event, lambda_context)["outcome"] for event in events]
        assert dead_letters(session, function_environment(env, TRIGGER_HANDLER)) == []
        assert_permitted(env, trigger)
        for model in retrains_on_drift(env).values():
            expected = [started_as(env, model, Trigger.DRIFT_ALARM)]
            has_alarm = model.retraining.drift_alarm_name is not None
            assert executions(session, model.pipeline_name) == (expected if has_alarm else [])
    assert outcomes and set(outcomes) == {"started"}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_new_training_data_starts_one_run_per_model_after_the_quiet_period(
    templates: dict[str, Templates], env_name: str, moto_environment: Any, lambda_context: Any
) -> None:
    env = templates[env_name]
    rule = the_rule(
        env, templates[other(env_name)], ("retraining_trigger", *OBJECT_CREATED), object_events
    )
    environ = function_environment(env, TRIGGER_HANDLER)
    events = [event for event in object_events(env) if matches(rule, event)]
    assert {e["detail"]["bucket"]["name"] for e in events} == {environ["DATASET_BUCKET_NAME"]}
    watching = {
        model: doc for model, (_, doc) in env.settings.items() if doc.retraining.dataset_prefix
    }
    with moto_environment(env) as session:
        clock = Clock()
        trigger = trigger_in(env, session, clock)
        starts = count_starts(trigger)
        for event in events + [dict(event, id=str(uuid.uuid4())) for event in events]:
            trigger.handle(event, lambda_context)
        messages = queued(env, environ["ARRIVALS_QUEUE_URL"])
        assert len(messages) == 2 * len(watching)
        clock.now += max(delay for _, delay in messages)
        queue_arn = (
            f"arn:aws:sqs:{env.region}:{env.account}:{queue_name(environ['ARRIVALS_QUEUE_URL'])}"
        )
        for body, _ in messages:
            result = trigger.handle(
                event_samples.sqs_event(body=body, queue_arn=queue_arn, region=env.region),
                lambda_context,
            )
            assert result == {"batchItemFailures": []}
        assert dead_letters(session, environ) == []
        for model, doc in watching.items():
            runs = executions(session, doc.pipeline_name)
            assert runs == [started_as(env, doc, Trigger.NEW_DATA)], model
        assert sorted(starts) == sorted(watching)  # one start per batch, not one per object
        assert_permitted(env, trigger)
    assert watching, "the sample catalogue retrains a model on new data"


def count_starts(trigger: Any) -> list[str]:
    """The models the trigger asks to start, as it asks (a list that grows)."""
    started: list[str] = []
    start = trigger.starts.start

    def counted(request: Any) -> dict[str, Any]:
        started.append(request.model.model)
        return start(request)  # type: ignore[no-any-return]

    trigger.starts.start = counted
    return started


def queued(templates: Templates, queue_url: str) -> list[tuple[str, int]]:
    """(body, delay) of every message in the queue, delayed or not, from moto's backend (a
    delayed message cannot be received before its time)."""
    queue = sqs_backends[templates.account][templates.region].queues[queue_name(queue_url)]
    return [
        (
            message.body,
            round((message.delayed_until - message.sent_timestamp) / 1000)
            if message.delayed_until
            else 0,
        )
        for message in queue._messages
    ]


# --- releases: approval and the end of a roll-out ---------------------------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_an_approval_requests_a_release_and_the_stacks_deployment_completes_it(
    templates: dict[str, Templates], env_name: str, moto_environment: Any, lambda_context: Any
) -> None:
    env, foreign = templates[env_name], templates[other(env_name)]
    approval = the_rule(env, foreign, ("release_automation", *PACKAGE), package_events)
    stack_rule = the_rule(env, foreign, ("release_automation", *STACK), stack_events)
    served = {model: doc for model, (_, doc) in env.settings.items() if doc.release}
    assert served
    with moto_environment(env) as session:
        automation, cloudformation = release_automation_in(env, session)
        for model, doc in served.items():
            assert doc.release is not None
            event = approve_first_version(env, session, doc)
            assert matches(approval, event)
            outcome = automation.handle(event, lambda_context)
            assert (outcome["outcome"], outcome["stack"]) == ("released", "update-started")
            [_update] = [
                u for u in cloudformation.updates() if u["StackName"] == doc.release.stack_name
            ]
            finished = finish(env, cloudformation, doc.release.stack_name)
            assert matches(stack_rule, finished)
            assert automation.handle(finished, lambda_context)["outcome"] == "in-sync", model
        environ = function_environment(env, RELEASE_HANDLER)
        assert dead_letters(session, environ) == []
    unserved_stacks = [e for e in stack_events(env) if matches(stack_rule, e)]
    assert len(unserved_stacks) == len(env.settings)  # each model stack, no other stack


def release_automation_in(templates: Templates, session: boto3.Session) -> tuple[Any, Any]:
    """The function with its template's environment, and the CloudFormation double holding
    each model stack with the release-record parameters its template declares."""
    import release_automation
    from release_testbed import CloudFormationDouble

    environ = function_environment(templates, RELEASE_HANDLER)
    function = release_automation.build(environ, session=session)
    cloudformation = CloudFormationDouble(session.client("ssm"), account=templates.account)
    for stack in templates.stacks:
        records = {
            key: parameter["Default"]
            for key, parameter in stack.parameters.items()
            if key != "BootstrapVersion"
            and str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value")
        }
        if records:
            added = cloudformation.add_stack(stack.stack_name, records)
            added.stack_id = stack_id(templates, stack.stack_name)
    cloudformation.attach(function.flow.cloudformation)
    return function, cloudformation


def approve_first_version(
    templates: Templates, session: boto3.Session, model: ModelSettings
) -> dict[str, Any]:
    """Register a version as the training pipeline does, approve it, return its event."""
    from release_testbed import register_package

    prefix = templates.functions[RELEASE_HANDLER].environment["NAME_PREFIX"]
    [artifacts] = [b for b in templates.named("AWS::S3::Bucket") if b.endswith("artifacts")]
    sagemaker = session.client("sagemaker")
    arn = register_package(sagemaker, session.client("s3"), model.model, artifacts, prefix)
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    return event_samples.package_state_change(
        account=templates.account,
        region=templates.region,
        group=model.model_package_group_name,
        version=int(arn.rsplit("/", 1)[-1]),
        status="Approved",
    )


def finish(templates: Templates, cloudformation: Any, stack_name: str) -> dict[str, Any]:
    """End the double's update of the stack; AWS's sample of the event that follows."""
    stack = cloudformation.stacks[stack_name]
    cloudformation.finish(stack_name)
    return event_samples.stack_status_change(
        account=templates.account,
        region=templates.region,
        stack_id=stack.stack_id,
        status=stack.status,
        token=stack.token,
    )


# --- targets that are not functions: the alert topic, the pipelines ---------------------------


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_a_failed_monitoring_execution_alerts_the_environments_topic(
    templates: dict[str, Templates], env_name: str, platforms: dict[str, SynthesizedPlatform]
) -> None:
    env = templates[env_name]
    rule = the_rule(
        env,
        templates[other(env_name)],
        ("topic", *PROCESSING_JOB),
        lambda t: monitoring_events(t, status="Failed"),
    )
    assert all(matches(rule, event) for event in monitoring_events(env, status="Failed"))
    assert not any(matches(rule, event) for event in monitoring_events(env))
    [target] = rule.properties["Targets"]
    topic = env.origin(target["Arn"])
    assert topic is not None and topic.type == "AWS::SNS::Topic"
    prefix = platforms[env_name].config.name_prefix
    assert env.resolved(topic)["TopicName"] == f"{prefix}-alerts"


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_a_schedule_starts_the_models_pipeline_with_the_schedule_row_as_defaults(
    templates: dict[str, Templates], env_name: str
) -> None:
    env = templates[env_name]
    rules = rules_of(env, ("pipeline", *SCHEDULE))
    assert rules
    bucket = env.functions[TRIGGER_HANDLER].environment["DATASET_BUCKET_NAME"]
    for rule in rules:
        event = event_samples.scheduled_event(
            account=env.account,
            region=env.region,
            rule_arn=env.resolver.arn(rule.at.stack, rule.at.logical_id),
        )
        assert event["resources"][0].endswith(
            f":rule/{env.resolver.physical_name(rule.at.stack, rule.at.logical_id)}"
        )
        assert rule.properties["ScheduleExpression"].startswith(("cron(", "rate("))
        [target] = rule.properties["Targets"]
        assert "Input" not in target and "SageMakerPipelineParameters" not in target
        pipeline = env.origin(target["Arn"])
        assert pipeline is not None and pipeline.stack is rule.at.stack
        name = str(env.resolved(pipeline)["PipelineName"])
        model = next(doc for _, doc in env.settings.values() if doc.pipeline_name == name)
        declared = pipeline_parameters(env.pipelines[name]["Definition"])
        defaults = {k: _api_value(v.get("DefaultValue")) for k, v in declared.items()}
        expected = DEFAULT_RUN.parameters(training_data_uri(bucket, model.model))
        assert {k: defaults[k] for k in expected if k in declared} == {
            k: v for k, v in expected.items() if k in declared
        }
        assert INPUT_DATA_URI in declared


def _api_value(value: Any) -> str:
    """A definition's default as StartPipelineExecution takes it (``true``, not ``True``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- contracts across stacks ------------------------------------------------------------------


def triggers_of(model: ModelSettings) -> list[Trigger]:
    """The triggers the function may start ``model``'s pipeline with."""
    retraining = model.retraining
    triggers = []
    if retraining.on_drift and retraining.monitoring_schedule_names:
        triggers.append(Trigger.MONITORING_VIOLATION)
    if retraining.on_drift and retraining.drift_alarm_name:
        triggers.append(Trigger.DRIFT_ALARM)
    if retraining.dataset_prefix:
        triggers.append(Trigger.NEW_DATA)
    return triggers


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_parameter_the_trigger_passes_is_declared_by_the_models_pipeline(
    templates: dict[str, Templates], env_name: str
) -> None:
    env = templates[env_name]
    kinds = {
        INPUT_DATA_URI: "String",
        SKIP_DRIFT_CHECK: "Boolean",
        REGISTER_NEW_BASELINE: "Boolean",
    }
    checked = 0
    for _, model in env.settings.values():
        declared = pipeline_parameters(env.pipelines[model.pipeline_name]["Definition"])
        for trigger in triggers_of(model):
            for approved in (False, True):
                for name in started_as(env, model, trigger, approved):
                    assert name in declared, f"{model.pipeline_name} does not declare {name}"
                    assert declared[name]["Type"] == kinds[name]
                    checked += 1
    assert checked >= 6


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_name_a_settings_document_gives_exists_in_the_templates(
    templates: dict[str, Templates], env_name: str, platforms: dict[str, SynthesizedPlatform]
) -> None:
    env = templates[env_name]
    prefix = platforms[env_name].config.name_prefix
    stacks = {stack.stack_name for stack in env.stacks}
    groups = env.named("AWS::SageMaker::ModelPackageGroup")
    alarms = set(env.named("AWS::CloudWatch::CompositeAlarm"))
    for parameter, model in env.settings.values():
        assert parameter == f"/{prefix}/models/{model.model}/settings"
        assert model.pipeline_name in env.pipelines
        assert model.model_package_group_name in groups
        assert set(model.retraining.monitoring_schedule_names) <= set(schedules(env))
        assert model.retraining.drift_alarm_name in alarms | {None}
        assert model.retraining.dataset_prefix in (None, training_data_prefix(model.model))
        assert model.release is None or model.release.stack_name in stacks
    assert len(env.settings) == len(platforms[env_name].config.models)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_functions_environment_names_resources_of_the_templates(
    templates: dict[str, Templates], env_name: str
) -> None:
    env = templates[env_name]
    trigger = env.functions[TRIGGER_HANDLER]
    expected_types = {
        "IDEMPOTENCY_TABLE_NAME": "AWS::DynamoDB::GlobalTable",
        "ARRIVALS_QUEUE_URL": "AWS::SQS::Queue",
        "DEAD_LETTER_QUEUE_URL": "AWS::SQS::Queue",
        "DATASET_BUCKET_NAME": "AWS::S3::Bucket",
    }
    for name, resource_type in expected_types.items():
        origin = env.origin(trigger.environment[name])
        assert origin is not None and origin.type == resource_type, name
    assert set(trigger.environment) == {
        "NAME_PREFIX",
        "EXPECTED_ACCOUNT_ID",
        "POWERTOOLS_SERVICE_NAME",
        *expected_types,
    }
    dead_letters_arn = trigger.properties["DeadLetterConfig"]["TargetArn"]
    assert env.origin(dead_letters_arn) == env.origin(trigger.environment["DEAD_LETTER_QUEUE_URL"])
    bucket = env.resolved(env.origin(trigger.environment["DATASET_BUCKET_NAME"]))
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"]
    [mapping] = [
        props
        for _, props in env.each("AWS::Lambda::EventSourceMapping")
        if env.origin(props["EventSourceArn"])
        == env.origin(trigger.environment["ARRIVALS_QUEUE_URL"])
    ]
    assert env.origin(mapping["FunctionName"]) == trigger.at
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# --- the chain, for the sample catalogue's churn model ----------------------------------------

DOC = REPO / "docs" / "retraining.md"


def documented(trigger: Trigger) -> dict[str, str]:
    """``SkipDriftCheck`` and ``RegisterNewBaseline`` of a row of the table in the docs."""
    rows = re.findall(
        r"^\| `([a-z-]+)` \| [^|]+ \| (true|false) \| (true|false) \|",
        DOC.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    [(skip, register)] = [(s, r) for name, s, r in rows if name == trigger.value]
    return {SKIP_DRIFT_CHECK: skip, REGISTER_NEW_BASELINE: register}


@pytest.mark.parametrize("approved", [False, True], ids=["first-version", "approved-version"])
def test_a_churn_violation_starts_its_pipeline_with_the_documented_parameters(
    templates: dict[str, Templates], moto_environment: Any, lambda_context: Any, approved: bool
) -> None:
    """Violation event -> rule -> trigger -> pipeline, as the sandbox templates wire them."""
    env = templates["sandbox"]
    _, churn = env.settings["churn-prediction"]
    schedule = churn.retraining.monitoring_schedule_names[0]
    [event] = [
        e
        for e in monitoring_events(env)
        if e["detail"]["Environment"]["sagemaker_monitoring_schedule_name"] == schedule
    ]
    [rule] = rules_of(env, ("retraining_trigger", *PROCESSING_JOB))
    assert matches(rule, event)
    with moto_environment(env) as session:
        if approved:
            approve_first_version(env, session, churn)
        outcome = trigger_in(env, session, Clock()).handle(event, lambda_context)
        [run] = executions(session, churn.pipeline_name)
        assert dead_letters(session, function_environment(env, TRIGGER_HANDLER)) == []
    row = Trigger.MONITORING_VIOLATION if approved else Trigger.FIRST_RUN
    bucket = env.functions[TRIGGER_HANDLER].environment["DATASET_BUCKET_NAME"]
    definition = env.pipelines[churn.pipeline_name]["Definition"]
    assert outcome["outcome"] == "started"
    assert run == {INPUT_DATA_URI: f"s3://{bucket}/churn-prediction/training/", **documented(row)}
    assert run[INPUT_DATA_URI] == pipeline_parameters(definition)[INPUT_DATA_URI]["DefaultValue"]

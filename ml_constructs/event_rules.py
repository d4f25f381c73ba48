"""EventBridge rules of the platform's functions and alerts: one event source and type each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from ml_constructs.platform_function import PlatformFunction

#: How EventBridge retries delivering an event to a function before dead-lettering it.
TARGET_RETRY_ATTEMPTS = 4
TARGET_MAX_EVENT_AGE = Duration.hours(2)


def function_target(function: PlatformFunction) -> targets.LambdaFunction:
    """A rule target invoking ``function``, retried, then parked in its dead-letter queue."""
    return targets.LambdaFunction(
        function.function,
        retry_attempts=TARGET_RETRY_ATTEMPTS,
        max_event_age=TARGET_MAX_EVENT_AGE,
        dead_letter_queue=function.dead_letter_queue,
    )


def event_rule(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    target: events.IRuleTarget,
) -> events.Rule:
    """A rule sending ``target`` the events of one ``source`` and ``detail_type`` whose
    detail matches ``detail`` (an EventBridge pattern)."""
    return events.Rule(
        scope,
        construct_id,
        description=description,
        event_pattern=events.EventPattern(
            source=[source], detail_type=[detail_type], detail=dict(detail)
        ),
        targets=[target],
    )

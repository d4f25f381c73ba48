"""How an environment's retention setting maps onto CDK removal and logging settings."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs

from platform_config import EnvironmentConfig


def removal_policy(config: EnvironmentConfig) -> RemovalPolicy:
    """``RETAIN`` for environments that keep stateful resources, else ``DESTROY``."""
    return RemovalPolicy.RETAIN if config.is_retained else RemovalPolicy.DESTROY


def key_pending_window(config: EnvironmentConfig) -> Duration:
    """How long a removed KMS key can still be recovered: the longest where data is kept."""
    return Duration.days(30) if config.is_retained else Duration.days(7)


def log_retention(config: EnvironmentConfig) -> logs.RetentionDays:
    """The environment's log retention as the CDK enum (validated values only)."""
    return _RETENTION_BY_DAYS[config.log_retention_days]


# The enum's values are names (ONE_MONTH); map the day counts the configuration uses.
_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}

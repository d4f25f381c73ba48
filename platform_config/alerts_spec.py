"""Where an environment's operational alarms go (``alerts:`` key of the environment file)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from platform_config.base import Frozen

EmailAddress = Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")]
TopicArn = Annotated[
    StrictStr, Field(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
]


class AlertsSpec(Frozen):
    """The SNS topic that endpoint alarms (and other platform alarms) notify.

    Attributes
    ----------
    topic_arn:
        Use this existing topic (e.g. the operations team's) instead of creating one
        (default: the platform creates ``ml-platform-<env>-alerts``, KMS-encrypted). Its
        access policy and key must let CloudWatch publish.
    email_addresses:
        Subscribed to the created topic (each must confirm by e-mail; default none).
    """

    topic_arn: TopicArn | None = None
    email_addresses: tuple[EmailAddress, ...] = ()

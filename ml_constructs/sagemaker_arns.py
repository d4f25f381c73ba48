"""ARNs of SageMaker resources in a construct's own account and region, by name or pattern."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import IConstruct


def sagemaker_arn(scope: IConstruct, resource: str, name: str) -> str:
    """``arn:<partition>:sagemaker:<region>:<account>:<resource>/<name>`` of ``scope``'s
    stack (``name`` may be a ``*`` pattern)."""
    return Stack.of(scope).format_arn(service="sagemaker", resource=resource, resource_name=name)


def package_group_arns(scope: IConstruct, groups: str) -> list[str]:
    """The ARNs of the model package groups named (or matching) ``groups`` and of all
    their packages' versions, in that order."""
    return [
        sagemaker_arn(scope, "model-package-group", groups),
        sagemaker_arn(scope, "model-package", f"{groups}/*"),
    ]

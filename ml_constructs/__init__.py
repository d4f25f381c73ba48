"""The platform's construct library.

Named ``ml_constructs`` rather than ``constructs``: a top-level package called
``constructs`` would shadow the ``constructs`` library that ``aws_cdk`` itself imports.
Each module holds one construct, named after its class.
"""

from ml_constructs.access_logs_bucket import AccessLogsBucket
from ml_constructs.compliance import acknowledge, add_compliance_checks
from ml_constructs.platform_keys import PlatformKeys
from ml_constructs.platform_network import PlatformNetwork
from ml_constructs.secure_bucket import SecureBucket

__all__ = [
    "AccessLogsBucket",
    "PlatformKeys",
    "PlatformNetwork",
    "SecureBucket",
    "acknowledge",
    "add_compliance_checks",
]

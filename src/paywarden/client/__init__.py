"""The PayWarden merchant SDK (httpx): signed requests and safe retries.

    from paywarden.client import PayWardenClient, PayWardenError
"""

from .client import PayWardenClient, load_private_key
from .errors import (
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    PayWardenError,
    PermissionDenied,
    RateLimited,
    ServerError,
)

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "ConnectionFailed",
    "InvalidRequest",
    "NotFound",
    "PayWardenClient",
    "PayWardenError",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "load_private_key",
]

"""What the SDK raises: one hierarchy, each error carrying the problem's ``code``.

    PayWardenError                 status, code, detail, problem
    ├── ConnectionFailed           no answer, after every retry
    ├── InvalidRequest             400, 422 (validation, idempotency_key_reused, …)
    ├── AuthenticationFailed       401 (signature_expired, key_revoked, …)
    ├── PermissionDenied           403 (merchant_suspended, step_up_required, …)
    ├── NotFound                   404
    ├── Conflict                   409 (idempotency_in_progress, key_last_active, …)
    ├── RateLimited                429
    └── ServerError                5xx
"""

from __future__ import annotations

from typing import Any


class PayWardenError(Exception):
    def __init__(self, status: int | None, code: str, detail: str,
                 problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {detail}" if status is None else f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.problem = problem or {}


class ConnectionFailed(PayWardenError):
    pass


class InvalidRequest(PayWardenError):
    pass


class AuthenticationFailed(PayWardenError):
    pass


class PermissionDenied(PayWardenError):
    pass


class NotFound(PayWardenError):
    pass


class Conflict(PayWardenError):
    pass


class RateLimited(PayWardenError):
    pass


class ServerError(PayWardenError):
    pass


_BY_STATUS: dict[int, type[PayWardenError]] = {
    400: InvalidRequest, 401: AuthenticationFailed, 403: PermissionDenied, 404: NotFound,
    409: Conflict, 422: InvalidRequest, 429: RateLimited,
}


def error_for(status: int, problem: dict[str, Any]) -> PayWardenError:
    """The error for a refused request, from its RFC 9457 problem body."""
    cls = ServerError if status >= 500 else _BY_STATUS.get(status, PayWardenError)
    code = str(problem.get("code") or f"http_{status}")
    detail = str(problem.get("detail") or problem.get("title") or "")
    return cls(status, code, detail, problem)

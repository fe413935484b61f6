"""RFC 9457 problem details: every error leaves the API as one, with a stable ``code``."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi import routing as fastapi_routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..domain.errors import DomainError, InvariantViolation
from ..services.ledger import BatchTooLarge, EngineOverloaded, EngineStopped
from .text import TEXT_CODES

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 1
REFUSED_STATUS = 422  # a DomainError whose code no status table names
log = structlog.get_logger(__name__)


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, *, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("_", " ").capitalize()
        self.headers = headers or {}
        self.extra = extra


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://paywarden.dev/problems/{problem.code}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
        **problem.extra,
    }
    if request is not None:
        body["instance"] = request.url.path
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON,
                        headers=problem.headers)


_DOMAIN_STATUS = {"forbidden": 403, "not_found": 404, "ledger_exists": 409, "currency_unknown": 422, "cursor_invalid": 400,
                  "history_too_deep": 422}
# Passkeys and step-up (services/identity/passkeys.py, stepup.py).
_DOMAIN_STATUS.update({"passkey_refused": 401, "step_up_required": 403, "step_up_mismatch": 403,
                       "passkey_required": 409, "passkeys_too_many": 409})
# Password + TOTP, recovery codes, sign-up and resets (services/identity/password_signin.py …).
_DOMAIN_STATUS.update({"sign_in_failed": 401, "username_taken": 409, "totp_exists": 409,
                       "username_confusable": 409, "username_mixed_script": 422,
                       "reauthentication_failed": 403, "reauthentication_required": 403,
                       "last_second_factor": 409, "second_factor_required": 409})


# The framework's own refusals (no route, wrong method), by status.
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route of ``app``, its included routers opened (FastAPI ≥ 0.16x keeps an
    included router as one route whose routes are reached through contexts)."""
    contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    return list(contexts(app.routes)) if contexts is not None else list(app.routes)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers (RFC 9110 §15.5.6: a 405 says which).

    Starlette's own ``Allow`` names only the first route that matched the path, and a
    path is often served by several routes (GET and POST apart), so all are asked.
    """
    methods: set[str] = set()
    for route in flat_routes(request.app):
        match, _ = route.matches({**request.scope, "method": "\x00"})
        if match is Match.PARTIAL:  # the path matched; the (impossible) method did not
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _validation_code(errors: list[dict[str, Any]]) -> str:
    """A refusal by the shared text types (api/text.py) answers with its own code;
    any other invalid request with ``validation_failed``."""
    return min({e["type"] for e in errors} & TEXT_CODES, default="validation_failed")


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
                  for e in exc.errors()]
        return problem_response(Problem(
            422, _validation_code(errors), f"the request is invalid ({len(errors)} errors); "
            "nothing was applied", errors=errors[:100]), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(Problem(exc.status_code, code, str(exc.detail),
                                        headers=headers), request)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(Problem(_DOMAIN_STATUS.get(exc.code, REFUSED_STATUS), exc.code,
                                        exc.detail), request)

    @app.exception_handler(BatchTooLarge)
    async def _too_large(request: Request, exc: BatchTooLarge) -> JSONResponse:
        return problem_response(Problem(413, exc.code, str(exc), size_max=exc.size_max), request)

    @app.exception_handler(EngineOverloaded)
    async def _overloaded(request: Request, exc: EngineOverloaded) -> JSONResponse:
        return problem_response(Problem(503, exc.code, "the ledger is saturated; retry later",
                                        headers={"Retry-After": str(RETRY_AFTER_S)}), request)

    @app.exception_handler(EngineStopped)
    async def _stopped(request: Request, exc: EngineStopped) -> JSONResponse:
        return problem_response(Problem(503, exc.code, "the ledger is not running",
                                        headers={"Retry-After": str(RETRY_AFTER_S)}), request)

    @app.exception_handler(InvariantViolation)
    async def _invariant(request: Request, exc: InvariantViolation) -> JSONResponse:
        return _fail_stop(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, InvariantViolation):  # raised in a middleware, outside the routes
            return _fail_stop(request, exc)
        log.error("api.unhandled", path=request.url.path, error=type(exc).__name__)
        return problem_response(Problem(500, "internal_error",
                                        "an internal error occurred; nothing more is said here"),
                                request)


def _fail_stop(request: Request, exc: InvariantViolation) -> JSONResponse:
    """The process stops (services/failstop.py); this request was not applied, or not
    acknowledged: 503, to be retried against another process."""
    request.app.state.platform.failstop.crash(
        f"{request.method} {request.url.path} broke an invariant", exc)
    return problem_response(Problem(503, "process_failed",
                                    "this process has failed and is stopping; retry the "
                                    "request (with the same Idempotency-Key)",
                                    headers={"Retry-After": str(RETRY_AFTER_S)}), request)

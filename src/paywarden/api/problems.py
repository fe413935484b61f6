"""RFC 9457 problem details: every error leaves the API as one, with a stable ``code``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi import routing as fastapi_routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..adapters.store import is_unavailable
from ..domain.errors import DomainError, InvariantViolation
from ..services.ledger import BatchTooLarge, EngineOverloaded, EngineStopped
from .problem_codes import REFUSED_STATUS, Edge, Identity, Ledger, Passkeys, ProblemCode, code_of
from .text import TEXT_CODES

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 1
log = structlog.get_logger(__name__)


class Problem(Exception):
    """An error answer. Its status and title are the registry's for ``code``
    (api/problem_codes.py); ``status`` is given only for a framework refusal
    (``Edge.HTTP_ERROR``), whose status Starlette chose."""

    def __init__(self, code: ProblemCode | str, detail: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        member = code if isinstance(code, ProblemCode) else code_of(code)
        self.code = str(code)
        self.status = status or (REFUSED_STATUS if member is None else member.status)
        self.detail = detail
        self.title = "Refused" if member is None else member.summary
        self.headers = headers or {}
        if self.status == 503:  # every "unavailable" says when to ask again
            self.headers.setdefault("Retry-After", str(RETRY_AFTER_S))
        self.extra = extra


class Refusals:
    """``with _refusals():`` turns a :class:`DomainError` into its problem. ``features``
    are the enums whose codes the calls inside may raise: the OpenAPI document lists
    them for every route that uses this (api/problem_catalogue.py)."""

    def __init__(self, *features: type[ProblemCode]) -> None:
        self.features = features

    @contextmanager
    def __call__(self) -> Iterator[None]:
        try:
            yield
        except DomainError as exc:
            raise Problem(exc.code, exc.detail) from None


# Refusals no route converts reach the app-wide handler: any route may answer these
# (with the policy's ``forbidden`` and ``not_found``).
APP_WIDE = Refusals(Ledger, Identity, Passkeys)


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


# The framework's own refusals (no route, wrong method), by status.
HTTP_CODES = {404: Edge.NOT_FOUND, 405: Edge.METHOD_NOT_ALLOWED}


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
            _validation_code(errors), f"the request is invalid ({len(errors)} errors); "
            "nothing was applied", errors=errors[:100]), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, Edge.HTTP_ERROR)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(Problem(code, str(exc.detail), status=exc.status_code,
                                        headers=headers), request)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(Problem(exc.code, exc.detail), request)

    @app.exception_handler(BatchTooLarge)
    async def _too_large(request: Request, exc: BatchTooLarge) -> JSONResponse:
        return problem_response(Problem(Ledger.BATCH_TOO_LARGE, str(exc),
                                        size_max=exc.size_max), request)

    @app.exception_handler(EngineOverloaded)
    async def _overloaded(request: Request, exc: EngineOverloaded) -> JSONResponse:
        return problem_response(Problem(Ledger.ENGINE_OVERLOADED,
                                        "the ledger is saturated; retry later",
                                        headers={"Retry-After": str(RETRY_AFTER_S)}), request)

    @app.exception_handler(EngineStopped)
    async def _stopped(request: Request, exc: EngineStopped) -> JSONResponse:
        return problem_response(Problem(exc.code, "the ledger is not running",
                                        headers={"Retry-After": str(RETRY_AFTER_S)}), request)

    @app.exception_handler(InvariantViolation)
    async def _invariant(request: Request, exc: InvariantViolation) -> JSONResponse:
        return _fail_stop(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, InvariantViolation):  # raised in a middleware, outside the routes
            return _fail_stop(request, exc)
        if is_unavailable(exc):  # a failover: nothing was applied, or its answer was lost
            log.warning("api.database_unavailable", path=request.url.path,
                        error=type(exc).__name__)
            return problem_response(Problem(
                Edge.DATABASE_UNAVAILABLE, "the database is not available now (a failover may "
                "be under way); retry the request (with the same Idempotency-Key)",
                headers={"Retry-After": str(RETRY_AFTER_S)}), request)
        log.error("api.unhandled", path=request.url.path, error=type(exc).__name__)
        return problem_response(Problem(Edge.INTERNAL_ERROR,
                                        "an internal error occurred; nothing more is said here"),
                                request)


def _fail_stop(request: Request, exc: InvariantViolation) -> JSONResponse:
    """The process stops (services/failstop.py); this request was not applied, or not
    acknowledged: 503, to be retried against another process."""
    request.app.state.platform.failstop.crash(
        f"{request.method} {request.url.path} broke an invariant", exc)
    return problem_response(Problem(Edge.PROCESS_FAILED,
                                    "this process has failed and is stopping; retry the "
                                    "request (with the same Idempotency-Key)",
                                    headers={"Retry-After": str(RETRY_AFTER_S)}), request)

"""The ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__, web
from ..bootstrap import Platform
from . import (
    alert_routes,
    approval_routes,
    audit_routes,
    banking_routes,
    breaker_routes,
    card_routes,
    case_routes,
    certification_routes,
    cheque_routes,
    clearing_routes,
    dashboard_routes,
    defences,
    factor_routes,
    health,
    hub_routes,
    keys_routes,
    ledger_routes,
    lookup_routes,
    merchant_read_routes,
    merchant_routes,
    merchant_user_routes,
    openapi,
    passkey_routes,
    payment_file_routes,
    payment_routes,
    problems,
    recall_routes,
    registry_routes,
    risk_routes,
    session_routes,
    signed,
    signin_routes,
    staff_queue_routes,
    staff_routes,
    statement_routes,
    supervision_routes,
    transfer_routes,
    webhook_routes,
)
from . import idempotency as idempotency_layer
from . import problem_codes as codes


def create_app(platform: Platform) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        platform.start()
        try:
            yield
        finally:
            platform.stop()

    app = FastAPI(title="PayWarden", version=__version__, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    app.state.platform = platform
    problems.install(app)
    signed.install(app)
    idempotency_layer.install(app)  # inside the edge defences: the body is capped first
    # The edge defences, outermost first (api/defences.py says why in this order):
    # header cap → in-flight cap → address rate limit → body cap → unique JSON keys → routes.
    defences.install(app, platform)
    app.add_middleware(IntegrityGate, platform=platform)  # code or keys tampered: no writes
    app.add_middleware(FailedProcessGate, platform=platform)  # outermost: before any work

    app.include_router(health.router)
    app.include_router(audit_routes.router)
    app.include_router(payment_routes.router)
    app.include_router(card_routes.router)
    app.include_router(keys_routes.router)
    app.include_router(ledger_routes.router)
    app.include_router(merchant_routes.router)
    app.include_router(merchant_user_routes.router)
    app.include_router(merchant_read_routes.router)
    app.include_router(certification_routes.router)
    app.include_router(clearing_routes.router)
    app.include_router(session_routes.router)
    app.include_router(passkey_routes.router)
    app.include_router(signin_routes.router)
    app.include_router(factor_routes.router)
    app.include_router(webhook_routes.router)
    # The bank's routes after the merchants' and the sessions': Starlette tries routes in
    # order, so the payment path's requests do not pay for the bank's ~40 routes.
    app.include_router(banking_routes.router)
    app.include_router(statement_routes.router)
    app.include_router(cheque_routes.router)
    app.include_router(transfer_routes.router)
    app.include_router(payment_file_routes.router)
    app.include_router(alert_routes.router)
    app.include_router(breaker_routes.router)
    app.include_router(recall_routes.router)
    app.include_router(hub_routes.router)
    app.include_router(registry_routes.router)
    app.include_router(risk_routes.router)
    app.include_router(case_routes.router)
    app.include_router(approval_routes.router)
    app.include_router(lookup_routes.router)
    app.include_router(staff_routes.router)
    app.include_router(staff_queue_routes.router)
    app.include_router(supervision_routes.router)
    app.include_router(dashboard_routes.router)
    app.include_router(web.router)  # pages: /, /signup, /signin, /account, /docs, /static/…
    openapi.install(app)  # summaries, examples and every problem a route can answer
    return app


class FailedProcessGate:
    """Once this process has failed (services/failstop.py), every request but the health
    probes and metrics is answered 503 at once: nothing more is done or acknowledged."""

    ALWAYS_ANSWERED = ("/health/", "/metrics")

    def __init__(self, app: ASGIApp, *, platform: Platform) -> None:
        self.app = app
        self.failstop = platform.failstop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and self.failstop.failed
                and not scope["path"].startswith(self.ALWAYS_ANSWERED)):
            response = problems.problem_response(problems.Problem(
                codes.Edge.PROCESS_FAILED, "this process has failed and is stopping; retry",
                headers={"Retry-After": str(problems.RETRY_AFTER_S), "Connection": "close"}))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class IntegrityGate:
    """While the platform's own files differ from its release, or its keys are readable by
    others (services/integrity), every write is answered 503 ``integrity_compromised``:
    reads go on, so staff can see the alert and the audit log."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: ASGIApp, *, platform: Platform) -> None:
        self.app = app
        self.integrity = platform.integrity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.integrity.compromised
        if scope["type"] == "http" and found is not None and scope["method"] not in self.SAFE:
            response = problems.problem_response(problems.Problem(
                codes.Edge.INTEGRITY_COMPROMISED,
                "the platform's files differ from its release or its keys are exposed; "
                "writes are refused until an operator mends it",
                headers={"Retry-After": str(problems.RETRY_AFTER_S)}))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

"""The ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from .. import __version__
from ..bootstrap import Platform
from . import health, ledger_routes, problems
from .problems import Problem, problem_response


def create_app(platform: Platform) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        platform.start()
        try:
            yield
        finally:
            platform.stop()

    app = FastAPI(title="PayWarden", version=__version__, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.platform = platform
    problems.install(app)
    body_max = platform.settings.request_body_bytes_max

    @app.middleware("http")
    async def limit_body(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > body_max):
            return problem_response(Problem(413, "body_too_large",
                                            f"request bodies are limited to {body_max} bytes"),
                                    request)
        if length is None and request.method in ("POST", "PUT", "PATCH"):
            return problem_response(Problem(411, "length_required",
                                            "send a Content-Length header"), request)
        return await call_next(request)

    app.include_router(health.router)
    app.include_router(ledger_routes.router)
    return app

"""Idempotency-Key on POST: an ASGI layer between the server and the routes.

For each POST from an authenticated caller (a public POST, such as signing
in, passes through untouched) it reads the body once, authenticates the
caller, and then:

- without an ``Idempotency-Key``: a merchant's signed POST is refused
  (400 ``idempotency_key_required``: its SDK always sends one, and a merchant
  backend is exactly the client that retries); anyone else's runs as usual;
- with a key: claims it (see :mod:`paywarden.services.idempotency`), runs
  the route with the buffered body, stores the answer and only then sends it,
  so an answer the client saw is an answer a retry will see; or replays the
  stored answer with ``Idempotent-Replayed: true``; or refuses (409 / 422).

A response marked ``Cache-Control: no-store`` (one carrying a secret, such as
a new token) is never stored: its key is released instead, and a retry runs
again. Set-Cookie is never stored or replayed.

Exactly once (decision 0018). The claim is published to the route through a
context variable (Starlette copies the context into the route's thread). A
route that moves money renders its answer with an :class:`Answer` *inside* the
service's transaction, which records it under the claimed key there: the
effect and the key's answer commit together. This layer then finds the answer
already recorded and does not store it again; a retry after a crash finds the
key done and replays it, or (the effect not committed) takes the claim over
after its lease and runs the request once. Routes that record nothing keep the
claim / run / complete order.

Crash points for the tests that SIGKILL a real server (``PAYWARDEN_CRASH_AT``):
``idempotency.before_effect`` (claimed, route not run),
``idempotency.before_commit`` (answer recorded, transaction not committed),
``idempotency.after_effect`` (committed, the route not returned) and
``idempotency.before_response`` (stored, nothing sent).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any, Generic, TypeVar

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..bootstrap import Platform
from ..domain.errors import InvariantViolation
from ..domain.identity import Kind, Principal
from ..services.idempotency import (
    Claim,
    IdempotencyRefused,
    StoredResponse,
    check_key,
    fingerprint,
)
from ..settings import Settings
from . import problem_codes as codes
from .auth import SESSION_COOKIE, SIGNATURE_HEADERS, authenticate
from .problems import Problem, problem_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
# The response headers a replay repeats; never Set-Cookie.
STORED_HEADERS = frozenset({"content-type", "location", "content-location", "etag",
                            "last-modified", "link", "retry-after"})
RETRY_AFTER_S = 1
T = TypeVar("T")
log = structlog.get_logger(__name__)
# The key this request holds, if any: set around the route by the middleware.
_CLAIM: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)


def install(app: FastAPI) -> None:
    app.add_middleware(IdempotencyMiddleware)


def crash_point(settings: Settings, name: str) -> None:
    """Tests only: SIGKILL this process here when ``settings.crash_at`` names this point."""
    if settings.crash_at == name:
        os.kill(os.getpid(), signal.SIGKILL)


class Answer(Generic[T]):
    """A route's answer, rendered from its service's result inside the transaction of the
    effect and recorded there under the request's Idempotency-Key, if it has one.

    Hand :meth:`record` to the service as its ``finish``; return :attr:`response`."""

    def __init__(self, platform: Platform, render: Callable[[T], JSONResponse]) -> None:
        self._platform = platform
        self._render = render
        self._response: JSONResponse | None = None
        # Read here, on the request's own context: ``record`` runs on the write path's
        # thread (decision 0017), where the request's context variables are not set.
        self._claim = _CLAIM.get()

    def record(self, conn: Connection, result: T) -> None:
        response = self._render(result)
        claim = self._claim
        if claim is not None:
            self._platform.idempotency.record(conn, claim, _stored(
                response.status_code, response.raw_headers, bytes(response.body)))
        crash_point(self._platform.settings, "idempotency.before_commit")
        self._response = response

    @property
    def response(self) -> JSONResponse:
        if self._response is None:
            raise InvariantViolation("the service returned without rendering its answer")
        crash_point(self._platform.settings, "idempotency.after_effect")
        return self._response


class _BodyTooLarge(Exception):
    pass


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _has_credentials(scope):
            await self.app(scope, receive, send)
            return
        platform: Platform = scope["app"].state.platform
        try:
            body = await _read_body(receive, platform.settings.request_body_bytes_max)
        except _BodyTooLarge:
            await _send_problem(scope, receive, send, Problem(
                codes.Edge.BODY_TOO_LARGE,
                f"request bodies are limited to {platform.settings.request_body_bytes_max} bytes"))
            return
        request = Request(scope, _replay(body, receive))
        try:
            principal = await authenticate(request)
        except Problem as problem:
            if any(h in request.headers for h in SIGNATURE_HEADERS):
                # Said here, once: verifying again would meet its own nonce, and a
                # 429 for the key must not be skipped by a second, uncounted pass.
                await _send_problem(scope, receive, send, problem)
                return
            # A stale token or cookie: the route decides (a public POST still works).
            await self.app(scope, _replay(body, receive), send)
            return
        await self._with_key(scope, receive, send, request, principal, body)

    async def _with_key(self, scope: Scope, receive: Receive, send: Send, request: Request,
                        principal: Principal, body: bytes) -> None:
        platform: Platform = scope["app"].state.platform
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            if principal.kind is Kind.MERCHANT and principal.key_id is not None:
                await _send_problem(scope, receive, send, Problem(
                    codes.Idempotency.IDEMPOTENCY_KEY_REQUIRED,
                    "a signed merchant POST must carry an Idempotency-Key header"))
                return
            await self.app(scope, _replay(body, receive), send)
            return
        owner = _scope_of(principal)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        store = platform.idempotency
        try:
            key = check_key(raw_key)
            held = await run_in_threadpool(store.claim, owner, key,
                                           fingerprint("POST", target, body))
        except IdempotencyRefused as exc:
            problem = Problem(exc.code, exc.detail)
            if problem.status == HTTPStatus.CONFLICT:  # in progress: worth a retry
                problem.headers = {"Retry-After": str(RETRY_AFTER_S)}
            await _send_problem(scope, receive, send, problem)
            return
        if isinstance(held, StoredResponse):
            await _send_stored(send, held)
            return
        crash_point(platform.settings, "idempotency.before_effect")
        captured = await self._run(scope, receive, body, held, platform)
        crash_point(platform.settings, "idempotency.before_response")
        await captured.forward(send)

    async def _run(self, scope: Scope, receive: Receive, body: bytes, claim: Claim,
                   platform: Platform) -> _Capture:
        """Run the route holding ``claim``; then store its answer unless it was recorded
        with the effect (every write here is fenced by the claim: see services)."""
        store = platform.idempotency
        captured = _Capture()
        token = _CLAIM.set(claim)
        try:
            await self.app(scope, _replay(body, receive), captured.send)
        except Exception:
            await run_in_threadpool(store.release_when_back, claim)
            raise
        finally:
            _CLAIM.reset(token)
        response = captured.response()
        if claim.recorded is not None:
            if claim.recorded != response:  # what committed is what every retry will see
                log.error("idempotency.answer_differs", status=response.status_code,
                          recorded=claim.recorded.status_code)
                captured.replace(claim.recorded)
        elif response.status_code >= 500 or captured.no_store:
            await run_in_threadpool(store.release_when_back, claim)
        else:
            await run_in_threadpool(store.complete, claim, response)
        return captured


def _has_credentials(scope: Scope) -> bool:
    names = {name.decode("latin-1").lower() for name, _ in scope.get("headers", ())}
    if "authorization" in names or any(h in names for h in SIGNATURE_HEADERS):
        return True
    return "cookie" in names and SESSION_COOKIE in Request(scope).cookies


def _scope_of(principal: Principal) -> str:
    """Whose keys these are: a merchant's across its keys; otherwise the session's holder."""
    if principal.kind is Kind.MERCHANT and principal.owner is not None:
        return f"merchant:{principal.owner}"
    return f"{principal.kind.value}:{principal.actor}"


async def _read_body(receive: Receive, bytes_max: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > bytes_max:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body once, then the real channel (which reports a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class _Capture:
    """Holds the route's response until it is stored."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def no_store(self) -> bool:
        return any(name.lower() == "cache-control" and "no-store" in value.lower()
                   for name, value in self._headers())

    def _headers(self) -> list[tuple[str, str]]:
        raw = self.start.get("headers", []) if self.start is not None else []
        return [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in raw]

    def response(self) -> StoredResponse:
        status = int(self.start["status"]) if self.start is not None else 500
        raw = self.start.get("headers", []) if self.start is not None else []
        return _stored(status, raw, b"".join(self.chunks))

    def replace(self, stored: StoredResponse) -> None:
        self.start = {"type": "http.response.start", "status": stored.status_code,
                      "headers": _raw_headers(stored)}
        self.chunks = [stored.body]

    async def forward(self, send: Send) -> None:
        if self.start is None:
            return
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.chunks),
                    "more_body": False})


def _stored(status: int, raw_headers: Any, body: bytes) -> StoredResponse:
    """What is kept of an answer: status, the headers a replay repeats, the body."""
    headers = [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in raw_headers]
    return StoredResponse(status, [(n, v) for n, v in headers if n.lower() in STORED_HEADERS],
                          body)


def _raw_headers(stored: StoredResponse) -> list[tuple[bytes, bytes]]:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in stored.headers]
    headers.append((b"content-length", str(len(stored.body)).encode()))
    return headers


async def _send_stored(send: Send, stored: StoredResponse) -> None:
    headers = _raw_headers(stored)
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


async def _send_problem(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
    response: Response = problem_response(problem, Request(scope))
    await response(scope, receive, send)

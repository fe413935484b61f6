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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..bootstrap import Platform
from ..domain.identity import Kind, Principal
from ..services.idempotency import (
    IdempotencyRefused,
    StoredResponse,
    check_key,
    fingerprint,
)
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


def install(app: FastAPI) -> None:
    app.add_middleware(IdempotencyMiddleware)


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
                413, "body_too_large",
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
                    400, "idempotency_key_required",
                    "a signed merchant POST must carry an Idempotency-Key header"))
                return
            await self.app(scope, _replay(body, receive), send)
            return
        owner = _scope_of(principal)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        store = platform.idempotency
        try:
            key = check_key(raw_key)
            stored = await run_in_threadpool(store.claim, owner, key,
                                             fingerprint("POST", target, body))
        except IdempotencyRefused as exc:
            headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.status == 409 else None
            await _send_problem(scope, receive, send, Problem(exc.status, exc.code, exc.detail,
                                                     headers=headers))
            return
        if stored is not None:
            await _send_stored(send, stored)
            return
        captured = _Capture()
        try:
            await self.app(scope, _replay(body, receive), captured.send)
        except Exception:
            await run_in_threadpool(store.release, owner, key)
            raise
        response = captured.response()
        if response.status_code >= 500 or captured.no_store:
            await run_in_threadpool(store.release, owner, key)
        else:
            await run_in_threadpool(store.complete, owner, key, response)
        await captured.forward(send)


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
        kept = [(n, v) for n, v in self._headers() if n.lower() in STORED_HEADERS]
        return StoredResponse(status, kept, b"".join(self.chunks))

    async def forward(self, send: Send) -> None:
        if self.start is None:
            return
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.chunks),
                    "more_body": False})


async def _send_stored(send: Send, stored: StoredResponse) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in stored.headers]
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    headers.append((b"content-length", str(len(stored.body)).encode()))
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


async def _send_problem(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
    response: Response = problem_response(problem, Request(scope))
    await response(scope, receive, send)

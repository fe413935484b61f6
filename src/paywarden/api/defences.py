"""Denial-of-service defences at the edge of the app, as plain ASGI middleware.

From the outside in (see :func:`install`):

    header cap → in-flight cap → address rate limit → body cap → unique JSON keys → routes

Each refuses as early and as cheaply as it can: oversized headers before any
work; excess concurrency before a limiter round trip; a flooding address before
its body is read; an oversized body as soon as the byte over the cap arrives,
not after it has all been buffered; a JSON body that names a key twice once it
is bounded (api/json_bodies.py says why). Health probes and metrics are exempt from
the concurrency cap and the address limit, so an orchestrator still sees a
live process that is shedding load rather than killing it.

Outside the app, ``paywarden serve`` bounds what uvicorn buffers before the
app sees a request (header bytes, open connections); see cli/platform.py.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.identity import Principal
from ..services.ratelimit import RateLimits
from ..services.ratelimit import Scope as LimitScope
from . import addresses
from . import problem_codes as codes
from .json_bodies import UniqueJsonKeys
from .problems import Problem, problem_response

if TYPE_CHECKING:
    from ..bootstrap import Platform

SHED = Counter("paywarden_shed_total", "Requests refused to shed load", ["reason"])
IN_FLIGHT = Gauge("paywarden_requests_in_flight", "Requests being served by this process")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
SHED_RETRY_AFTER_S = 1
CLOSE = {"Connection": "close"}  # the connection's framing is not trusted after these


def exempt(path: str) -> bool:
    """Probes and metrics: cheap, and needed most when the process is under load."""
    return path == "/metrics" or path.startswith("/health/")


async def _refuse(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
    await problem_response(problem, Request(scope))(scope, receive, send)


def rate_limited(scope: LimitScope, retry_after_s: int) -> Problem:
    what = {"address": "from this address", "merchant_key": "signed with this key",
            "account": "for this account"}[scope]
    return Problem(codes.Edge.RATE_LIMITED, f"too many requests {what}; retry in "
                   f"{retry_after_s} s", headers={"Retry-After": str(retry_after_s)},
                   scope=scope)


async def enforce(rate_limits: RateLimits, scope: LimitScope, *keys: str) -> None:
    """Count a hit on each key; raise 429 ``rate_limited`` if any is over its limit."""
    wait = await rate_limits.hit_async(scope, *keys)
    if wait is not None:
        raise rate_limited(scope, wait)


async def limit_merchant_key(request: Request, principal: Principal) -> None:
    """The per-key limit, once per request, after the signature has been verified.

    Counting before verification would let anyone exhaust a merchant's limit by
    naming its key id in a forged request.
    """
    if principal.key_id is None or getattr(request.state, "merchant_key_counted", False):
        return
    request.state.merchant_key_counted = True
    await enforce(request.app.state.platform.rate_limits, "merchant_key", principal.key_id)


class HeaderCap:
    def __init__(self, app: ASGIApp, *, bytes_max: int) -> None:
        self.app = app
        self.bytes_max = bytes_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # As on the wire: "name: value\r\n" per header.
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.bytes_max:
                await _refuse(scope, receive, send, Problem(
                    codes.Edge.HEADERS_TOO_LARGE,
                    f"request headers are limited to {self.bytes_max} bytes", headers=CLOSE))
                return
        await self.app(scope, receive, send)


@dataclass
class InFlight:
    """Requests this process is serving now (one event loop: no lock needed)."""

    limit: int
    count: int = 0


class InFlightCap:
    def __init__(self, app: ASGIApp, *, in_flight: InFlight) -> None:
        self.app = app
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = self.in_flight
        if state.count >= state.limit:
            SHED.labels(reason="in_flight").inc()
            await _refuse(scope, receive, send, Problem(
                codes.Edge.OVERLOADED, "the server is busy; retry later",
                headers={"Retry-After": str(SHED_RETRY_AFTER_S)}))
            return
        state.count += 1
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            state.count -= 1
            IN_FLIGHT.dec()


class AddressRateLimit:
    def __init__(self, app: ASGIApp, *, rate_limits: RateLimits,
                 proxies: list[addresses.Network]) -> None:
        self.app = app
        self.rate_limits = rate_limits
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = addresses.resolve_scope(scope, self.proxies)
        scope.setdefault("state", {})[addresses.STATE_KEY] = address
        if not exempt(scope["path"]):
            wait = await self.rate_limits.hit_async("address", addresses.rate_key(address))
            if wait is not None:
                await _refuse(scope, receive, send, rate_limited("address", wait))
                return
        await self.app(scope, receive, send)


class BodyCap:
    """413 beyond ``bytes_max``; a chunked body is counted as it arrives.

    A declared ``Content-Length`` is checked before reading (the server holds the
    body to exactly that length). A chunked body is read here up to the cap and
    handed on; the byte over the cap ends it with 413, so no more than the cap is
    ever held. ``Transfer-Encoding`` wins over ``Content-Length``, as in HTTP/1.1.
    """

    def __init__(self, app: ASGIApp, *, bytes_max: int) -> None:
        self.app = app
        self.bytes_max = bytes_max

    def _too_large(self) -> Problem:
        return Problem(codes.Edge.BODY_TOO_LARGE,
                       f"request bodies are limited to {self.bytes_max} bytes", headers=CLOSE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            messages = await self._read_capped(receive)
            if messages is None:
                await _refuse(scope, receive, send, self._too_large())
                return
            await self.app(scope, _replay(messages, receive), send)
            return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.bytes_max):
            await _refuse(scope, receive, send, self._too_large())
            return
        if length is None and scope["method"] in BODY_METHODS:
            await _refuse(scope, receive, send, Problem(
                codes.Edge.LENGTH_REQUIRED, "send a Content-Length header or a chunked body",
                headers=CLOSE))
            return
        await self.app(scope, receive, send)

    async def _read_capped(self, receive: Receive) -> deque[Message] | None:
        messages: deque[Message] = deque()
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client left; the app will see it too
            size += len(message.get("body", b""))
            if size > self.bytes_max:
                return None
            if not message.get("more_body", False):
                return messages


def _replay(messages: deque[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.popleft() if messages else await receive()

    return replayed


def install(app: FastAPI, platform: Platform) -> InFlight:
    """Add the defences in their order; returns the in-flight counter (for probes, tests)."""
    settings = platform.settings
    in_flight = InFlight(limit=settings.requests_in_flight_max)
    # add_middleware puts each one outside those added before: add from the inside out.
    app.add_middleware(UniqueJsonKeys)
    app.add_middleware(BodyCap, bytes_max=settings.request_body_bytes_max)
    app.add_middleware(AddressRateLimit, rate_limits=platform.rate_limits,
                       proxies=list(settings.trusted_proxies))
    app.add_middleware(InFlightCap, in_flight=in_flight)
    app.add_middleware(HeaderCap, bytes_max=settings.request_header_bytes_max)
    app.state.in_flight = in_flight
    return in_flight

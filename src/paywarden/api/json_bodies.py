"""JSON request bodies name each key once per object, or are refused before any route runs.

JSON leaves duplicate keys undefined (RFC 8259 section 4): Python's parser, and so
FastAPI, keeps the last one, while another reader (a proxy, a log, a signature
checker, the merchant's own code) may keep the first. ``{"amount":1,"amount":999}``
would then mean one amount to whoever reviewed it and another to the ledger.
This ASGI layer parses every JSON body once with a hook that refuses a second
occurrence of a key, at any depth, and answers 400 ``duplicate_json_key``.

It sits just inside the body cap (api/defences.py), so the body it holds is
already bounded, and outside the idempotency layer and the routes, so a refused
body claims no Idempotency-Key, spends no signature nonce and changes nothing.
The body is handed on byte for byte: a signature's Content-Digest still matches.
A body that is not JSON at all passes on untouched; the route answers it as
before (422 ``validation_failed``), so there is one parser's opinion of what
JSON is, not two.
"""

from __future__ import annotations

import json
from email.message import Message as MimeMessage
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import problem_codes as codes
from .problems import Problem, problem_response

KEY_CHARS_SHOWN_MAX = 64  # how much of a repeated key the problem's detail repeats


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key {key[:KEY_CHARS_SHOWN_MAX]!r} appears twice in one object")
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # the rare case pays for finding which key
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


def loads_unique(data: bytes | str) -> Any:
    """``json.loads`` that raises :class:`DuplicateKey` on a key repeated in one object."""
    return json.loads(data, object_pairs_hook=_unique_object)


def is_json(content_type: str | None) -> bool:
    """What FastAPI reads as JSON: ``application/json`` or ``application/*+json``.

    A body with no Content-Type is checked too: a route in an app without strict
    content types would read it as JSON.
    """
    if not content_type:
        return True
    mime = MimeMessage()
    mime["content-type"] = content_type
    subtype = mime.get_content_subtype()
    return mime.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))


def duplicate_key_problem(body: bytes) -> Problem | None:
    """The 400 a body with a repeated key earns; None for any other body."""
    try:
        loads_unique(body)
    except DuplicateKey as exc:
        return Problem(codes.Edge.DUPLICATE_JSON_KEY,
                       f"the JSON body is ambiguous: {exc}; name each key once. "
                       "Nothing was applied.")
    except (ValueError, RecursionError):  # not JSON: the route says so, as it always has
        return None
    return None


class UniqueJsonKeys:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_json_body(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        messages = await _read(receive)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        problem = duplicate_key_problem(body)
        if problem is not None:
            await problem_response(problem, Request(scope))(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


def _has_json_body(headers: Headers) -> bool:
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    if not chunked and headers.get("content-length", "0") in ("", "0"):
        return False
    return is_json(headers.get("content-type"))


async def _read(receive: Receive) -> list[Message]:
    """The request's messages up to its last body part; bounded by the body cap outside."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed

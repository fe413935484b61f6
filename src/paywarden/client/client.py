"""The merchant SDK: signed requests, safe retries, errors that carry the problem ``code``.

    with PayWardenClient("https://pay.example", "key_…", pem_bytes) as client:
        client.me()

Every request is signed afresh (a new nonce and ``created``) on every attempt.
Every POST carries an ``Idempotency-Key``, generated once and reused across its
retries, so a retry after a lost answer cannot apply the request twice. Retried:
connection failures, 409 ``idempotency_in_progress``, 429 and 502/503/504,
after ``Retry-After`` when the server sends one, else a capped exponential
back-off with full jitter; at most ``retries_max`` times.
"""

from __future__ import annotations

import json as jsonlib
import random
import secrets
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import ConnectionFailed, PayWardenError, error_for
from .signing import RequestSigner

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "POST"})  # POST: has a key
BACKOFF_S_BASE = 0.2
BACKOFF_S_MAX = 5.0
RETRY_AFTER_S_MAX = 60.0
RETRIES_MAX_LIMIT = 10


def load_private_key(private_key: Ed25519PrivateKey | bytes) -> Ed25519PrivateKey:
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key
    key = serialization.load_pem_private_key(private_key, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("the private key must be an Ed25519 key")
    return key


class PayWardenClient:
    def __init__(self, base_url: str, key_id: str, private_key: Ed25519PrivateKey | bytes, *,
                 timeout_s: float = 10.0, retries_max: int = 3,
                 http_client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 now_s: Callable[[], float] = time.time) -> None:
        """``base_url`` is the platform's public origin, exactly as the server knows it."""
        if not 0 <= retries_max <= RETRIES_MAX_LIMIT:
            raise ValueError(f"retries_max {retries_max} must be between 0 and {RETRIES_MAX_LIMIT}")
        self._signer = RequestSigner(key_id, load_private_key(private_key))
        self._http = http_client or httpx.Client(timeout=timeout_s)
        self._owns_http = http_client is None
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._retries_max = retries_max
        self._sleep = sleep
        self._now_s = now_s

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def me(self) -> dict[str, Any]:
        return self.request("GET", "/v1/merchants/me")  # type: ignore[no-any-return]

    def add_key(self, public_key_pem: bytes | str, *, label: str = "") -> dict[str, Any]:
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        return self.request("POST", "/v1/merchants/me/keys",  # type: ignore[no-any-return]
                            json={"public_key": pem, "label": label})

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        return self.request("POST",  # type: ignore[no-any-return]
                            f"/v1/merchants/me/keys/{key_id}/revoke")

    # -- escrow payments: ids the merchant chooses make a retry from anywhere safe ----------

    def create_checkout(self, *, order_ref: str, items: list[dict[str, Any]], amount: int,
                        currency: str, return_url: str, days_to_ship: int,
                        release_after_days: int) -> dict[str, Any]:
        """A checkout session for ``order_ref``; the same order again (a retry, even from
        another process) returns the first session; other fields raise Conflict."""
        return self.request("POST", "/v1/checkout/sessions", json={  # type: ignore[no-any-return]
            "order_ref": order_ref, "items": items, "amount": amount, "currency": currency,
            "return_url": return_url, "escrow": {"days_to_ship": days_to_ship,
                                                 "release_after_days": release_after_days}})

    def payment(self, payment_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/payments/{payment_id}")  # type: ignore[no-any-return]

    def ship(self, payment_id: str, *, carrier: str, tracking: str) -> dict[str, Any]:
        return self.request("POST",  # type: ignore[no-any-return]
                            f"/v1/payments/{payment_id}/shipments",
                            json={"carrier": carrier, "tracking": tracking})

    def refund(self, payment_id: str, *, amount: int, refund_id: str) -> dict[str, Any]:
        """Refund ``amount`` minor units once per ``refund_id`` (chosen by you, unique per
        payment): the same refund_id and amount again return the first refund; another
        amount raises Conflict (``refund_id_reused``)."""
        return self.request("POST",  # type: ignore[no-any-return]
                            f"/v1/payments/{payment_id}/refunds",
                            json={"amount": amount, "refund_id": refund_id})

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, str] | None = None,
                idempotency_key: str | None = None) -> Any:
        """Send a signed request; the decoded JSON answer, or a :class:`PayWardenError`."""
        method = method.upper()
        content = b"" if json is None else jsonlib.dumps(json, separators=(",", ":")).encode()
        headers = {"Accept": "application/json"}
        if json is not None:
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or "idk_" + secrets.token_urlsafe(24)
        response = self._send_with_retries(method, self._base_url + path, content, headers,
                                           params)
        if response.status_code >= 400:
            raise error_for(response.status_code, _problem(response))
        return response.json() if response.content else None

    def _send_with_retries(self, method: str, url: str, content: bytes,
                           headers: dict[str, str],
                           params: Mapping[str, str] | None) -> httpx.Response:
        attempt = 0
        while True:
            request = self._http.build_request(method, url, content=content, headers=headers,
                                               params=params, timeout=self._timeout_s)
            self._signer.sign(request, created_s=self._now_s())
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                if attempt >= self._retries_max or method not in RETRY_METHODS:
                    raise ConnectionFailed(None, "connection_failed",
                                           f"{type(exc).__name__} after {attempt + 1} attempts"
                                           ) from exc
                delay = _backoff_s(attempt)
            else:
                if attempt >= self._retries_max or not _retryable(response):
                    return response
                delay = max(_retry_after_s(response, self._now_s()), _backoff_s(attempt))
                response.close()
            self._sleep(min(delay, RETRY_AFTER_S_MAX))
            attempt += 1


def _retryable(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    return response.status_code == 409 and _problem(response).get("code") == \
        "idempotency_in_progress"


def _backoff_s(attempt: int) -> float:
    """Full jitter: uniform between 0 and the capped exponential step."""
    return random.uniform(0, min(BACKOFF_S_MAX, BACKOFF_S_BASE * 2**attempt))


def _retry_after_s(response: httpx.Response, now_s: float) -> float:
    value = response.headers.get("retry-after")
    if value is None:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_s)
    except (TypeError, ValueError):
        return 0.0


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


__all__ = ["PayWardenClient", "PayWardenError", "load_private_key"]

"""Verifying a PayWarden webhook on the merchant's side.

    from paywarden.client.webhooks import verify_webhook, WebhookVerificationFailed

    event = verify_webhook(request.method, public_url_of_this_request, request.headers,
                           raw_body, jwks)  # jwks: GET https://PAYWARDEN/.well-known/jwks.json

A webhook is accepted only if its one RFC 9421 signature, tagged
``paywarden-webhook`` with ``alg="ed25519"``, covers the method, the target URI,
``content-digest``, ``content-type``, ``webhook-id`` and ``webhook-timestamp``;
verifies under the key its ``keyid`` names in the platform's JWKS; the body
matches its Content-Digest (sha-256); and it was made within ``tolerance_s`` of
now. Then the event (``{"id", "type", "created_at", "data", …}``) is returned.
Drop a ``Webhook-Id`` you have already processed: delivery is at least once.

``url`` is the URL PayWarden posted to — the endpoint URL you registered — not
one rebuilt from a Host header. Anything else raises
:class:`WebhookVerificationFailed` with a ``code``: ``signature_missing``,
``signature_invalid``, ``key_unknown``, ``digest_mismatch``, ``timestamp_stale``,
``body_invalid``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)

from .errors import PayWardenError

COVERED = ("@method", "@target-uri", "content-digest", "content-type", "webhook-id",
           "webhook-timestamp")
TAG = "paywarden-webhook"
TOLERANCE_S = 300
BODY_BYTES_MAX = 1024 * 1024


class WebhookVerificationFailed(PayWardenError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(None, code, detail)


class _Jwks(HTTPSignatureKeyResolver):
    """Ed25519 keys of a JWKS by ``kid``; nothing else resolves."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        self.missing: str | None = None
        for jwk in jwks.get("keys", []) if isinstance(jwks, Mapping) else []:
            if not isinstance(jwk, Mapping) or jwk.get("kty") != "OKP" \
                    or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("kid"), str):
                continue
            try:
                raw = base64.urlsafe_b64decode(str(jwk["x"]) + "=" * (-len(str(jwk["x"])) % 4))
                self._keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
            except (KeyError, ValueError):
                continue

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        found = self._keys.get(key_id)
        if found is None:
            self.missing = key_id
            raise InvalidSignature("unknown keyid")
        return found


class _Fields:
    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self._lines = lines

    def items(self) -> list[tuple[str, str]]:
        return self._lines


class _Message:
    def __init__(self, method: str, url: str, lines: list[tuple[str, str]]) -> None:
        self.method = method
        self.url = url
        self.headers = _Fields(lines)


class _Verifier(HTTPMessageVerifier):
    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None  # checked below against webhook-timestamp, with the caller's clock


def _lines(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name).lower(), str(value)) for name, value in items]


def _one(lines: list[tuple[str, str]], name: str) -> str | None:
    values = [value for field, value in lines if field == name]
    return values[0].strip() if len(values) == 1 else None


def verify_webhook(method: str, url: str,
                   headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes,
                   jwks: Mapping[str, Any], *, tolerance_s: int = TOLERANCE_S,
                   now_s: float | None = None) -> dict[str, Any]:
    """The verified event; raises :class:`WebhookVerificationFailed` otherwise."""
    lines = _lines(headers)
    if _one(lines, "signature-input") is None or _one(lines, "signature") is None:
        raise WebhookVerificationFailed("signature_missing", "no single Signature-Input and "
                                        "Signature")
    if len(body) > BODY_BYTES_MAX:
        raise WebhookVerificationFailed("body_invalid", "the body is too large")
    keys = _Jwks(jwks)
    verifier = _Verifier(signature_algorithm=algorithms.ED25519, key_resolver=keys)
    try:
        results = verifier.verify(_Message(method.upper(), url, lines), max_age=None,
                                  expect_tag=TAG, require_components=COVERED)
    except (InvalidSignature, HTTPMessageSignaturesException):
        if keys.missing is not None:
            raise WebhookVerificationFailed("key_unknown", "the signature's keyid is not in "
                                            "the JWKS; fetch it again if keys were rotated"
                                            ) from None
        raise WebhookVerificationFailed("signature_invalid", "the signature does not verify "
                                        "over this request") from None
    if len(results) != 1 or results[0].parameters.get("alg") != "ed25519":
        raise WebhookVerificationFailed("signature_invalid", "expected one ed25519 signature")
    try:
        ContentDigest.verify(_one(lines, "content-digest") or "", body)
    except (InvalidSignature, HTTPMessageSignaturesException, ValueError):
        raise WebhookVerificationFailed("digest_mismatch", "the body is not the one that "
                                        "was signed") from None
    _check_time(results[0].parameters.get("created"), _one(lines, "webhook-timestamp"),
                tolerance_s, time.time() if now_s is None else now_s)
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookVerificationFailed("body_invalid", "the body is not JSON") from None
    if not isinstance(event, dict) or event.get("id") != _one(lines, "webhook-id"):
        raise WebhookVerificationFailed("body_invalid", "the body's id is not Webhook-Id")
    return event


def _check_time(created: Any, stamp: str | None, tolerance_s: int, now_s: float) -> None:
    if type(created) is not int or stamp is None or not stamp.isdigit() \
            or int(stamp) != created:
        raise WebhookVerificationFailed("signature_invalid", "Webhook-Timestamp is not the "
                                        "signature's created time")
    if abs(now_s - created) > tolerance_s:
        raise WebhookVerificationFailed("timestamp_stale", f"the webhook was signed "
                                        f"{int(now_s - created)} s from now; at most "
                                        f"{tolerance_s} s either way")

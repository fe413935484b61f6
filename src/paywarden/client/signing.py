"""Signing one request: RFC 9421 with Ed25519, over method, target URI and Content-Digest.

The signature base is built by the ``http-message-signatures`` library; this
module only adapts an httpx request to it. Every signature carries a fresh
random nonce (256 bits) and the time it was created, so the server can refuse
a replay and a stale request.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

COVERED = ("@method", "@target-uri", "content-digest")
LABEL = "sig"
NONCE_BYTES = 32
_SIGNATURE_FIELDS = ("Signature-Input", "Signature", "Content-Digest")


class _Message:
    """The shape the library reads: method, absolute URL, and writable headers."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


class RequestSigner:
    def __init__(self, key_id: str, private_key: Ed25519PrivateKey, *, label: str = LABEL) -> None:
        self.key_id = key_id
        self._label = label
        self._signer = HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}))

    def sign(self, request: httpx.Request, *, created_s: float) -> None:
        """Add Content-Digest, Signature-Input and Signature to ``request``, in place."""
        for name in _SIGNATURE_FIELDS:
            request.headers.pop(name, None)
        covered = list(COVERED)
        if "idempotency-key" in request.headers:
            covered.append("idempotency-key")  # so that no one on the way can change it
        headers = {"idempotency-key": request.headers["idempotency-key"]} \
            if "idempotency-key" in request.headers else {}
        message = _Message(request.method, str(request.url), headers)
        self._signer.sign(message, key_id=self.key_id, label=self._label,
                          created=datetime.fromtimestamp(int(created_s), UTC),
                          nonce=secrets.token_urlsafe(NONCE_BYTES), include_alg=True,
                          covered_component_ids=covered, body=request.content)
        for name in _SIGNATURE_FIELDS:
            request.headers[name] = message.headers[name]

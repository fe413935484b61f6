"""Signing one request: RFC 9421 with Ed25519, over method, target URI and Content-Digest.

The signature base comes from :mod:`paywarden.domain.signature_base`, the same
builder the server verifies with, so the two sides cannot disagree about it;
``cryptography`` makes the Ed25519 signature. Building the base by hand for our
one fixed set of components costs a fraction of the general library's
resolver (about 1 ms of CPU a request before, here on the client, which on a
small machine shares the cores with the server). Tests check every signature
this module makes against ``http-message-signatures``' own verifier.

Every signature carries a fresh random nonce (256 bits) and the time it was
created, so the server can refuse a replay and a stale request.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..domain.signature_base import component_values, signature_base, signature_params

COVERED = ("@method", "@target-uri", "content-digest")
LABEL = "sig"
NONCE_BYTES = 32
ALGORITHM = "ed25519"
_SIGNATURE_FIELDS = ("Signature-Input", "Signature", "Content-Digest")


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` with SHA-256, as a Structured Field dictionary."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode('ascii')}:"


class RequestSigner:
    def __init__(self, key_id: str, private_key: Ed25519PrivateKey, *, label: str = LABEL) -> None:
        self.key_id = key_id
        self._label = label
        self._key = private_key

    def sign(self, request: httpx.Request, *, created_s: float) -> None:
        """Add Content-Digest, Signature-Input and Signature to ``request``, in place."""
        for name in _SIGNATURE_FIELDS:
            request.headers.pop(name, None)
        request.headers["Content-Digest"] = content_digest(request.content)
        covered = list(COVERED)
        if "idempotency-key" in request.headers:
            covered.append("idempotency-key")  # so that no one on the way can change it
        params = signature_params(covered, {
            "created": int(created_s), "keyid": self.key_id,
            "alg": ALGORITHM, "nonce": secrets.token_urlsafe(NONCE_BYTES)})
        lines = [(name, request.headers[name]) for name in covered if not name.startswith("@")]
        components = component_values(covered, method=request.method,
                                      target_uri=str(request.url), lines=lines)
        signature = self._key.sign(signature_base(components, params))
        request.headers["Signature-Input"] = f"{self._label}={params}"
        request.headers["Signature"] = (
            f"{self._label}=:{base64.b64encode(signature).decode('ascii')}:")

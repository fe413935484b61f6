"""The SDK's signatures, checked by an independent verifier (``http-message-signatures``)."""

from __future__ import annotations

import base64
import hashlib
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from paywarden.client.signing import RequestSigner


class _Message:
    def __init__(self, request: httpx.Request) -> None:
        self.method = request.method
        self.url = str(request.url)
        self.headers = dict(request.headers)


def _verify(request: httpx.Request, key: Ed25519PrivateKey) -> list[str]:
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={"k1": key.public_key()}, private_keys={}))
    (result,) = verifier.verify(_Message(request))
    return list(result.covered_components)


def _signed(method: str, url: str, body: bytes = b"", **headers: str) -> tuple[
        httpx.Request, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    request = httpx.Request(method, url, content=body, headers=headers)
    RequestSigner("k1", key).sign(request, created_s=time.time())
    return request, key


def test_a_signed_get_verifies_with_the_library_and_covers_method_uri_and_digest() -> None:
    request, key = _signed("GET", "http://localhost:8000/v1/merchants/me?x=1")
    assert _verify(request, key)[:3] == ['"@method"', '"@target-uri"', '"content-digest"']
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert request.headers["Content-Digest"] == f"sha-256=:{empty}:"


def test_a_keyed_post_covers_its_idempotency_key_and_verifies() -> None:
    request, key = _signed("POST", "http://localhost:8000/v1/checkouts", b'{"amount":1}',
                           **{"Idempotency-Key": "order-1", "Content-Type": "application/json"})
    assert '"idempotency-key"' in _verify(request, key)
    params = request.headers["Signature-Input"]
    assert 'keyid="k1"' in params and 'alg="ed25519"' in params and ";nonce=" in params


def test_a_changed_idempotency_key_breaks_the_sdks_signature() -> None:
    request, key = _signed("POST", "http://localhost:8000/v1/checkouts", b"{}",
                           **{"Idempotency-Key": "order-1"})
    request.headers["Idempotency-Key"] = "order-2"
    with pytest.raises(InvalidSignature):
        _verify(request, key)


def test_signing_again_replaces_the_old_signature_with_a_fresh_nonce() -> None:
    request, key = _signed("GET", "http://localhost:8000/v1/merchants/me")
    first = request.headers["Signature-Input"]
    RequestSigner("k1", key).sign(request, created_s=time.time())
    assert request.headers["Signature-Input"] != first
    assert len(request.headers.get_list("Signature")) == 1
    _verify(request, key)

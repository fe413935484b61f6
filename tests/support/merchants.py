"""Helpers for merchant tests: an API over a real database, merchants with key pairs,
and requests signed (or mis-signed) with the http-message-signatures library."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSigner,
    MappingKeyResolver,
    algorithms,
)

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.api import create_app
from paywarden.bootstrap import Platform, build
from paywarden.settings import Settings

from .platform import platform_of, staff_token  # noqa: F401 - re-exported

PUBLIC_URL = "https://pay.example"  # what signatures cover; TestClient talks to testserver
NS = 10**9


@dataclass(frozen=True)
class Creds:
    merchant_id: str
    key_id: str
    key: Ed25519PrivateKey


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def platform_for(database: Database, clock: FakeClock, data_dir: Path,
                 **settings: Any) -> Platform:
    return build(Settings(database_url=database.url, data_dir=data_dir, public_url=PUBLIC_URL,
                          **settings), clock=clock, database=database)


@contextmanager
def client_for(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@contextmanager
def api_client(database: Database, clock: FakeClock, data_dir: Path) -> Iterator[TestClient]:
    platform = platform_for(database, clock, data_dir)
    with client_for(create_app(platform)) as client:
        yield client


def make_merchant(platform: Platform, name: str = "Shop") -> Creds:
    key = new_key()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    new = platform.merchants.create(name=name, public_key=raw, actor="cli:test")
    return Creds(new.merchant.id, new.key_id, key)


class _Message:
    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


class MislabelledEd25519(algorithms.ED25519):  # type: ignore[misc]
    """A genuine Ed25519 signature that claims to be another algorithm."""

    algorithm_id = "rsa-pss-sha512"


def signature_headers(creds: Creds, method: str, path: str, body: bytes = b"", *,
                      created_s: int, nonce: str | None = "", label: str = "sig",
                      covered: Sequence[str] = ("@method", "@target-uri", "content-digest"),
                      algorithm: type[Any] = algorithms.ED25519, origin: str = PUBLIC_URL,
                      key_id: str | None = None) -> dict[str, str]:
    """Content-Digest, Signature-Input and Signature for one request, as a merchant makes them.

    ``nonce=""`` draws a fresh one; ``None`` leaves it out.
    """
    key_id = key_id or creds.key_id
    signer = HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=MappingKeyResolver(
        public_keys={}, private_keys={key_id: creds.key}))
    message = _Message(method, origin + path, {})
    covers_digest = "content-digest" in covered
    if not covers_digest:  # sent, but left out of the signature
        message.headers["Content-Digest"] = ContentDigest.create(body)
    signer.sign(message, key_id=key_id, label=label,
                created=datetime.fromtimestamp(created_s, UTC),
                nonce=secrets.token_urlsafe(32) if nonce == "" else nonce,
                covered_component_ids=list(covered), body=body if covers_digest else None,
                use_existing_digest=not covers_digest)
    return dict(message.headers)


def now_s(platform: Platform) -> int:
    return platform.clock.now_ns() // NS


def signed(client: TestClient, creds: Creds, method: str, path: str, body: bytes = b"", *,
           headers: dict[str, str] | None = None, send_body: bytes | None = None,
           idempotency_key: str | None = "auto", **sign: Any) -> httpx.Response:
    """Sign and send; ``send_body`` sends other bytes than those signed (an attacker's edit)."""
    sign.setdefault("created_s", now_s(platform_of(client)))
    all_headers = signature_headers(creds, method, path, body, **sign)
    if body:
        all_headers["Content-Type"] = "application/json"
    if method == "POST" and idempotency_key is not None:
        all_headers["Idempotency-Key"] = ("idk_" + secrets.token_hex(8)
                                          if idempotency_key == "auto" else idempotency_key)
    all_headers.update(headers or {})
    return client.request(method, path, content=body if send_body is None else send_body,
                          headers=all_headers)


def code_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["code"])

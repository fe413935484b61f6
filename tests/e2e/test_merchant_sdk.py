"""A real server process and the merchant SDK: created on the CLI, signed over TCP."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paywarden.client import AuthenticationFailed, InvalidRequest, PayWardenClient

from .server import free_port, paywarden, serving


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _merchant_on_the_cli(env: dict[str, str], tmp_path: Path
                         ) -> tuple[Ed25519PrivateKey, dict[str, str]]:
    """`paywarden merchants create … --json`, as an operator on the server host runs it."""
    key = Ed25519PrivateKey.generate()
    (tmp_path / "shop.pem").write_bytes(_pem(key))
    created = paywarden(env, "merchants", "create", "--name", "Shop", "--public-key",
                        str(tmp_path / "shop.pem"), "--json")
    return key, json.loads(created.stdout)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    paywarden(env, "init")
    with serving(env, port, tmp_path / "server.log") as base:
        yield base, env


def test_a_merchant_created_on_the_cli_signs_its_requests_with_the_sdk(
        server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, env = server
    key, ids = _merchant_on_the_cli(env, tmp_path)
    with PayWardenClient(base, ids["key_id"], key, timeout_s=30) as sdk:
        assert sdk.me()["id"] == ids["merchant_id"]
        rotated = Ed25519PrivateKey.generate()
        added = sdk.add_key(_pem(rotated), label="next")
        sdk.revoke_key(ids["key_id"])
        with pytest.raises(AuthenticationFailed) as refused:
            sdk.me()
        assert refused.value.code == "key_revoked"
    with PayWardenClient(base, added["id"], rotated, timeout_s=30) as sdk:
        assert sdk.me()["id"] == ids["merchant_id"]
        with pytest.raises(InvalidRequest) as reused:
            sdk.request("POST", "/v1/merchants/me/keys", idempotency_key="once",
                        json={"public_key": _pem(Ed25519PrivateKey.generate()).decode()})
            sdk.request("POST", "/v1/merchants/me/keys", idempotency_key="once",
                        json={"public_key": _pem(Ed25519PrivateKey.generate()).decode()})
        assert reused.value.code == "idempotency_key_reused"
    log = (tmp_path / "server.log").read_text()
    for secret in (key, rotated):
        raw = secret.private_bytes_raw()
        assert raw.hex() not in log


def test_racing_retries_with_one_idempotency_key_add_one_key(
        server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, env = server
    key, ids = _merchant_on_the_cli(env, tmp_path)
    body = {"public_key": _pem(Ed25519PrivateKey.generate()).decode(), "label": "raced"}
    results: list[dict[str, str]] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        with PayWardenClient(base, ids["key_id"], key, timeout_s=30, retries_max=10) as sdk:
            barrier.wait()
            results.append(sdk.request("POST", "/v1/merchants/me/keys", json=body,
                                       idempotency_key="race-1"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 4 and len({r["id"] for r in results}) == 1
    with PayWardenClient(base, ids["key_id"], key, timeout_s=30) as sdk:
        assert len(sdk.me()["keys"]) == 2

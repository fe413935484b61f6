"""A real server process and the merchant SDK: created on the CLI, signed over TCP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paywarden.client import AuthenticationFailed, InvalidRequest, PayWardenClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_PUBLIC_URL": base}
    init = subprocess.run([sys.executable, "-m", "paywarden", "init"], check=False, env=env,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "paywarden", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail((tmp_path / "server.log").read_text())
    yield base, env
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_a_merchant_created_on_the_cli_signs_its_requests_with_the_sdk(
        server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, env = server
    key = Ed25519PrivateKey.generate()
    (tmp_path / "shop.pem").write_bytes(_pem(key))
    created = subprocess.run([sys.executable, "-m", "paywarden", "merchants", "create",
                              "--name", "Shop", "--public-key", str(tmp_path / "shop.pem"),
                              "--json"], check=False, env=env, capture_output=True, text=True,
                             timeout=120)
    assert created.returncode == 0, created.stderr
    ids = json.loads(created.stdout)
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
    key = Ed25519PrivateKey.generate()
    (tmp_path / "shop.pem").write_bytes(_pem(key))
    created = subprocess.run([sys.executable, "-m", "paywarden", "merchants", "create",
                              "--name", "Shop", "--public-key", str(tmp_path / "shop.pem"),
                              "--json"], check=False, env=env, capture_output=True, text=True,
                             timeout=120)
    ids = json.loads(created.stdout)
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

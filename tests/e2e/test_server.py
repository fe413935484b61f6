"""A real server process: `paywarden init`, then `paywarden serve`, spoken to over TCP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true"}
    init = subprocess.run([sys.executable, "-m", "paywarden", "init"], check=False, env=env,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    issued = subprocess.run([sys.executable, "-m", "paywarden", "tokens", "issue", "--role",
                             "operator", "--json"], check=False, env=env, capture_output=True,
                            text=True, timeout=120)
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "paywarden", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
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
    yield base, token
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
    assert token not in (tmp_path / "server.log").read_text(), "the token reached a log"


def test_a_real_server_moves_money_and_verify_agrees(server: tuple[str, str],
                                                     database_url: str) -> None:
    base, token = server
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        assert client.post("/v1/ledgers", json={"currency": "EUR"}).status_code == 201
        a = client.post("/v1/accounts", json={"ledger": "EUR", "code": 1}).json()["id"]
        b = client.post("/v1/accounts", json={"ledger": "EUR", "code": 1}).json()["id"]
        r = client.post("/v1/transfers", json={"transfers": [
            {"id": "e2e-1", "debit_account_id": a, "credit_account_id": b, "amount": 4_200,
             "ledger": "EUR", "code": 1}]})
        assert r.json()["results"][0]["result"] == "ok"
        assert client.get(f"/v1/accounts/{b}").json()["balances"]["credits_posted"] == 4_200
        assert httpx.get(f"{base}/v1/accounts/{b}").status_code == 401
    check = subprocess.run([sys.executable, "-m", "paywarden", "verify"], check=False,
                           env={**os.environ, "PAYWARDEN_DATABASE_URL": database_url},
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr

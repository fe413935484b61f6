"""A real server process: `paywarden init`, then `paywarden serve`, spoken to over TCP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .server import free_port, paywarden, service_token, serving


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": database_url,
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true"}
    paywarden(env, "init")
    token = service_token(env)
    with serving(env, free_port(), tmp_path / "server.log") as base:
        yield base, token
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

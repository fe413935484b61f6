"""One SQLite file, four writers at once, for a minute, with no error: a serving process
(HTTP clients writing through the ledger engine and through ordinary units of work),
its maintenance thread (signing tree heads, rewrapping sealed records), and two CLI
processes (issuing tokens, creating merchants, rotating keys).

Before, a command run beside a serving process could fail with "database is locked":
a transaction that read, then wrote after another writer's commit, could not wait.
Set PAYWARDEN_CONCURRENT_WRITERS_S to run it shorter (or longer) locally.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .server import COMMAND_TIMEOUT_S, free_port, paywarden, service_token, serving

DURATION_S = float(os.environ.get("PAYWARDEN_CONCURRENT_WRITERS_S", "60"))
HTTP_TIMEOUT_S = 60


def _pem() -> str:
    return Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


class Writers:
    """Runs writers until the deadline; every failure is kept, with what failed."""

    def __init__(self, duration_s: float) -> None:
        self.deadline = time.monotonic() + duration_s
        self.errors: list[str] = []
        self.done: dict[str, int] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, name: str, step: Callable[[int], str | None]) -> None:
        def loop() -> None:
            n = 0
            while time.monotonic() < self.deadline:
                try:
                    failure = step(n)
                except Exception as exc:  # noqa: BLE001 - every failure is the finding
                    failure = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    if failure is not None:
                        self.errors.append(f"{name} #{n}: {failure}")
                    self.done[name] = self.done.get(name, 0) + 1
                n += 1

        thread = threading.Thread(target=loop, name=name)
        self._threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=DURATION_S + 3 * COMMAND_TIMEOUT_S)


def _cli(env: dict[str, str], *args: str) -> str | None:
    done = subprocess.run([sys.executable, "-m", "paywarden", *args], check=False, env=env,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    return None if done.returncode == 0 else f"{' '.join(args)} -> {done.stderr[-500:]}"


def _http(client: httpx.Client, path: str, body: dict[str, object]) -> str | None:
    r = client.post(path, json=body)
    return None if r.is_success else f"POST {path} -> {r.status_code} {r.text[:300]}"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {**os.environ, "PAYWARDEN_DATABASE_URL": f"sqlite:///{tmp_path}/paywarden.db",
           "PAYWARDEN_DATA_DIR": str(tmp_path), "PAYWARDEN_LOG_JSON": "true",
           "PAYWARDEN_AUDIT_SIGN_INTERVAL_S": "0.2",  # the maintenance thread writes often
           "PAYWARDEN_KEY_MAINTENANCE_INTERVAL_S": "1",
           # the server sees the CLI's rotation within a second, not a minute (its key
           # cache), so it rewraps within the run however slowly the CLI started
           "PAYWARDEN_KEY_CACHE_S": "1",
           # one client writes as fast as it can here: no rate limit is under test
           "PAYWARDEN_RATE_LIMIT_ACCOUNT": "1000000/minute",
           "PAYWARDEN_RATE_LIMIT_ADDRESS": "1000000/minute"}


@pytest.mark.slow
def test_a_server_its_maintenance_and_two_cli_processes_write_at_once_without_error(
        env: dict[str, str], tmp_path: Path) -> None:
    paywarden(env, "init")
    operator = service_token(env)  # a machine principal posts transfers directly
    merchant_admin = json.loads(paywarden(env, "tokens", "issue", "--role", "merchant_admin",
                                          "--json").stdout)["token"]

    def key_file(n: int) -> str:
        path = tmp_path / f"merchant-{n}.pem"  # a merchant key is registered once only
        path.write_text(_pem())
        return str(path)

    log_path = tmp_path / "server.log"
    with serving(env, free_port(), log_path) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {operator}"},
            timeout=HTTP_TIMEOUT_S) as client, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {merchant_admin}"},
            timeout=HTTP_TIMEOUT_S) as admin:
        assert client.post("/v1/ledgers", json={"currency": "EUR"}).status_code == 201
        a, b = (client.post("/v1/accounts", json={"ledger": "EUR", "code": 1}).json()["id"]
                for _ in range(2))
        writers = Writers(DURATION_S)
        writers.start("http.transfers", lambda n: _http(client, "/v1/transfers", {"transfers": [
            {"id": f"t{n}", "debit_account_id": a, "credit_account_id": b, "amount": 1,
             "ledger": "EUR", "code": 1}]}))
        writers.start("http.merchants", lambda n: _http(admin, "/v1/merchants", {
            "name": f"shop {n}", "public_key": _pem()}))
        writers.start("cli.1", lambda n: _cli(env, "tokens", "issue", "--role", "support",
                                              "--json") if n % 2 else
                      _cli(env, "keys", "rotate", "data"))
        writers.start("cli.2", lambda n: _cli(env, "merchants", "create", "--name",
                                              f"cli shop {n}", "--public-key", key_file(n),
                                              "--json") if n % 2 else
                      _cli(env, "keys", "rotate", "receipts"))
        writers.join()
        assert client.get("/health/ready").status_code == 200
    assert writers.errors == [], writers.errors[:10]
    assert all(writers.done.get(name, 0) >= 2 for name in ("cli.1", "cli.2")), writers.done
    logged = [json.loads(line) for line in log_path.read_text().splitlines()
              if line.startswith("{")]
    assert [e for e in logged if e.get("level") in ("error", "critical")] == []
    with sqlite3.connect(tmp_path / "paywarden.db") as db:
        heads = db.execute("SELECT count(*) FROM audit_tree_heads").fetchone()[0]
        rewraps = db.execute("SELECT count(*) FROM audit_entries WHERE action = 'key.rewrap'"
                             ).fetchone()[0]
    assert heads >= 2 and rewraps >= 1, "the maintenance thread did not write"
    paywarden(env, "verify")
    paywarden(env, "audit", "verify")

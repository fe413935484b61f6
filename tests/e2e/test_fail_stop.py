"""A real `paywarden serve` whose SQLite file is removed, replaced or whose directory is made
read-only under it: readiness goes false, the next write is not acknowledged (503 or the
connection closed, never 2xx), and the process exits non-zero.

Before, the server acknowledged writes into the lost file and stayed ready; on restart
they were gone.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from paywarden.services.failstop import EXIT_CODE

from .server import _wait_ready, free_port, paywarden, service_token

EXIT_WAIT_S = 30


def _remove(path: Path) -> None:
    path.unlink()


def _replace(path: Path) -> None:
    """An older copy put back over the live file (a consistent one: SQLite's backup API)."""
    copy = path.with_name("copy.db")
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    os.replace(copy, path)


@contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """chmod stops no one as root: there, the directory is made immutable instead."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a directory read-only")
        subprocess.run(["chattr", "+i", str(directory)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
    else:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, str, Path]]:
    """A server on a SQLite file in a directory of its own; (process, base URL, token, file)."""
    db = tmp_path / "db" / "paywarden.db"
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": f"sqlite:///{db}",
           "PAYWARDEN_DATA_DIR": str(tmp_path / "var"), "PAYWARDEN_LOG_JSON": "true"}
    paywarden(env, "init")
    token = service_token(env)
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "paywarden", "serve", "--host",
                                 "127.0.0.1", "--port", str(port)], env=env, stdout=log,
                                stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc, log_path)
        yield proc, base, token, db
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=EXIT_WAIT_S)


def _post(base: str, token: str, path: str, body: dict[str, object]) -> httpx.Response | None:
    """The answer to a write, or None if the connection was closed or refused."""
    try:
        return httpx.post(f"{base}{path}", json=body, timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
    except httpx.TransportError:
        return None


def _post_ledger(base: str, token: str, currency: str) -> int | None:
    """A unit of work of the API's own (SQLAlchemy, engine.begin())."""
    r = _post(base, token, "/v1/ledgers", {"currency": currency})
    return None if r is None else r.status_code


def _accounts(base: str, token: str) -> tuple[str, str]:
    made = [_post(base, token, "/v1/accounts", {"ledger": "EUR", "code": 1}) for _ in range(2)]
    assert all(r is not None and r.status_code == 201 for r in made)
    return made[0].json()["id"], made[1].json()["id"]  # type: ignore[union-attr]


def _post_transfer(base: str, token: str, accounts: tuple[str, str], transfer_id: str
                   ) -> int | None:
    """A write through the ledger engine's writer thread (its own raw connection)."""
    r = _post(base, token, "/v1/transfers", {"transfers": [
        {"id": transfer_id, "debit_account_id": accounts[0], "credit_account_id": accounts[1],
         "amount": 100, "ledger": "EUR", "code": 1}]})
    return None if r is None else r.status_code


def _ready(base: str) -> int | None:
    try:
        return httpx.get(f"{base}/health/ready", timeout=5).status_code
    except httpx.TransportError:
        return None


def _verify(tmp_path: Path, db: Path) -> None:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": f"sqlite:///{db}",
           "PAYWARDEN_DATA_DIR": str(tmp_path / "var")}
    paywarden(env, "verify")
    paywarden(env, "audit", "verify")


def _assert_stopped(proc: subprocess.Popen[bytes], log_path: Path) -> None:
    assert proc.wait(timeout=EXIT_WAIT_S) == EXIT_CODE != 0
    lines = [json.loads(line) for line in log_path.read_text().splitlines()
             if line.startswith("{")]
    (stop,) = [e for e in lines if e.get("event") == "process.fail_stop"]
    assert stop["level"] == "critical" and "database" in stop["reason"]


@pytest.mark.parametrize("lose", [_remove, _replace], ids=["removed", "replaced"])
def test_a_write_into_a_lost_database_file_is_not_acknowledged_and_the_server_exits(
        served: tuple[subprocess.Popen[bytes], str, str, Path], tmp_path: Path,
        lose: Callable[[Path], None]) -> None:
    proc, base, token, db = served
    assert _post_ledger(base, token, "EUR") == 201
    lose(db)
    status = _post_ledger(base, token, "USD")  # at once: before any periodic check
    assert status is None or status == 503, status
    assert _ready(base) in (None, 503)
    _assert_stopped(proc, tmp_path / "server.log")
    if db.exists():  # the copy put back (with whatever SQLite replays onto it) is whole
        _verify(tmp_path, db)


def test_a_transfer_committed_into_a_removed_file_is_not_acknowledged(
        served: tuple[subprocess.Popen[bytes], str, str, Path], tmp_path: Path) -> None:
    proc, base, token, db = served
    assert _post_ledger(base, token, "EUR") == 201
    accounts = _accounts(base, token)
    assert _post_transfer(base, token, accounts, "before") == 200
    db.unlink()
    status = _post_transfer(base, token, accounts, "after")
    assert status is None or status == 503, status
    assert _ready(base) in (None, 503)
    _assert_stopped(proc, tmp_path / "server.log")


def test_a_database_directory_made_read_only_stops_the_server(
        served: tuple[subprocess.Popen[bytes], str, str, Path], tmp_path: Path) -> None:
    proc, base, token, db = served
    assert _post_ledger(base, token, "EUR") == 201
    with _read_only(db.parent):
        status = _post_ledger(base, token, "USD")
        assert status is None or status == 503, status
        assert _ready(base) in (None, 503)
        _assert_stopped(proc, tmp_path / "server.log")
    _verify(tmp_path, db)

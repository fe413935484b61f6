"""`paywarden serve --workers N` (issue 15): N processes on one port, sharing PostgreSQL
and Redis. Refused where they could not be correct (SQLite; no shared rate-limit store);
a worker that dies stops the others and the server exits non-zero (crash, don't limp);
SIGTERM stops them all cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import _drop_pg_database, _fresh_pg_database

from .server import free_port, paywarden, spawn

WAIT_S = 60


@pytest.fixture
def pg_env(tmp_path: Path, redis_url: str) -> Iterator[dict[str, str]]:
    url, name = _fresh_pg_database()
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": url, "PAYWARDEN_DATA_DIR": str(tmp_path),
           "PAYWARDEN_REDIS_URL": redis_url}
    paywarden(env, "init")
    yield env
    _drop_pg_database(name)


def _refused(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "paywarden", "serve", "--port",
                           str(free_port()), "--workers", "2"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    return done.stderr


def test_workers_are_refused_where_they_could_not_be_correct(
        tmp_path: Path, pg_env: dict[str, str]) -> None:
    sqlite = {k: v for k, v in pg_env.items() if k != "PAYWARDEN_DATABASE_URL"}
    sqlite["PAYWARDEN_DATA_DIR"] = str(tmp_path / "sqlite")
    paywarden(sqlite, "init")
    assert "several workers need PostgreSQL" in _refused(sqlite)
    no_redis = {k: v for k, v in pg_env.items() if k != "PAYWARDEN_REDIS_URL"}
    assert "several workers need a shared rate-limit store" in _refused(no_redis)


def _workers(parent: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True,
                           check=False).stdout.split()
    return [int(p) for p in found]


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    pytest.fail(what)


def test_workers_share_the_port_and_a_dead_one_stops_the_server(
        tmp_path: Path, pg_env: dict[str, str]) -> None:
    port = free_port()
    server, base = spawn(pg_env, port, tmp_path / "serve.log", "--workers", "3")
    try:
        _wait(lambda: len(_workers(server.pid)) == 3, "three workers")
        workers = _workers(server.pid)
        for _ in range(20):  # every answer from one of them, over fresh connections
            assert httpx.get(f"{base}/health/ready", timeout=10).status_code == 200

        os.kill(workers[0], signal.SIGKILL)  # one dies as in a crash
        assert server.wait(timeout=WAIT_S) == 128 + signal.SIGKILL
        _wait(lambda: all(not _alive(w) for w in workers), "every worker stopped")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(
        f"/proc/{pid}/stat").read_text()


def test_sigterm_stops_every_worker_cleanly(tmp_path: Path, pg_env: dict[str, str]) -> None:
    server, _ = spawn(pg_env, free_port(), tmp_path / "serve.log", "--workers", "2")
    _wait(lambda: len(_workers(server.pid)) == 2, "two workers")
    workers = _workers(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=WAIT_S) == 0
    assert not any(_alive(w) for w in workers)

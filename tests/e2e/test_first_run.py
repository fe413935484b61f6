"""`paywarden run` (what `make run` starts): a busy port is refused before anything is
written, the demo and the operator token come with the first start only, and a second
server on the same SQLite file is refused with one clear line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .server import COMMAND_TIMEOUT_S, READY_TIMEOUT_S, free_port


def env_for(data: Path, port: int) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PAYWARDEN_")}
    return {**clean, "PAYWARDEN_DATA_DIR": str(data), "PAYWARDEN_PORT": str(port),
            "PAYWARDEN_LOG_JSON": "true", "COLUMNS": "200",
            # `serve` beside `run`: this checkout's code, and CI runs as root (tests/conftest)
            "PAYWARDEN_ALLOW_UNSIGNED": "true", "PAYWARDEN_ALLOW_ROOT": "true"}


def paywarden(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paywarden", *args], env=env, text=True,
                          capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)


@contextmanager
def running(env: dict[str, str], log: Path) -> Iterator[str]:
    """`paywarden run` until the block ends; yields what it printed before it was ready."""
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "paywarden", "run"], env=env,
                                stdout=out, stderr=out)
    base = f"http://127.0.0.1:{env['PAYWARDEN_PORT']}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(log.read_text())
        yield log.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def db_files(data: Path) -> list[str]:
    return sorted(p.name for p in data.rglob("*") if p.is_file())


def test_a_busy_port_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = paywarden(env_for(tmp_path / "var", port), "run")
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "PAYWARDEN_PORT" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()  # no database, no key, no demo, no token


def test_the_demo_and_the_token_come_with_the_first_start_only(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = env_for(data, free_port())
    with running(env, tmp_path / "first.log") as first:
        assert "Operator token" in first and "merchant_id" in first
        assert f"Open:     http://localhost:{env['PAYWARDEN_PORT']}" in first
        assert f"PayWarden running on http://localhost:{env['PAYWARDEN_PORT']}" in first
    demo_keys = sorted((data / "demo").iterdir())
    with running(env, tmp_path / "second.log") as second:
        assert "Operator token" not in second and "pws_" not in second
        assert "merchant_id" not in second
        assert "Demo:     loaded by the first start, not made again" in second
        assert "paywarden tokens issue --role operator" in second
    assert sorted((data / "demo").iterdir()) == demo_keys  # no second demo merchant


def test_a_second_server_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = env_for(data, free_port())
    with running(env, tmp_path / "first.log"):
        before = db_files(data)
        for command in ("run", "serve"):
            done = paywarden({**env, "PAYWARDEN_PORT": str(free_port())}, command)
            assert done.returncode == 2, done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 2 and "another PayWarden server (pid" in lines[0], done.stderr
            assert str(data / "paywarden.db") in lines[0]
        assert db_files(data) == before

"""Running `paywarden` as real processes: a command, and a server on a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

# Generous: `make test` starts servers in several workers at once on a small machine, and
# a server that dies is seen at once (its exit), not at the end of this wait.
READY_TIMEOUT_S = 90
COMMAND_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def paywarden(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one command to completion; fail the test if it fails."""
    done = subprocess.run([sys.executable, "-m", "paywarden", *args], check=False, env=env,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done


_SERVICE_TOKEN = """
from paywarden.cli.common import open_platform, settings_from_env
from paywarden.services.identity.tokens import issue_service_token
platform = open_platform(settings_from_env())
print(issue_service_token(platform.database, platform.sessions, name="e2e", ttl_s=3600,
                          ttl_s_max=3600, actor="cli:e2e", now_ns=platform.clock.now_ns()).token)
platform.database.dispose()
"""


def service_token(env: dict[str, str]) -> str:
    """A machine principal's token (role service) on the platform ``env`` names: it posts
    ledger transfers directly, as a credential two people approved does (decision 0041)."""
    done = subprocess.run([sys.executable, "-c", _SERVICE_TOKEN], check=False, env=env,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def serving(env: dict[str, str], port: int, log_path: Path) -> Iterator[str]:
    """`paywarden serve` on ``port`` until the block ends; yields its base URL."""
    proc, base = spawn(env, port, log_path)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def spawn(env: dict[str, str], port: int, log_path: Path,
          *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """`paywarden serve` on ``port`` (with ``args``), ready to answer; the caller ends it
    (or it dies)."""
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "paywarden", "serve", "--host",
                                 "127.0.0.1", "--port", str(port), *args], env=env,
                                stdout=log, stderr=log)
    _wait_ready(base, proc, log_path)
    return proc, base


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    proc.wait(timeout=30)  # reaped here, or its ResourceWarning fails whichever test runs next
    pytest.fail(log_path.read_text())

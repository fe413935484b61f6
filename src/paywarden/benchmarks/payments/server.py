"""A real ``paywarden serve`` process for the HTTP measurements, and its resident memory."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

import paywarden

READY_TIMEOUT_S = 60.0
SETTLE_WINDOW_S = 0.5  # the server counts as idle when a window costs it under 5% of one core
SETTLE_BUSY_MAX = 0.05
SETTLE_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 30.0
# The defaults allow one address 20 requests/s (rate_limit_address): a benchmark from
# one address would measure the limiter. Every request still passes through it.
RATE_LIMIT = "1000000/second"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(*, database_url: str, data_dir: Path, public_url: str,
               rp_id: str) -> dict[str, str]:
    """The environment of the serving process: this one's, with the run's settings on top."""
    src = str(Path(paywarden.__file__).resolve().parents[1])  # the code measured
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + path if path else ""),
            "PAYWARDEN_DATABASE_URL": database_url, "PAYWARDEN_DATA_DIR": str(data_dir),
            "PAYWARDEN_PUBLIC_URL": public_url, "PAYWARDEN_WEBAUTHN_RP_ID": rp_id,
            "PAYWARDEN_RATE_LIMIT_ADDRESS": RATE_LIMIT,
            "PAYWARDEN_RATE_LIMIT_MERCHANT_KEY": RATE_LIMIT,
            "PAYWARDEN_RATE_LIMIT_ACCOUNT": RATE_LIMIT, "PAYWARDEN_LOG_JSON": "true"}


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int

    def memory_mb(self) -> dict[str, float]:
        """Resident memory now (``VmRSS``) and at its peak so far (``VmHWM``), in MB."""
        found: dict[str, float] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024  # kB
        return {"rss_mb": found["VmRSS"], "peak_rss_mb": found["VmHWM"]}

    def cpu_s(self) -> float:
        """CPU time the process has used so far (user + system), in seconds."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settle(self) -> float:
        """Wait until the server has finished the work of the last load; the seconds waited.

        The work a load leaves behind (webhook deliveries, checkpoints, the
        collector) would otherwise be charged to whatever is measured next.
        """
        started = time.monotonic()
        while time.monotonic() - started < SETTLE_TIMEOUT_S:
            before = self.cpu_s()
            time.sleep(SETTLE_WINDOW_S)
            if self.cpu_s() - before < SETTLE_BUSY_MAX * SETTLE_WINDOW_S:
                break
        return time.monotonic() - started


@contextlib.contextmanager
def serving(env: dict[str, str], *, port: int, public_url: str,
            log_path: Path) -> Iterator[Server]:
    """``paywarden serve`` on 127.0.0.1:``port`` until the block ends."""
    with log_path.open("w") as log:
        # A benchmark runs this checkout's code, unsigned, as whoever runs it (0069).
        proc = subprocess.Popen([sys.executable, "-m", "paywarden", "serve", "--host",
                                 "127.0.0.1", "--port", str(port), "--allow-unsigned",
                                 "--allow-root"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            _wait_ready(public_url, proc, log_path)
            yield Server(public_url, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    tail = log_path.read_text()[-2000:]
    raise RuntimeError(f"paywarden serve did not become ready (exit code {proc.poll()}):\n{tail}")

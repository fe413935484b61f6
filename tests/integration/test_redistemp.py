"""scripts/redistemp.py: the throwaway Redis `make test` runs the suite with."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "redistemp.py"
PROBE = """
import os, socket, sys
url = os.environ["PAYWARDEN_TEST_REDIS_URL"]
port = int(url.rsplit(":", 1)[1].split("/")[0])
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    s.sendall(b"CONFIG GET save\\r\\nCONFIG GET appendonly\\r\\n")
    print(url, s.recv(200))
sys.exit(3)
"""


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_the_command_runs_against_a_redis_without_persistence_that_is_gone_afterwards() -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: CI must test the shared limits")
        pytest.skip("no redis-server on this machine")
    env = {k: v for k, v in os.environ.items() if k != "PAYWARDEN_TEST_REDIS_URL"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--", sys.executable, "-c", PROBE],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3, done.stderr  # the command's own exit code
    url, reply = done.stdout.split(" ", 1)
    assert url.startswith("redis://127.0.0.1:") and url.endswith("/0")
    assert "save" in reply and "appendonly" in reply and "no" in reply
    assert "$0" in reply  # save is "": no snapshots
    assert not answers(int(url.rsplit(":", 1)[1].split("/")[0]))

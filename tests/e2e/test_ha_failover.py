"""Issue 15, for real: a three-member Patroni cluster with etcd, two `paywarden serve`
processes on it, ledger transfers and escrow payments through both, and the primary's
postmaster SIGKILLed three times (the short version of ``bench/ha.py``). Then a replica
and an etcd member are lost, and the primary is cut off from etcd. After each failover
every write a client saw acknowledged is in the database exactly once and
`paywarden verify` passes.

The second test shows the start-up refusal: `paywarden serve` on the cluster made
asynchronous, or not strict, exits 2 and says why; with `--accept-async-loss` it serves
and says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paywarden.adapters.store import open_database
from paywarden.benchmarks.ha.run import Options, run
from paywarden.benchmarks.payments.server import free_port
from paywarden.ha import Cluster, plan
from paywarden.ha.patroni import dynamic

pytestmark = [
    pytest.mark.slow, pytest.mark.timeout(1200),
    pytest.mark.skipif(shutil.which("etcd") is None and not os.environ.get("CI"),
                       reason="etcd is not installed (make test installs it)"),
]

FAILOVER_PORT = 25432  # the benchmark's cluster: PostgreSQL 25432-4, REST 25532-4, etcd 256xx
REFUSAL_PORT = 26432
READY_WAIT_S = 30


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder the postgres user can reach (pytest's own tmp_path is closed to others;
    the members run as postgres when the suite runs as root)."""
    made = Path(tempfile.mkdtemp(prefix="paywarden-ha-test-"))
    made.chmod(0o755)
    yield made
    shutil.rmtree(made, ignore_errors=True)


def test_failover_under_load_loses_nothing(open_dir: Path) -> None:
    result = run(Options(failovers=3, writers=4, buyers=1, window_s=3.0, between_s=1.0,
                         base_port=FAILOVER_PORT, root=open_dir,
                         scenarios=("replica", "etcd-leader", "partition")))

    assert result["failovers"] == 3
    assert result["acknowledged"] > 100
    assert result["lost"] == 0, result["lost_examples"]
    assert result["duplicated"] == 0, result["duplicated_examples"]
    assert result["verify_ok"], result["verify_violations"]
    assert all(c["lost"] == 0 and c["duplicated"] == 0 and c["verify_ok"]
               for c in result["checks"]), result["checks"]
    assert result["unknown_outcomes"] == 0
    # Writes came back after every failover, within the bound.
    assert result["write_downtime_s_max"] <= 30, result["write_downtimes_s"]
    kinds = {"checkout", "pay"}
    assert kinds <= set(result["acknowledged_kinds"]), result["acknowledged_kinds"]
    # The partitioned primary lost its leadership to another member.
    partition = result["scenarios"]["partition"]
    assert partition["new_leader"] != partition["member"]


@pytest.fixture
def cluster(open_dir: Path) -> Iterator[Cluster]:
    made = Cluster(plan(base_port=REFUSAL_PORT, root=open_dir / "cluster"))
    try:
        made.up()
        database = open_database(made.plan.database_url())
        database.migrate()
        database.dispose()
        yield made
    finally:
        made.down()


def _serve(cluster: Cluster, tmp_path: Path, *args: str,
           patroni: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PAYWARDEN_DATABASE_URL": cluster.plan.database_url(),
           "PAYWARDEN_DATA_DIR": str(tmp_path / "data"),
           "PAYWARDEN_PATRONI_URLS": cluster.plan.patroni_urls() if patroni is None
           else patroni}
    port = free_port()
    return subprocess.Popen([sys.executable, "-m", "paywarden", "serve", "--port", str(port),
                             *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _refused(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 2, out
    return out


def _serves(process: subprocess.Popen[str]) -> str:
    """The process serves until it answers ready; then it is stopped. Its output."""
    seen: list[str] = []
    try:
        for line in process.stdout or []:
            seen.append(line)
            if "PayWarden running on" in line:
                port = line.split("listening on 127.0.0.1:")[1].split(";")[0]
                assert _ready(f"http://127.0.0.1:{port}/health/ready")
                break
    finally:
        process.terminate()
    out, _ = process.communicate(timeout=60)
    return "".join(seen) + out


def _ready(url: str) -> bool:
    deadline = time.monotonic() + READY_WAIT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass  # the line comes just before the server listens
        time.sleep(0.2)
    return False


def test_serve_refuses_a_cluster_that_could_lose_acknowledged_commits(
        cluster: Cluster, tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "paywarden", "init"], check=True, env={
        **os.environ, "PAYWARDEN_DATABASE_URL": cluster.plan.database_url(),
        "PAYWARDEN_DATA_DIR": str(tmp_path / "data")}, capture_output=True, timeout=120)
    assert "PayWarden running on" in _serves(_serve(cluster, tmp_path))

    # Patroni named but unreachable: safety cannot be judged.
    out = _refused(_serve(cluster, tmp_path, patroni="http://127.0.0.1:9"))
    assert "cannot tell whether the PostgreSQL cluster is safe" in out

    cluster.patch_config({"synchronous_mode_strict": False})
    out = _refused(_serve(cluster, tmp_path))
    assert "synchronous_mode_strict is off" in out

    cluster.patch_config(dynamic(synchronous=False))
    cluster.wait_members(running=3)
    out = _refused(_serve(cluster, tmp_path))
    assert "could lose acknowledged payments on failover" in out
    assert "synchronous_mode is off" in out

    out = _serves(_serve(cluster, tmp_path, "--accept-async-loss"))
    assert "WARNING, serving with --accept-async-loss" in out

    cluster.patch_config(dynamic(synchronous=True))
    cluster.wait_writable()
    assert "PayWarden running on" in _serves(_serve(cluster, tmp_path))

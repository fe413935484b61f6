"""Issue 15, for real: a three-member Patroni cluster with etcd, two `paywarden serve`
processes on it, ledger transfers and escrow payments through both, and the primary's
postmaster SIGKILLed three times (the short version of ``bench/ha.py``). Then a replica
and an etcd member are lost, and the primary is cut off from etcd. After each failover
every write a client saw acknowledged is in the database exactly once and
`paywarden verify` passes.

The second test shows the start-up refusal: `paywarden serve` on the cluster made
asynchronous, or not strict, exits 2 and says why; with `--accept-async-loss` it serves
and says so. The third sends reads that may be older to a replica while it is within its
staleness bound, and to the primary once its replay is paused past it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from paywarden.adapters.store import Database, open_database
from paywarden.adapters.store.replica import Replica
from paywarden.benchmarks.ha.run import Options, run
from paywarden.benchmarks.payments.server import free_port
from paywarden.ha import Cluster, plan
from paywarden.ha.cluster import free_base_port
from paywarden.ha.patroni import dynamic

pytestmark = [
    pytest.mark.slow, pytest.mark.timeout(1200),
    pytest.mark.skipif(shutil.which("etcd") is None and not os.environ.get("CI"),
                       reason="etcd is not installed (make test installs it)"),
]

PITR_DEBIT, PITR_CREDIT = 0x7E57_0001, 0x7E57_0002
PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl"
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
                         base_port=free_base_port(), root=open_dir,
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
    # The stopped primary lost its leadership, and no two members ever acknowledged writes.
    partition = result["scenarios"]["partition"]
    assert partition["new_leader"] != partition["member"]
    assert partition["most_members_acknowledging_at_once"] == 1, partition
    # One signed request replayed to the other API process is refused there.
    replay = result["scenarios"]["replay"]
    assert replay["refused"], replay


@pytest.fixture(scope="module")
def module_dir() -> Iterator[Path]:
    made = Path(tempfile.mkdtemp(prefix="paywarden-ha-test-"))
    made.chmod(0o755)
    yield made
    shutil.rmtree(made, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(module_dir: Path) -> Iterator[Cluster]:
    """One cluster for the tests below (one xdist worker: their group)."""
    made = Cluster(plan(base_port=free_base_port(), root=module_dir / "cluster"))
    try:
        made.up()
        subprocess.run([sys.executable, "-m", "paywarden", "init"], check=True,
                       env=_env(made), capture_output=True, timeout=120)
        yield made
    finally:
        made.down()


def _env(cluster: Cluster, **changes: str) -> dict[str, str]:
    """The platform on the module's cluster: its data dir (keys) beside the cluster."""
    return {**os.environ, "PAYWARDEN_DATABASE_URL": cluster.plan.database_url(),
            "PAYWARDEN_DATA_DIR": str(Path(cluster.plan.root).parent / "data"),
            "PAYWARDEN_PATRONI_URLS": cluster.plan.patroni_urls(),
            "PAYWARDEN_PITR_DIR": str(cluster.plan.pitr_dir), **changes}


def _serve(cluster: Cluster, *args: str, patroni: str | None = None
           ) -> subprocess.Popen[str]:
    env = _env(cluster) if patroni is None else _env(cluster, PAYWARDEN_PATRONI_URLS=patroni)
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


@pytest.mark.xdist_group("ha-cluster")
def test_serve_refuses_a_cluster_that_could_lose_acknowledged_commits(
        cluster: Cluster) -> None:
    assert "PayWarden running on" in _serves(_serve(cluster))

    # Patroni named but unreachable: safety cannot be judged.
    out = _refused(_serve(cluster, patroni="http://127.0.0.1:9"))
    assert "cannot tell whether the PostgreSQL cluster is safe" in out

    cluster.patch_config({"synchronous_mode_strict": False})
    out = _refused(_serve(cluster))
    assert "synchronous_mode_strict is off" in out

    cluster.patch_config(dynamic(synchronous=False))
    cluster.wait_members(running=3)
    out = _refused(_serve(cluster))
    assert "could lose acknowledged payments on failover" in out
    assert "synchronous_mode is off" in out

    out = _serves(_serve(cluster, "--accept-async-loss"))
    assert "WARNING, serving with --accept-async-loss" in out

    cluster.patch_config(dynamic(synchronous=True))
    cluster.wait_writable()
    assert "PayWarden running on" in _serves(_serve(cluster))


def _on_replica(database: Database) -> bool:
    with database.reading() as conn:
        return bool(conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one())


@pytest.mark.xdist_group("ha-cluster")
def test_reads_go_to_a_fresh_replica_and_to_the_primary_when_it_lags(
        cluster: Cluster) -> None:
    leader = cluster.wait_writable()
    replicas = [m for m in cluster.plan.members if m != leader]
    standby_url = cluster.plan.database_url().replace("read-write", "standby")
    database = dataclasses.replace(
        open_database(cluster.plan.database_url()),
        replica=Replica(standby_url, staleness_s=1.0, check_every_s=0))
    try:
        assert _on_replica(database)

        with cluster.replay_stopped(replicas):
            with database.engine.begin() as conn:  # something the replicas do not apply
                conn.execute(text("CREATE TABLE IF NOT EXISTS lag_probe (n int)"))
                conn.execute(text("INSERT INTO lag_probe VALUES (1)"))
            time.sleep(1.5)
            assert not _on_replica(database)  # past the bound: the primary answers
            assert database.replica is not None and database.replica.lag_s is not None
            assert database.replica.lag_s > 1.0
        deadline = time.monotonic() + READY_WAIT_S
        while not _on_replica(database) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _on_replica(database)  # caught up: the replica again
    finally:
        database.dispose()


def _transfers(cluster: Cluster, prefix: str, count: int) -> None:
    """``count`` ledger transfers between two accounts of the module's platform."""
    from paywarden.bootstrap import build
    from paywarden.domain.ledger import Transfer, TransferResult
    from paywarden.services.ledger import NewAccount
    from paywarden.settings import Settings

    env = _env(cluster)
    platform = build(Settings(database_url=env["PAYWARDEN_DATABASE_URL"],
                              data_dir=Path(env["PAYWARDEN_DATA_DIR"])))
    platform.start()
    try:
        if platform.queries.ledger_by_currency("EUR") is None:
            platform.queries.create_ledger("EUR", now_ns=platform.clock.now_ns())
        platform.engine.wait(platform.engine.create_accounts(
            [NewAccount(PITR_DEBIT, 978, 1), NewAccount(PITR_CREDIT, 978, 1)]))
        made = platform.engine.execute([Transfer(f"{prefix}-{i}", PITR_DEBIT, PITR_CREDIT, 1,
                                                 978, 1) for i in range(count)])
        assert set(made) == {TransferResult.OK}
        platform.tree_heads.sign_now()  # as a serving process's chore does every interval
    finally:
        platform.stop()
        platform.database.dispose()


def _restore(cluster: Cluster, moment: datetime, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "paywarden", "restore", "--to",
                           moment.isoformat(), "--json", *args], env=_env(cluster),
                          capture_output=True, text=True, timeout=900, check=False)
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.xdist_group("ha-cluster")
def test_point_in_time_recovery_restores_a_chosen_second_and_verifies(
        cluster: Cluster) -> None:
    before = subprocess.run([sys.executable, "-m", "paywarden", "restore", "--to",
                             datetime.now(UTC).isoformat(), "--json"], env=_env(cluster),
                            capture_output=True, text=True, timeout=300, check=False)
    assert before.returncode == 1 and "no base backup" in before.stdout

    base = subprocess.run([sys.executable, "-m", "paywarden", "backup", "--pitr", "--json"],
                          env=_env(cluster), capture_output=True, text=True, timeout=900,
                          check=False)
    assert base.returncode == 0, base.stderr
    assert json.loads(base.stdout.strip().splitlines()[-1])["ok"]
    _transfers(cluster, "before", 25)
    time.sleep(1.2)
    moment = datetime.now(UTC)
    time.sleep(1.2)
    _transfers(cluster, "after", 40)

    answer = _restore(cluster, moment, "--keep-running")
    assert answer["ok"], answer
    assert answer["tree_head"] is not None
    assert answer["tree_head"]["timestamp_ms"] <= moment.timestamp() * 1000
    restored = create_engine(answer["url"])
    try:
        with restored.connect() as conn:
            kept = dict(conn.execute(text(
                "SELECT split_part(id, '-', 1), count(*) FROM transfers "
                "WHERE id LIKE 'before-%' OR id LIKE 'after-%' GROUP BY 1")).all())
    finally:
        restored.dispose()
        subprocess.run([PG_CTL, "-D", answer["data_dir"], "-m", "fast", "stop"],
                       capture_output=True, timeout=120, check=False,
                       user="postgres" if os.geteuid() == 0 else None)
    assert kept == {"before": 25}  # to the second: everything before, nothing after

    # The whole live cluster still has both, and verifies.
    assert subprocess.run([sys.executable, "-m", "paywarden", "verify", "--json"],
                          env=_env(cluster), capture_output=True, timeout=300,
                          check=False).returncode == 0

"""One run: load through two API processes, the primary killed again and again.

1. A fresh three-member cluster (``paywarden.ha``), the schema and the parties on it,
   two ``paywarden serve`` processes, the buyers signed in with their passkeys.
2. Ledger writers and escrow buyers (``load``) start and never stop until the end.
3. ``tps_before``: acknowledged writes per second over ``window_s``; then the same with
   replication made asynchronous for a window, and synchronous again: their ratio is
   ``sync_commit_cost``.
4. ``failovers`` times: SIGKILL to the leader's postmaster; the write downtime is the
   time to the first write acknowledged that was sent after the kill; once the old
   primary is back as a replica, every acknowledgement so far is checked (``checks``)
   and ``paywarden verify`` runs.
5. ``tps_after`` over ``window_s``; the clients stop; the last check and verify.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import create_engine

from ...ha import Cluster
from ...ha.patroni import dynamic
from ..payments.parties import passkey_sign_in
from . import checks, setup
from .load import Tally, escrow_buyer, replayed_elsewhere, transfer_writer

DOWNTIME_WAIT_S = 120.0
REJOIN_WAIT_S = 180.0
WARM_S = 3.0
SPLIT_BRAIN_WATCH_S = 10.0
err = Console(stderr=True)


@dataclass(frozen=True)
class Options:
    failovers: int = 10
    writers: int = 6
    buyers: int = 2
    window_s: float = 10.0  # each throughput window
    between_s: float = 8.0  # load between a failover's recovery and the next kill
    base_port: int = 15432
    root: Path | None = None  # kept if given; else a temporary directory, removed
    scenarios: tuple[str, ...] = ()  # "replica", "etcd-leader", "partition": also these


@dataclass
class Report:
    failovers: int = 0
    downtimes_s: list[float] = field(default_factory=list)
    tps: dict[str, float] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    scenarios: dict[str, Any] = field(default_factory=dict)


def run(options: Options) -> dict[str, Any]:
    root = options.root or Path(tempfile.mkdtemp(prefix="paywarden-ha-"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # the postgres user runs the members when this runs as root
    cluster = setup.start_cluster(root, options.base_port)
    try:
        return _run(options, root, cluster)
    finally:
        cluster.down()
        if options.root is None:
            shutil.rmtree(root, ignore_errors=True)


def _run(options: Options, root: Path, cluster: Cluster) -> dict[str, Any]:
    url = cluster.plan.database_url()
    data_dir = root / "data"
    ports = setup.ports()
    origin = setup.public_origin(ports)
    err.print(f"cluster up; preparing {options.buyers} buyers and the ledger accounts")
    parties = setup.prepare(url, data_dir, origin, options.buyers)
    engine = create_engine(url, pool_size=2, pool_pre_ping=True)
    env = {"PAYWARDEN_DATABASE_URL": url, "PAYWARDEN_DATA_DIR": str(data_dir)}
    report = Report()
    # The servers are reached through the public origin, as behind a load balancer.
    with setup.two_servers(url, cluster.plan.patroni_urls(), data_dir, root, ports):
        buyers = [(shopper, passkey_sign_in(origin, setup.RP_ID, shopper.buyers[0], enrolment))
                  for shopper, enrolment in parties.shoppers]
        report.scenarios["replay"] = replayed_elsewhere(origin, ports, buyers[0][0])
        tally, stop = Tally(), threading.Event()
        threads = [threading.Thread(target=transfer_writer, daemon=True, args=(
            origin, ports, parties.token, parties.accounts, tally, stop))
            for _ in range(options.writers)]
        threads += [threading.Thread(target=escrow_buyer, daemon=True, args=(
            origin, ports, shopper, buyer, tally, stop)) for shopper, buyer in buyers]
        for thread in threads:
            thread.start()
        try:
            time.sleep(WARM_S)
            report.tps["before"] = _tps(tally, options.window_s)
            report.tps["async"] = _asynchronous_tps(cluster, tally, options.window_s)
            for number in range(1, options.failovers + 1):
                _failover(cluster, tally, report, options)
                found = checks.check(engine, tally.snapshot(), parties.accounts,
                                     [s for s, _ in parties.shoppers])
                verified = checks.verify(env)
                report.checks.append({"failover": number, **found.public(),
                                      "verify_ok": verified.get("ok")})
                err.print(f"failover {number}: downtime {report.downtimes_s[-1]:.1f} s, "
                          f"{found.acknowledged} acknowledged, lost {len(found.lost)}, "
                          f"duplicated {len(found.duplicated)}, verify "
                          f"{'ok' if verified.get('ok') else verified}")
                time.sleep(options.between_s)
            for scenario in options.scenarios:
                report.scenarios[scenario] = _SCENARIOS[scenario](cluster, tally)
            report.tps["after"] = _tps(tally, options.window_s)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
    cluster.wait_writable(timeout_s=REJOIN_WAIT_S)
    found = checks.check(engine, tally.snapshot(), parties.accounts,
                         [s for s, _ in parties.shoppers])
    verified = checks.verify(env)
    engine.dispose()
    return _result(report, tally, found, verified)


def _tps(tally: Tally, window_s: float) -> float:
    start = len(tally.snapshot())
    time.sleep(window_s)
    return round((len(tally.snapshot()) - start) / window_s, 1)


def _asynchronous_tps(cluster: Cluster, tally: Tally, window_s: float) -> float:
    """Writes per second with replication made asynchronous for one window (the servers
    started on a safe cluster keep serving), then synchronous and strict again."""
    cluster.patch_config(dynamic(synchronous=False))
    time.sleep(2 * dynamic()["loop_wait"] + 1)  # Patroni applies it at its next turns
    measured = _tps(tally, window_s)
    cluster.patch_config(dynamic(synchronous=True))
    cluster.wait_writable(timeout_s=REJOIN_WAIT_S)
    return measured


def _failover(cluster: Cluster, tally: Tally, report: Report, options: Options) -> None:
    leader = cluster.wait_writable(timeout_s=REJOIN_WAIT_S)
    cluster.wait_members(running=len(cluster.plan.members), timeout_s=REJOIN_WAIT_S)
    killed_at = time.monotonic()
    cluster.kill_postmaster(leader)
    report.downtimes_s.append(_downtime(tally, killed_at))
    report.tps.setdefault("during_sum", 0.0)
    report.tps["during_sum"] += _tps(tally, options.window_s)
    report.failovers += 1
    cluster.wait_writable(timeout_s=REJOIN_WAIT_S)
    cluster.wait_members(running=len(cluster.plan.members), timeout_s=REJOIN_WAIT_S)


def _downtime(tally: Tally, since: float) -> float:
    deadline = since + DOWNTIME_WAIT_S
    while time.monotonic() < deadline:
        sent_after = [a.answered_s for a in tally.snapshot() if a.sent_s >= since]
        if sent_after:
            return round(min(sent_after) - since, 2)
        time.sleep(0.05)
    return DOWNTIME_WAIT_S


def _replica_lost(cluster: Cluster, tally: Tally) -> dict[str, Any]:
    """Kill a replica's host: writes go on (the other replica is synchronous)."""
    leader = cluster.wait_writable()
    replica = next(m for m in cluster.plan.members if m != leader)
    killed_at = time.monotonic()
    cluster.kill_member(replica)
    downtime = _downtime(tally, killed_at)
    cluster.start_member(replica)
    cluster.wait_members(running=len(cluster.plan.members), timeout_s=REJOIN_WAIT_S)
    return {"member": replica.name, "write_downtime_s": downtime}


def _etcd_leader_lost(cluster: Cluster, tally: Tally) -> dict[str, Any]:
    """Kill etcd's leader: the other two elect another, and Patroni goes on."""
    member = cluster.etcd_leader() or cluster.plan.etcd[0]
    killed_at = time.monotonic()
    cluster.kill_etcd(member)
    downtime = _downtime(tally, killed_at)
    cluster.start_etcd(member)
    return {"member": member.name, "write_downtime_s": downtime}


def _partitioned(cluster: Cluster, tally: Tally) -> dict[str, Any]:
    """SIGSTOP every process of the leader's host: cut off from etcd, its clients and its
    replicas, it cannot renew the leader key, and a replica is promoted once the key
    expires. The host wakes (SIGCONT) once every other replica streams from the new leader;
    its Patroni finds the key gone and demotes it. Meanwhile every member is asked, again and
    again, to commit a write of its own: at no moment may two members acknowledge one
    (split brain). The write downtime counts from the wake: while the host is frozen,
    connections to it hang (its kernel still answers TCP).

    A host that wakes *before* the other replica follows the new leader (within a
    ``loop_wait`` of the promotion) could still have its commits acknowledged by that
    replica: that window is what Patroni's watchdog closes (decision 0065)."""
    leader = cluster.wait_writable()
    with cluster.paused(leader):
        new = cluster.wait_leader(other_than=leader, timeout_s=REJOIN_WAIT_S)
        others = [m for m in cluster.plan.members if m not in (leader, new)]
        deadline = time.monotonic() + REJOIN_WAIT_S
        while (any(cluster.follows(m) != new for m in others)
               and time.monotonic() < deadline):
            time.sleep(0.2)  # every other replica streams from the new leader
    woke_at = time.monotonic()
    most = 0
    while time.monotonic() < woke_at + SPLIT_BRAIN_WATCH_S:  # the old leader beside the new
        most = max(most, sum(cluster.acknowledges_write(m) for m in cluster.plan.members))
    downtime = _downtime(tally, woke_at)
    cluster.wait_members(running=len(cluster.plan.members), timeout_s=REJOIN_WAIT_S)
    return {"member": leader.name, "new_leader": new.name,
            "write_downtime_s_after_wake": downtime,
            "most_members_acknowledging_at_once": most}


_SCENARIOS = {"replica": _replica_lost, "etcd-leader": _etcd_leader_lost,
              "partition": _partitioned}


def _transfer_latency(tally: Tally) -> dict[str, float]:
    """How long an acknowledged transfer's answered attempt took (failovers included)."""
    took = sorted((a.answered_s - a.sent_s) * 1000 for a in tally.snapshot()
                  if a.kind == "transfer")
    if not took:
        return {}
    return {"transfer_ms_p50": round(took[len(took) // 2], 1),
            "transfer_ms_p99": round(took[min(len(took) - 1, int(len(took) * 0.99))], 1)}


def _result(report: Report, tally: Tally, found: checks.Found,
            verified: dict[str, Any]) -> dict[str, Any]:
    downtimes = report.downtimes_s or [0.0]
    during = report.tps.get("during_sum", 0.0) / max(report.failovers, 1)
    sync, asynchronous = report.tps.get("before", 0.0), report.tps.get("async", 0.0)
    return {
        "failovers": report.failovers,
        "acknowledged": found.acknowledged,
        "lost": len(found.lost),
        "duplicated": len(found.duplicated),
        "write_downtime_s_p50": round(statistics.median(downtimes), 2),
        "write_downtime_s_max": round(max(downtimes), 2),
        "tps_before": sync,
        "tps_during": round(during, 1),
        "tps_after": report.tps.get("after", 0.0),
        "sync_commit_cost": round(sync / asynchronous, 3) if asynchronous else None,
        "tps_async": asynchronous,
        "acknowledged_kinds": dict(Counter(a.kind for a in tally.snapshot())),
        **_transfer_latency(tally),
        "write_downtimes_s": report.downtimes_s,
        "verify_ok": bool(verified.get("ok")),
        "verify_violations": verified.get("violations", [])[:5],
        "unknown_outcomes": len(tally.unknown),
        "refused": tally.refused,
        "retries": tally.retries,
        "checks": report.checks,
        "scenarios": report.scenarios,
        "lost_examples": found.lost[:5],
        "duplicated_examples": found.duplicated[:5],
    }

"""Could a failover lose acknowledged commits? Read from PostgreSQL and from Patroni.

``paywarden serve`` asks this at start-up on PostgreSQL (decision 0065). A commit is
acknowledged to a client when the primary says so; it survives the primary's loss only
if a replica flushed it first, and only if what is promoted is such a replica. So money
is safe on a cluster when:

- ``synchronous_commit`` is ``on`` or ``remote_apply`` (``remote_write`` has the commit
  in the replica's memory only; ``local`` and ``off`` not on the replica at all);
- ``synchronous_standby_names`` names the replicas and one of them is synchronous now
  (``pg_stat_replication.sync_state`` is ``sync`` or ``quorum``);
- Patroni, when it manages the cluster, is in ``synchronous_mode`` with
  ``synchronous_mode_strict``: without strict mode Patroni turns synchronous
  replication off when the synchronous replica fails, and the primary then
  acknowledges commits that no replica holds.

A server without replicas and without Patroni is one machine: no failover, nothing
lost by one (a lost disk is what backups are for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine, text

SAFE_COMMIT_LEVELS = frozenset({"on", "remote_apply"})
SYNC_STATES = frozenset({"sync", "quorum"})
SYNC_MODES = frozenset({"true", "on", "quorum"})
PATRONI_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Replication:
    """What the database and Patroni say, and the reasons a failover could lose commits."""

    in_recovery: bool
    synchronous_commit: str
    standby_names: str
    replicas: int  # connected replicas
    synchronous: int  # of which synchronous now
    patroni: dict[str, Any] | None  # Patroni's cluster configuration, if it manages this
    unsafe: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.unsafe

    def public(self) -> dict[str, Any]:
        patroni = self.patroni or {}
        return {
            "safe": self.safe, "reasons": self.unsafe, "in_recovery": self.in_recovery,
            "synchronous_commit": self.synchronous_commit,
            "synchronous_standby_names": self.standby_names, "replicas": self.replicas,
            "synchronous_replicas": self.synchronous,
            "patroni": None if self.patroni is None else {
                k: patroni.get(k) for k in ("synchronous_mode", "synchronous_mode_strict",
                                            "synchronous_node_count", "ttl", "loop_wait")},
        }


def judge(*, in_recovery: bool, synchronous_commit: str, standby_names: str, replicas: int,
          synchronous: int, patroni: dict[str, Any] | None) -> Replication:
    unsafe: list[str] = []
    if in_recovery:
        unsafe.append("the database URL reaches a replica, not the primary")
    clustered = replicas > 0 or bool(standby_names) or patroni is not None
    if clustered:
        if synchronous_commit not in SAFE_COMMIT_LEVELS:
            unsafe.append(f"synchronous_commit is {synchronous_commit!r}: a commit is "
                          "acknowledged before a replica has flushed it")
        if not standby_names:
            unsafe.append("replication is asynchronous (synchronous_standby_names is empty)")
        elif synchronous == 0:
            unsafe.append("no synchronous replica is connected")
    if patroni is not None:
        mode = str(patroni.get("synchronous_mode", False)).lower()
        if mode not in SYNC_MODES:
            unsafe.append("Patroni's synchronous_mode is off: a failover may promote a "
                          "replica that lacks acknowledged commits")
        elif patroni.get("synchronous_mode_strict") is not True:
            unsafe.append("Patroni's synchronous_mode_strict is off: when the synchronous "
                          "replica fails, the primary goes on alone")
    return Replication(in_recovery, synchronous_commit, standby_names, replicas, synchronous,
                       patroni, unsafe)


def read(engine: Engine, patroni_urls: list[str]) -> Replication:
    """Ask the database the URL reaches, and the first Patroni member that answers."""
    with engine.connect() as conn:
        in_recovery, commit, names = conn.execute(text(
            "SELECT pg_is_in_recovery(), current_setting('synchronous_commit'), "
            "current_setting('synchronous_standby_names')")).one()
        replicas, synchronous = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE sync_state = ANY(:states)) "
            "FROM pg_stat_replication"), {"states": sorted(SYNC_STATES)}).one()
    patroni = _patroni_config(patroni_urls) if patroni_urls else None
    if patroni_urls and patroni is None:
        raise ReplicationUnknown(f"no Patroni member answered at {', '.join(patroni_urls)}")
    return judge(in_recovery=bool(in_recovery), synchronous_commit=str(commit),
                 standby_names=str(names).strip(), replicas=int(replicas),
                 synchronous=int(synchronous), patroni=patroni)


class ReplicationUnknown(Exception):
    """Patroni was named but none of its members answered: safety cannot be judged."""


def _patroni_config(urls: list[str]) -> dict[str, Any] | None:
    for url in urls:
        try:
            response = httpx.get(f"{url.rstrip('/')}/config", timeout=PATRONI_TIMEOUT_S,
                                 trust_env=False)
        except httpx.HTTPError:
            continue
        if response.status_code == 200:
            config: dict[str, Any] = response.json()
            return config
    return None

"""A member's Patroni configuration for the local cluster: pure.

Money's settings, and why (docs/decisions/0065-ha-patroni.md):

- ``synchronous_mode: quorum`` with ``synchronous_mode_strict``: a commit is
  acknowledged only once ``synchronous_node_count`` replicas have flushed it, and
  when no replica can, writes wait instead of going on alone. Only a member that
  holds every acknowledged commit may become the leader. (With Patroni's default,
  asynchronous replication, a failover drops up to ``maximum_lag_on_failover``
  bytes of acknowledged commits.)
- ``synchronous_commit: on``: the replica has *flushed* the commit (``remote_write``
  would lose it with the replica's power).
- ``primary_start_timeout: 0``: a crashed primary is failed over at once, not
  restarted in place for up to 300 s.
- The timings give a failover within a few seconds of a crashed postmaster and
  within ``ttl`` seconds of a lost host: ``loop_wait + 2 * retry_timeout <= ttl`` as
  Patroni requires.

The local cluster trusts loopback (no passwords): it is for development and tests.
``docs/ha/patroni.yml`` is the production configuration, with TLS and SCRAM.

Patroni reads YAML, and JSON is YAML: the file is written as JSON, no YAML library.
"""

from __future__ import annotations

from typing import Any

from .plan import HOST, SUPERUSER, Member, Plan

PG_BIN = "/usr/lib/postgresql/15/bin"
REPLICATOR = "replicator"

# Patroni's timings, in seconds (decision 0065: failover downtime p50 <= 15 s). A killed
# postmaster is failed over within a loop or two (primary_start_timeout 0); a lost host
# when its leader key expires, ``TTL_S`` at most. 20 s is the least ttl Patroni takes (it
# raises a smaller one to 20 without a word).
TTL_S = 20
LOOP_WAIT_S = 2
RETRY_TIMEOUT_S = 5
assert LOOP_WAIT_S + 2 * RETRY_TIMEOUT_S <= TTL_S

# PostgreSQL's settings that durability and replication rest on, on every member.
PARAMETERS: dict[str, Any] = {
    "synchronous_commit": "on",
    "fsync": "on",
    "full_page_writes": "on",
    "wal_level": "replica",
    "wal_log_hints": "on",  # pg_rewind brings a failed primary back as a replica
    "hot_standby": "on",
    "max_wal_senders": 10,
    "max_replication_slots": 10,
    "max_connections": 200,
    "shared_buffers": "128MB",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "lc_messages": "C",
}


def dynamic(*, synchronous: bool = True) -> dict[str, Any]:
    """The cluster-wide settings Patroni keeps in etcd (``patronictl edit-config``).

    ``synchronous=False`` is asynchronous replication: only ``bench/ha.py`` sets it, to
    measure what synchronous commit costs."""
    return {
        "ttl": TTL_S,
        "loop_wait": LOOP_WAIT_S,
        "retry_timeout": RETRY_TIMEOUT_S,
        "primary_start_timeout": 0,
        "maximum_lag_on_failover": 0,
        "synchronous_mode": "quorum" if synchronous else False,
        "synchronous_mode_strict": synchronous,
        "synchronous_node_count": 1,
        "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": PARAMETERS},
    }


def member_config(plan: Plan, member: Member) -> dict[str, Any]:
    wal = plan.pitr_dir / "wal"
    return {
        "scope": plan.scope,
        "name": member.name,
        "log": {"level": "INFO", "dir": str(member.dir), "file_num": 2,
                "file_size": 10_000_000},
        "restapi": {"listen": f"{HOST}:{member.rest_port}",
                    "connect_address": f"{HOST}:{member.rest_port}"},
        "etcd3": {"hosts": [f"{HOST}:{e.client_port}" for e in plan.etcd]},
        "bootstrap": {
            "dcs": dynamic(),
            "initdb": [{"encoding": "UTF8"}, {"locale": "C"}, "data-checksums"],
            "pg_hba": [
                "local all all trust",
                f"host replication {REPLICATOR} {HOST}/32 trust",
                f"host replication {SUPERUSER} {HOST}/32 trust",  # pg_basebackup
                f"host all all {HOST}/32 trust",
            ],
        },
        "postgresql": {
            "listen": member.address,
            "connect_address": member.address,
            "data_dir": str(member.data_dir),
            "bin_dir": PG_BIN,
            "pgpass": str(member.dir / "pgpass"),
            "authentication": {
                "superuser": {"username": SUPERUSER},
                "replication": {"username": REPLICATOR},
                "rewind": {"username": SUPERUSER},
            },
            "parameters": {
                "unix_socket_directories": str(member.dir),
                # Every member archives into one folder: whichever leads writes the WAL
                # that point-in-time recovery replays (paywarden backup --pitr).
                "archive_mode": "on",
                "archive_command": f"test ! -f {wal}/%f && cp %p {wal}/%f",
            },
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }

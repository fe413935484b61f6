"""The rules of the HA set-up that need no cluster (decision 0065): when a PostgreSQL
cluster could lose acknowledged commits on failover, what counts as the database being
away, the local cluster's plan and each member's Patroni configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from paywarden.adapters.store import DatabaseUnavailable, is_unavailable
from paywarden.adapters.store.replication import judge
from paywarden.ha import plan
from paywarden.ha.patroni import LOOP_WAIT_S, RETRY_TIMEOUT_S, TTL_S, dynamic, member_config

STRICT = {"synchronous_mode": "quorum", "synchronous_mode_strict": True}


def _judged(**changes: Any) -> list[str]:
    facts: dict[str, Any] = {"in_recovery": False, "synchronous_commit": "on",
                             "standby_names": "ANY 1 (pg2,pg3)", "replicas": 2,
                             "synchronous": 2, "patroni": STRICT}
    facts.update(changes)
    return judge(**facts).unsafe


def test_a_strict_synchronous_cluster_is_safe() -> None:
    assert _judged() == []
    assert _judged(synchronous_commit="remote_apply") == []
    assert _judged(patroni={"synchronous_mode": True, "synchronous_mode_strict": True}) == []


def test_one_server_without_replicas_or_patroni_is_safe() -> None:
    assert _judged(standby_names="", replicas=0, synchronous=0, patroni=None) == []


@pytest.mark.parametrize(("changes", "said"), [
    ({"synchronous_commit": "local"}, "synchronous_commit is 'local'"),
    ({"synchronous_commit": "remote_write"}, "synchronous_commit is 'remote_write'"),
    ({"synchronous_commit": "off"}, "synchronous_commit is 'off'"),
    ({"standby_names": "", "patroni": None}, "replication is asynchronous"),
    ({"synchronous": 0}, "no synchronous replica is connected"),
    ({"patroni": {"synchronous_mode": False}}, "synchronous_mode is off"),
    ({"patroni": {"synchronous_mode": "quorum", "synchronous_mode_strict": False}},
     "synchronous_mode_strict is off"),
    ({"patroni": {"synchronous_mode": "quorum"}}, "synchronous_mode_strict is off"),
    ({"in_recovery": True}, "reaches a replica"),
    # Patroni with its replicas gone is still a cluster: asynchronous is refused.
    ({"standby_names": "", "replicas": 0, "synchronous": 0,
      "patroni": {"synchronous_mode": False}}, "replication is asynchronous"),
])
def test_what_could_lose_acknowledged_commits_is_refused(changes: dict[str, Any],
                                                         said: str) -> None:
    unsafe = _judged(**changes)
    assert any(said in reason for reason in unsafe), unsafe


def test_the_database_away_is_told_from_a_bug() -> None:
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    assert is_unavailable(lost)
    assert is_unavailable(DatabaseUnavailable("no primary"))
    assert is_unavailable(sa_exc.OperationalError("SELECT 1", {}, lost))
    assert is_unavailable(sa_exc.InternalError(
        "INSERT", {}, psycopg.errors.ReadOnlySqlTransaction("read-only")))
    # A constraint, a programming error or SQLite's own errors are not a failover.
    assert not is_unavailable(sa_exc.IntegrityError("INSERT", {}, psycopg.IntegrityError()))
    assert not is_unavailable(sa_exc.ProgrammingError("SELEC", {}, psycopg.ProgrammingError()))
    import sqlite3
    assert not is_unavailable(sa_exc.OperationalError("x", {}, sqlite3.OperationalError("locked")))
    assert not is_unavailable(ValueError("x"))


def test_the_plan_names_every_member_in_one_url(tmp_path: Path) -> None:
    layout = plan(members=3, etcd=3, base_port=20000, root=tmp_path)
    assert [m.address for m in layout.members] == [
        "127.0.0.1:20000", "127.0.0.1:20001", "127.0.0.1:20002"]
    assert layout.database_url().startswith(
        "postgresql+psycopg://postgres@/paywarden?host=127.0.0.1:20000&host=127.0.0.1:20001"
        "&host=127.0.0.1:20002&target_session_attrs=read-write&connect_timeout=3")
    assert "tcp_user_timeout=" in layout.database_url()
    assert layout.patroni_urls().split(",")[0] == "http://127.0.0.1:20100"
    ports = [p for m in layout.members for p in (m.pg_port, m.rest_port)] + [
        p for e in layout.etcd for p in (e.client_port, e.peer_port)]
    assert len(set(ports)) == len(ports)
    with pytest.raises(ValueError, match="odd number"):
        plan(etcd=2, root=tmp_path)
    with pytest.raises(ValueError, match="2 to 9 members"):
        plan(members=1, root=tmp_path)


def test_each_member_waits_for_a_replica_and_fails_over_at_once(tmp_path: Path) -> None:
    layout = plan(root=tmp_path)
    config = member_config(layout, layout.members[1])
    settings = config["bootstrap"]["dcs"]
    assert settings["synchronous_mode"] == "quorum"
    assert settings["synchronous_mode_strict"] is True
    assert settings["primary_start_timeout"] == 0
    assert settings["postgresql"]["parameters"]["synchronous_commit"] == "on"
    assert settings["postgresql"]["parameters"]["fsync"] == "on"
    assert config["postgresql"]["listen"] == "127.0.0.1:15433"
    assert config["etcd3"]["hosts"] == [f"127.0.0.1:{e.client_port}" for e in layout.etcd]
    assert LOOP_WAIT_S + 2 * RETRY_TIMEOUT_S <= TTL_S  # Patroni's own rule
    asynchronous = dynamic(synchronous=False)
    assert asynchronous["synchronous_mode"] is False
    assert asynchronous["synchronous_mode_strict"] is False

"""What a local highly available cluster has, and where: pure.

``members`` PostgreSQL 15 servers, each managed by its own Patroni, and ``etcd``
members holding Patroni's leader key, all on loopback. Ports are consecutive blocks
from ``base_port``: PostgreSQL at ``base_port + i``, Patroni's REST API at
``base_port + 100 + i``, etcd's clients at ``base_port + 200 + 2i`` and its peers at
``base_port + 201 + 2i``. Everything lives under ``root``: ``pg1/``, ``pg2/``, …
(each member's data directory and configuration) and ``etcd1/``, … .
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

HOST = "127.0.0.1"
DATABASE = "paywarden"
SUPERUSER = "postgres"
SCOPE = "paywarden"
MEMBERS_MAX = 9
# libpq: keep the member that takes writes; give up on a member that does not answer in
# 3 s; a connection whose host died (no TCP answer) is dropped within about 10 s.
CLIENT_OPTIONS = ("target_session_attrs=read-write&connect_timeout=3&keepalives_idle=5"
                  "&keepalives_interval=2&keepalives_count=3&tcp_user_timeout=10000")


@dataclass(frozen=True)
class Member:
    name: str  # "pg1": also its directory's name and its Patroni name
    pg_port: int
    rest_port: int
    dir: PurePath

    @property
    def data_dir(self) -> PurePath:
        return self.dir / "data"

    @property
    def config_file(self) -> PurePath:
        return self.dir / "patroni.yml"

    @property
    def log_file(self) -> PurePath:
        return self.dir / "patroni.log"

    @property
    def rest_url(self) -> str:
        return f"http://{HOST}:{self.rest_port}"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.pg_port}"


@dataclass(frozen=True)
class EtcdMember:
    name: str  # "etcd1"
    client_port: int
    peer_port: int
    dir: PurePath

    @property
    def client_url(self) -> str:
        return f"http://{HOST}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://{HOST}:{self.peer_port}"


@dataclass(frozen=True)
class Plan:
    root: PurePath
    members: tuple[Member, ...]
    etcd: tuple[EtcdMember, ...]
    scope: str = SCOPE

    @property
    def pitr_dir(self) -> PurePath:
        """``PAYWARDEN_PITR_DIR``: the WAL archive every member writes (``wal/``) and the
        base backups (``paywarden backup --pitr``)."""
        return self.root / "pitr"

    def member(self, name: str) -> Member:
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(name)

    def database_url(self, database: str = DATABASE) -> str:
        """Every member's address in one libpq URL: the driver tries each and keeps the
        one that takes writes (``target_session_attrs=read-write``)."""
        hosts = "&".join(f"host={m.address}" for m in self.members)
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?{hosts}&{CLIENT_OPTIONS}"

    def libpq_url(self, database: str = DATABASE) -> str:
        """The same for libpq itself (psql, psycopg)."""
        hosts = ",".join(m.address for m in self.members)
        return f"postgresql://{SUPERUSER}@{hosts}/{database}?{CLIENT_OPTIONS}"

    def patroni_urls(self) -> str:
        """For ``PAYWARDEN_PATRONI_URLS``: every member's REST API."""
        return ",".join(m.rest_url for m in self.members)

    def public(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "members": [{"name": m.name, "postgres": m.address, "rest": m.rest_url}
                        for m in self.members],
            "etcd": [{"name": e.name, "client": e.client_url, "peer": e.peer_url}
                     for e in self.etcd],
            "database_url": self.database_url(),
            "patroni_urls": self.patroni_urls(),
            "pitr_dir": str(self.pitr_dir),
        }


def plan(*, members: int = 3, etcd: int = 3, base_port: int = 15432,
         root: Path | PurePath) -> Plan:
    if not 2 <= members <= MEMBERS_MAX:
        raise ValueError(f"a cluster has 2 to {MEMBERS_MAX} members, not {members}")
    if etcd < 1 or etcd % 2 == 0 or etcd > MEMBERS_MAX:
        raise ValueError(f"etcd needs an odd number of members (1, 3, 5 …), not {etcd}")
    root = PurePath(root)
    return Plan(
        root=root,
        members=tuple(Member(f"pg{i + 1}", base_port + i, base_port + 100 + i,
                             root / f"pg{i + 1}") for i in range(members)),
        etcd=tuple(EtcdMember(f"etcd{i + 1}", base_port + 200 + 2 * i,
                              base_port + 201 + 2 * i, root / f"etcd{i + 1}")
                   for i in range(etcd)),
    )

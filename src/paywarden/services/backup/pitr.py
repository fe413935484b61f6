"""Point-in-time recovery on PostgreSQL: base backups and the WAL archive (decision 0067).

``PAYWARDEN_PITR_DIR`` holds:

    wal/               the WAL archive: every member's ``archive_command`` copies each
                       finished segment here (``paywarden ha up`` sets it up so)
    base/<stamp>/      a base backup (``pg_basebackup``, plain, its WAL streamed in),
                       with ``base.json``: when it started and when it was consistent
    restored/<stamp>/  a server restored to a moment: its data directory and log

:func:`take_base_backup` copies the primary and then switches WAL, so the archive
holds everything up to now. :func:`restore_to` starts from the newest base backup
consistent before the moment, replays the archive up to it (``recovery_target_time``)
on a server of its own on loopback, and promotes it; the live cluster is not touched.
The caller then verifies what it restored (``paywarden restore --to``).

PostgreSQL refuses to run as root: when this runs as root, the restored server runs as
the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from .errors import PitrError
from .pgtools import find_tool

BASE_TIMEOUT_S = 1800
START_TIMEOUT_S = 600
ARCHIVE_WAIT_S = 60
PG_USER = "postgres"
STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class BaseBackup:
    path: Path
    started_at: datetime
    consistent_at: datetime  # the backup's end: a moment after it can be restored to

    def as_json(self) -> dict[str, str]:
        return {"path": str(self.path), "started_at": self.started_at.isoformat(),
                "consistent_at": self.consistent_at.isoformat()}


@dataclass(frozen=True)
class Restored:
    data_dir: Path
    log: Path
    port: int
    target: datetime
    base: BaseBackup
    pg_ctl: str

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/paywarden"

    def stop(self) -> None:
        _run_as_postgres([self.pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                         timeout=START_TIMEOUT_S, check=False)


def _connect(database_url: str) -> psycopg.Connection[Any]:
    """A psycopg connection as SQLAlchemy would open it (a URL naming every member of a
    cluster reaches the one that takes writes)."""
    url = make_url(database_url)
    _, kwargs = url.get_dialect()().create_connect_args(url)
    kwargs.pop("context", None)
    return psycopg.connect(autocommit=True, **kwargs)


def take_base_backup(database_url: str, pitr_dir: Path) -> BaseBackup:
    """A base backup of the primary ``database_url`` reaches, into ``pitr_dir/base``."""
    with _connect(database_url) as conn:
        host, port, mode, major = conn.execute(
            "SELECT coalesce(host(inet_server_addr()), '127.0.0.1'), inet_server_port(), "
            "current_setting('archive_mode'), current_setting('server_version_num')::int / 10000"
        ).fetchone() or ("", 0, "off", 0)
        if mode == "off":
            raise PitrError("WAL archiving is off on this server (archive_mode): a base "
                            "backup alone restores to one moment only")
    tool = find_tool("pg_basebackup", server_major=int(major))
    started = datetime.now(UTC)
    target = pitr_dir / "base" / started.strftime(STAMP)
    partial = target.with_name(target.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [tool, "-h", str(host), "-p", str(port), "-U", PG_USER, "-D", str(partial),
         "--wal-method=stream", "--checkpoint=fast", "--no-password", "--format=plain"],
        capture_output=True, text=True, timeout=BASE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise PitrError(f"pg_basebackup failed: {done.stderr.strip()[-500:]}")
    consistent = datetime.now(UTC)
    partial.rename(target)
    backup = BaseBackup(target, started, consistent)
    (target / "base.json").write_text(json.dumps(backup.as_json()))
    switch_wal(database_url)
    return backup


def switch_wal(database_url: str) -> None:
    """Close the current WAL segment and wait until it is archived: the archive then holds
    every commit made before this call, and one commit after them (a temporary table's
    catalog rows): recovery to a moment stops at the first commit past it, and ends in
    error if it finds none."""
    with _connect(database_url) as conn:
        conn.execute("CREATE TEMP TABLE paywarden_pitr_mark (at timestamptz)")
        row = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
        wanted = str(row[0]) if row else ""
        deadline = time.monotonic() + ARCHIVE_WAIT_S
        while time.monotonic() < deadline:
            last = conn.execute("SELECT coalesce(last_archived_wal, '') FROM "
                                "pg_stat_archiver").fetchone()
            if last and str(last[0]) >= wanted:
                return
            time.sleep(0.2)
    raise PitrError(f"WAL segment {wanted} was not archived within {ARCHIVE_WAIT_S} s: "
                    "is archive_command working?")


def base_backups(pitr_dir: Path) -> list[BaseBackup]:
    found = []
    for meta in sorted((pitr_dir / "base").glob("*/base.json")):
        saved = json.loads(meta.read_text())
        found.append(BaseBackup(meta.parent, datetime.fromisoformat(saved["started_at"]),
                                datetime.fromisoformat(saved["consistent_at"])))
    return found


def restore_to(pitr_dir: Path, target: datetime, *, port: int | None = None) -> Restored:
    """A new server on loopback with the database as it was at ``target``."""
    if target.tzinfo is None:
        raise PitrError("give the moment with its time zone (…Z or +01:00)")
    usable = [b for b in base_backups(pitr_dir) if b.consistent_at <= target]
    if not usable:
        raise PitrError(f"no base backup in {pitr_dir / 'base'} was consistent before "
                        f"{target.isoformat()}: take one with `paywarden backup --pitr`")
    base = usable[-1]
    home = pitr_dir / "restored" / datetime.now(UTC).strftime(STAMP)
    data = home / "data"
    shutil.copytree(base.path, data, ignore=shutil.ignore_patterns("base.json"))
    port = port or _free_port()
    _prepare(data, home, pitr_dir / "wal", target, port)
    user = _postgres_user()
    if user is not None:
        for path in (home, *home.rglob("*")):
            os.chown(path, user.pw_uid, user.pw_gid)
    data.chmod(0o700)
    pg_ctl = find_tool("pg_ctl", server_major=_major(data))
    log = home / "postgresql.log"
    done = _run_as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t",
                             str(START_TIMEOUT_S), "start"], timeout=START_TIMEOUT_S + 30,
                            check=False)
    restored = Restored(data, log, port, target, base, pg_ctl)
    if done.returncode != 0:
        raise PitrError(f"the restored server did not start: {_tail(log)}")
    _wait_promoted(restored)
    return restored


def _prepare(data: Path, home: Path, archive: Path, target: datetime, port: int) -> None:
    for leftover in ("postmaster.pid", "standby.signal", "postmaster.opts"):
        (data / leftover).unlink(missing_ok=True)
    hba = home / "pg_hba.conf"
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    settings = {
        "restore_command": f"cp {archive}/%f %p",
        "recovery_target_time": target.isoformat(),
        "recovery_target_action": "promote",
        "port": str(port), "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(home), "hba_file": str(hba),
        "ident_file": str(home / "pg_ident.conf"),
        "archive_mode": "off", "synchronous_standby_names": "", "hot_standby": "on",
        "primary_conninfo": "", "primary_slot_name": "",
    }
    (home / "pg_ident.conf").write_text("")
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.write("\n# paywarden restore --to\n")
        for name, value in settings.items():
            conf.write(f"{name} = '{value}'\n")
    (data / "recovery.signal").write_text("")


def _wait_promoted(restored: Restored) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    dsn = f"postgresql://{PG_USER}@127.0.0.1:{restored.port}/postgres"
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(
                dsn, connect_timeout=3) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is not None and not row[0]:
                return
        time.sleep(0.5)
    restored.stop()
    raise PitrError(f"the restored server did not reach {restored.target.isoformat()}: "
                    f"{_tail(restored.log)}")


def _postgres_user() -> pwd.struct_passwd | None:
    return pwd.getpwnam(PG_USER) if os.geteuid() == 0 else None


def _run_as_postgres(argv: list[str], *, timeout: float, check: bool
                     ) -> subprocess.CompletedProcess[str]:
    user = _postgres_user()
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check,
                          cwd="/", user=user.pw_uid if user else None,
                          group=user.pw_gid if user else None,
                          extra_groups=[] if user else None)


def _major(data: Path) -> int:
    return int((data / "PG_VERSION").read_text().strip())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: Path) -> str:
    with contextlib.suppress(OSError):
        return log.read_text(errors="replace")[-1500:]
    return "(no log)"

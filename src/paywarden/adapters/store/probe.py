"""Looking at a database without changing it: is it there, is it PayWarden's, what it holds.

:func:`open_database` makes a missing SQLite file and its folder, and sets the
file to WAL mode: right for a server, wrong for a command that only meant to
read. A probe creates nothing. SQLite is opened read-only (``mode=ro``), and a
file that does not exist is reported as such; PostgreSQL gets one connection
with a connect timeout, so a server that does not answer ends the probe in
seconds, not after a driver's default.

    probe_database(url, timeout_s) -> Probe      the state found
        StoreUnreachable                         no connection, or not a database
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

MIGRATED_TABLE = "ledger_state"  # as Database.is_migrated
KEYS_TABLE = "key_versions"


class StoreUnreachable(Exception):
    """The database cannot be opened; ``reason`` is the driver's first line (no password)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Probe:
    exists: bool  # False: a SQLite file not made yet (PostgreSQL databases always exist)
    migrated: bool
    keys: int  # key versions in the keyring, sealed under the master key


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names, or None (PostgreSQL, or in memory)."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" \
            or path.startswith("file:"):
        return None
    return Path(path).resolve()


def probe_database(url: str, *, timeout_s: float) -> Probe:
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_path(url)
        return _probe_sqlite(path) if path is not None else Probe(True, False, 0)
    return _probe_server(url, timeout_s)


def _probe_sqlite(path: Path) -> Probe:
    if not path.exists():
        return Probe(exists=False, migrated=False, keys=0)
    if not path.is_file():
        raise StoreUnreachable(f"{path} is not a file")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            keys = (conn.execute(f"SELECT count(*) FROM {KEYS_TABLE}").fetchone()[0]
                    if KEYS_TABLE in tables else 0)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreUnreachable(f"{path}: {exc}") from None
    return Probe(exists=True, migrated=MIGRATED_TABLE in tables, keys=int(keys))


def _probe_server(url: str, timeout_s: float) -> Probe:
    engine = create_engine(url, poolclass=NullPool,
                           connect_args={"connect_timeout": max(1, round(timeout_s))})
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            migrated = found.has_table(MIGRATED_TABLE)
            keys = (conn.execute(text(f"SELECT count(*) FROM {KEYS_TABLE}")).scalar_one()
                    if found.has_table(KEYS_TABLE) else 0)
    except DBAPIError as exc:
        raise StoreUnreachable(_first_line(exc.orig)) from None
    finally:
        engine.dispose()
    return Probe(exists=True, migrated=migrated, keys=int(keys))


def _first_line(error: BaseException | None) -> str:
    """The driver's own words, shortened: psycopg's first line names host, port and cause."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:300]

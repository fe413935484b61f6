"""Opening the database: SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed batch survives
power loss), foreign keys on and ``secure_delete`` on. The pysqlite driver's own
transaction handling is switched off so that PayWarden issues BEGIN itself, chosen
by the call site's convention:

    database.engine.begin()    a unit of work that may write   BEGIN IMMEDIATE
    database.engine.connect()  reads                            BEGIN (deferred)

A deferred transaction that has read cannot write once another writer committed
after its read: SQLite cannot move a read snapshot forward and answers "database
is locked" at once, without using the busy timeout. So a unit of work that may
write takes the write lock at BEGIN, waiting up to ``SQLITE_BUSY_TIMEOUT_MS`` for
it, while reads stay deferred (a WAL reader never queues behind a writer).

One thread holds at most one write transaction per database file: a second one
would wait for the first, which is its own caller, for the whole busy timeout.
:class:`NestedWriteTransaction` is raised at once instead. The ledger writer
begins its own IMMEDIATE transactions on a raw connection (``ledger_writer.py``).

PostgreSQL is opened as it is: ``engine.begin()`` and ``engine.connect()`` plain.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from ...domain.errors import InvariantViolation
from .replica import Replica
from .sqlite_file import GuardedConnection, SqliteFile
from .unavailable import is_unavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 262_144
MIGRATIONS = Path(__file__).parent / "migrations"
BEGIN_MODE = "paywarden_sqlite_begin"  # execution option read by the begin event
IMMEDIATE = "IMMEDIATE"


class NestedWriteTransaction(InvariantViolation):
    """A thread holding a SQLite write transaction opened another: it would wait for itself."""


class WriteLockingEngine(Engine):
    """``begin()`` is a unit of work that may write: on SQLite it begins IMMEDIATE.

    Only ``begin()`` differs from :class:`Engine` (``create_engine`` takes no engine
    class, so :func:`open_database` sets it on the engine it made).
    """

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.connect() as conn:
            conn.execution_options(**{BEGIN_MODE: IMMEDIATE})
            with conn.begin():
                yield conn


def for_writes(conn: Connection) -> Connection:
    """Mark a connection its owner keeps (a writer thread's) so that every transaction it
    begins is a unit of work that may write: IMMEDIATE on SQLite, as ``engine.begin()``."""
    return conn.execution_options(**{BEGIN_MODE: IMMEDIATE})


class _WriteTransactions(threading.local):
    """Per thread: the connection holding a write transaction on each SQLite file."""

    def __init__(self) -> None:
        self.held: dict[str, Connection] = {}


_WRITES = _WriteTransactions()


@dataclass(frozen=True)
class Database:
    engine: Engine
    url: str
    file: SqliteFile | None = field(default=None, compare=False)  # a SQLite file, watched
    replica: Replica | None = field(default=None, compare=False)  # reads that may be older

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads that may be up to ``PAYWARDEN_READ_STALENESS_S`` old
        (statements, history, reports): a replica's when one is fresh enough, else the
        primary's (``replica.py``). Never for a read that a write decides on."""
        replica = self.replica
        if replica is not None and replica.usable():
            try:
                conn = replica.engine.connect()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                replica.failed()
            else:
                with conn:
                    yield conn
                return
        with self.engine.connect() as conn:
            yield conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def raw_connection(self) -> Any:
        """A driver connection owned by the caller (the ledger writer)."""
        return self.engine.raw_connection()

    def write_transaction(self) -> Connection | None:
        """The SQLite write transaction this thread holds on this file, if any.

        What must write while its caller holds the lock writes on this connection,
        in the caller's unit of work (a second one would wait for the first).
        """
        if self.dialect != "sqlite":
            return None
        holder = _WRITES.held.get(self._file_key)
        return holder if holder is not None and holder.in_transaction() else None

    @cached_property
    def _file_key(self) -> str:
        return _file_key(self.url)

    def check_file(self) -> None:
        """Raise :class:`DatabaseFileLost` unless the SQLite file is still the one opened
        and its directory is writable (nothing to check on PostgreSQL)."""
        if self.file is not None:
            self.file.check()

    def migrate(self) -> None:
        with self.engine.begin() as connection:
            config = _alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def is_migrated(self) -> bool:
        return inspect(self.engine).has_table("ledger_state")

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.dispose()
        if self.file is not None:
            self.file.forget()


def _alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def open_database(url: str, *, replica_url: str | None = None,
                  staleness_s: float = 5.0) -> Database:
    """The database at ``url``; on PostgreSQL, with ``replica_url``, a replica for reads
    that may be up to ``staleness_s`` old."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _open_sqlite(url, parsed.database)
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ValueError(f"PostgreSQL needs the psycopg driver: postgresql+psycopg://…, got {parsed.drivername!r}")
        engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
        replica = Replica(replica_url, staleness_s=staleness_s) if replica_url else None
        return Database(engine=engine, url=url, replica=replica)
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


def _open_sqlite(url: str, path: str | None) -> Database:
    on_disk = bool(path) and path != ":memory:" and not str(path).startswith("file:")
    guard = SqliteFile(Path(path).resolve()) if on_disk and path else None
    if guard is not None:
        guard.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # serve: private
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                      "factory": GuardedConnection},
        pool_size=8,
        max_overflow=8,
    )
    engine.__class__ = WriteLockingEngine
    if guard is not None:
        event.listen(engine, "do_connect", partial(_sqlite_before_connect, guard))
    event.listen(engine, "connect", partial(_sqlite_on_connect, guard))
    key = _file_key(url)
    event.listen(engine, "begin", partial(_sqlite_on_begin, key, guard))
    event.listen(engine, "commit", partial(_sqlite_on_end, key))
    event.listen(engine, "rollback", partial(_sqlite_on_end, key))
    return Database(engine=engine, url=url, file=guard)


def _sqlite_before_connect(guard: SqliteFile, *_args: object) -> None:
    guard.opening()


def _sqlite_on_connect(guard: SqliteFile | None, dbapi_connection: GuardedConnection,
                       _record: object) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content (cleared plaintext, old sealed values) is zeroed,
    # not left in free pages of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
    if guard is not None:
        dbapi_connection.attach(guard)


def _file_key(url: str) -> str:
    """One key per database file, however its URL spells the path."""
    path = make_url(url).database
    return str(Path(path).resolve()) if path and path != ":memory:" else url


def _sqlite_on_begin(key: str, guard: SqliteFile | None, connection: Connection) -> None:
    if connection.get_execution_options().get(BEGIN_MODE) != IMMEDIATE:
        connection.exec_driver_sql("BEGIN")
        return
    if guard is not None:
        guard.raise_if_lost()  # no work begins that could not be acknowledged
    holder = _WRITES.held.get(key)
    if (holder is not None and holder is not connection and not holder.closed
            and holder.in_transaction()):
        raise NestedWriteTransaction(
            "this thread already holds a write transaction on this SQLite database; a "
            "second one would wait for it until the busy timeout: write on the caller's "
            "connection (Database.write_transaction) or after its commit")
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    _WRITES.held[key] = connection


def _sqlite_on_end(key: str, connection: Connection) -> None:
    if _WRITES.held.get(key) is connection:
        del _WRITES.held[key]

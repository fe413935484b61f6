"""Feature reads: a statement compiled once, run on a connection of the reader's own.

A screening reads a handful of rows (the customer's age, origins, payee, recent amounts,
velocity counts). Through SQLAlchemy each read costs more CPU building the statement,
checking a connection out of the pool and beginning a transaction than the database
spends answering it; at thousands of screenings a second that is most of the budget.
So the statements are written once as SQLAlchemy Core (portable, typed against the
schema), compiled once per statement for the database's driver, and run on DBAPI
connections of the reads' own: at most ``connections_max``, detached from the platform's
pool (so they take none of its places), lent to one screening at a time (a screening
that finds none free within the deadline raises, and its kind's fallback applies):

- SQLite: the connection is in autocommit (the platform's SQLite connections have no
  implicit transaction): each read sees the latest commit, and a reader never blocks a
  writer under WAL.
- PostgreSQL: the connection is put in autocommit, so a read never leaves a transaction
  open (no snapshot held, nothing for VACUUM to wait on), and ``statement_timeout`` is
  the screening's deadline: a read stuck behind a lock gives up rather than hang a
  worker.

Reads only: a statement that is not a SELECT is refused when it is compiled (a
``TypeError``: the screening falls back, and the log names the bug).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeAlias

from sqlalchemy import BindParameter, Select, literal

from ...adapters.store import Database

AnySelect: TypeAlias = Select[*tuple[Any, ...]]


def one_of(values: Iterable[Any]) -> list[BindParameter[Any]]:
    """A literal list for ``column.in_(...)`` in a compiled read: one bound value each (a
    plain ``in_(tuple)`` is an *expanding* parameter, which is rendered per execution)."""
    return [literal(v) for v in values]


class _Compiled:
    __slots__ = ("defaults", "names", "positional", "sql")

    def __init__(self, sql: str, names: tuple[str, ...], positional: bool,
                 defaults: dict[str, Any]) -> None:
        self.sql = sql
        self.names = names
        self.positional = positional
        self.defaults = defaults  # literal values the statement binds itself (a LIMIT)


CONNECTIONS_MAX = 4


class ReadsBusy(RuntimeError):
    """Every read connection was lent out for the whole deadline."""


class Reads:
    def __init__(self, database: Database, *, deadline_ms: int,
                 connections_max: int = CONNECTIONS_MAX) -> None:
        self._engine = database.engine
        self._postgres = database.engine.dialect.name == "postgresql"
        self._deadline_ms = max(int(deadline_ms), 1)
        self._compiled: dict[AnySelect, _Compiled] = {}
        self._free: list[Any] = []  # idle connections, the most recently used last
        self._slots = threading.BoundedSemaphore(connections_max)
        self._lock = threading.Lock()
        self._local = threading.local()  # the connection lent to this thread, if any
        self._closed = False

    def rows(self, statement: AnySelect, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run ``statement`` (bind parameters by name) and return its rows as tuples."""
        compiled = self._compiled.get(statement) or self._compile(statement)
        given = {**compiled.defaults, **params} if compiled.defaults else params
        values: Any = (tuple(given[n] for n in compiled.names) if compiled.positional
                       else given)
        conn = getattr(self._local, "conn", None)
        if conn is None:
            raise RuntimeError("a feature read outside Reads.lent(): no connection is lent")
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(compiled.sql, values)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except self._engine.dialect.loaded_dbapi.Error:
            self._drop(conn)  # the next read reconnects: a restarted server is not fatal
            raise

    def scalar(self, statement: AnySelect, params: Mapping[str, Any]) -> Any:
        found = self.rows(statement, params)
        return found[0][0] if found else None

    def _compile(self, statement: AnySelect) -> _Compiled:
        if not isinstance(statement, Select):
            raise TypeError("feature reads are SELECTs only")
        done = statement.compile(dialect=self._engine.dialect)
        if "POSTCOMPILE" in str(done):
            raise TypeError("a compiled read cannot expand a list per execution: write "
                            "column.in_(one_of(values))")
        positional = bool(done.positional)
        names = tuple(done.positiontup or ()) if positional else ()
        defaults = {k: v for k, v in done.params.items() if v is not None}
        made = _Compiled(str(done), names, positional, defaults)
        self._compiled[statement] = made
        return made

    @contextmanager
    def lent(self) -> Iterator[Reads]:
        """A connection for this thread's screening, given back when it ends."""
        if not self._slots.acquire(timeout=self._deadline_ms / 1000):
            raise ReadsBusy(f"no risk read connection free within {self._deadline_ms} ms")
        try:
            with self._lock:
                conn = self._free.pop() if self._free else None
            self._local.conn = conn if conn is not None else self._open()
            yield self
        finally:
            conn, self._local.conn = getattr(self._local, "conn", None), None
            if conn is not None:
                with self._lock:
                    keep = not self._closed
                    if keep:
                        self._free.append(conn)
                if not keep:
                    self._drop(conn)
            self._slots.release()

    def _open(self) -> Any:
        pooled = self._engine.raw_connection()  # set up as every platform connection is
        driver: Any = pooled.driver_connection
        pooled.detach()  # ours until close(): the platform's pool keeps all its places
        if self._postgres:
            driver.autocommit = True
            driver.execute(f"SET statement_timeout = {self._deadline_ms}")
        return driver

    def _drop(self, conn: Any) -> None:
        self._local.conn = None
        try:
            conn.close()
        except Exception:  # noqa: BLE001, S110 - it is broken already; dropping it is the point
            pass

    def close(self) -> None:
        """Close the idle connections (one lent out is closed when it comes back)."""
        with self._lock:
            self._closed = True
            idle, self._free = self._free, []
        for conn in idle:
            self._drop(conn)

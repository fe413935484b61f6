"""The ledger engine's write path: one locked transaction per batch.

This is the one place that bypasses SQLAlchemy for the driver's own
``executemany`` (SQLite) and ``unnest`` arrays (PostgreSQL): at 8,190 rows a
batch, per-row overhead is the whole cost (docs/decisions/0003).

Every writer, in any process, first locks the single ``ledger_state`` row
(SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT … FOR UPDATE), so batches apply
one after another and timestamps never go backwards.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple

import psycopg

from ...domain.audit.leaves import Event
from ...domain.ledger import FAILED_COLUMNS, TRANSFER_COLUMNS, Account, Book, Pending, Row
from . import audit_log

_ACCOUNT_COLUMNS = (
    "id, ledger, code, flags, user_data, timestamp, debits_pending, debits_posted, "
    "credits_pending, credits_posted, last_transfer"
)
_TRANSFER_SELECT = ", ".join(f"t.{c}" for c in TRANSFER_COLUMNS) + ", p.expires_at, p.state"
LOOKUP_CHUNK = 4_000
SQLITE_AUTOCHECKPOINT_PAGES = 1_000  # SQLite's default
EXPIRY_BATCH_MAX = 1_000

Loaded = tuple[tuple[Any, ...], Pending | None]
Read = tuple[str, Sequence[Any]]  # driver SQL and its parameters


class LockedLoad(NamedTuple):
    version: int
    last_timestamp: int
    transfers: list[Loaded]
    failed: set[str]
    accounts: list[Account]
    reads: dict[str, list[Any]]  # the caller's reads, by its keys

# An account's update parameters in one C call each (8,000 accounts a batch).
_ID_THEN_BALANCES = attrgetter("id", "debits_pending", "debits_posted", "credits_pending",
                               "credits_posted", "last_transfer")


# A statement's rows are bound as one flat list: chunks of as many rows as SQLite's bound
# on parameters allows, then powers of two (so at most a dozen shapes are ever prepared
# and all stay in the connection's statement cache).
SQLITE_PARAMS_MAX = 32_766  # SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32
_POWER_ROWS_MAX = 1_024


def _row_counts(rows_total: int, rows_max: int) -> Iterable[int]:
    """How many rows each statement takes: full chunks, then falling powers of two."""
    left = rows_total
    while left >= rows_max:
        yield rows_max
        left -= rows_max
    size = _POWER_ROWS_MAX
    while left:
        while size > left:
            size //= 2
        yield size
        left -= size


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _split(record: Sequence[Any]) -> Loaded:
    row = tuple(record[: Row.WIDTH])
    expires_at, state = record[Row.WIDTH], record[Row.WIDTH + 1]
    if state is None:
        return row, None
    return row, Pending(row[Row.TIMESTAMP], row[Row.DEBIT], row[Row.CREDIT], row[Row.AMOUNT],
                        expires_at, state)


class LedgerWriter:
    """SQLite flavour; ``PostgresLedgerWriter`` overrides what differs."""

    param = "?"
    dialect = "sqlite"
    integrity_error: type[Exception] = sqlite3.IntegrityError

    def __init__(self, connection: Any) -> None:
        self._proxy = connection  # SQLAlchemy's pooled proxy; closing it returns it
        self.conn = connection.driver_connection
        self._checkpoints_deferred = False
        self._params_max = SQLITE_PARAMS_MAX
        if self.dialect == "sqlite":
            self._params_max = self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    def close(self) -> None:
        if self._checkpoints_deferred:  # the pooled connection goes back as it came
            self.conn.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        self._proxy.close()

    def discard(self) -> None:
        """The connection broke: the pool closes it instead of taking it back."""
        self._proxy.invalidate()
        self._proxy.close()

    def defer_checkpoints(self, pages: int) -> None:
        """Checkpoint the WAL in this connection's commits only past ``pages`` (a fallback:
        ``services/ledger/checkpointer`` does it on another thread). SQLite only."""
        self.conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
        self._checkpoints_deferred = True

    # -- transaction ----------------------------------------------------

    def begin(self) -> tuple[int, int]:
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute("SELECT version, last_timestamp FROM ledger_state WHERE id = 1")
        version, last_timestamp = cur.fetchone()
        return version, last_timestamp

    def lock(self) -> tuple[int, int]:
        """Inside a transaction someone else began: take the ledger's write lock (a write
        first, so SQLite waits for the lock instead of failing on a stale snapshot)."""
        cur = self.conn.cursor()
        cur.execute("UPDATE ledger_state SET version = version WHERE id = 1")
        cur.execute("SELECT version, last_timestamp FROM ledger_state WHERE id = 1")
        version, last_timestamp = cur.fetchone()
        return version, last_timestamp

    def lock_and_load(self, transfer_ids: Collection[str], own_ids: Collection[str],
                      account_ids: Collection[int], reads: Mapping[str, Read]
                      ) -> LockedLoad:
        """Inside the caller's transaction: :meth:`lock`, then the stored transfers, the
        failed ids among ``own_ids``, the accounts, and the caller's own ``reads``."""
        version, last_timestamp = self.lock()
        cur = self.conn.cursor()
        extra = {}
        for key, (sql, params) in reads.items():
            cur.execute(sql, params)
            extra[key] = list(cur.fetchall())
        return LockedLoad(version, last_timestamp, self.load_transfers(transfer_ids),
                          self.failed_ids(own_ids), self.load_accounts(account_ids), extra)

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # -- reads inside the transaction -------------------------------------

    def _select_in(self, sql: str, keys: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        cur = self.conn.cursor()
        for chunk in _chunks(keys, LOOKUP_CHUNK):
            cur.execute(sql.format(marks=",".join("?" * len(chunk))), tuple(chunk))
            out.extend(cur.fetchall())
        return out

    def load_accounts(self, ids: Collection[int]) -> list[Account]:
        if not ids:
            return []
        sql = f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id IN ({{marks}})"
        return [Account(*r) for r in self._select_in(sql, list(ids))]

    def load_transfers(self, ids: Collection[str]) -> list[Loaded]:
        if not ids:
            return []
        sql = (
            f"SELECT {_TRANSFER_SELECT} FROM transfers t LEFT JOIN pending_transfers p "
            f"ON p.timestamp = t.timestamp WHERE t.id IN ({{marks}})"
        )
        return [_split(r) for r in self._select_in(sql, list(ids))]

    def stored_ids(self, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` name a stored transfer."""
        if not ids:
            return set()
        sql = "SELECT id FROM transfers WHERE id IN ({marks})"
        return {r[0] for r in self._select_in(sql, list(ids))}

    def failed_ids(self, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` failed for good (the table is small: one probe per id)."""
        if not ids:
            return set()
        sql = "SELECT id FROM transfers_failed WHERE id IN ({marks})"
        return {r[0] for r in self._select_in(sql, list(ids))}

    def failed_since(self, timestamp: int, limit: int) -> list[tuple[str, int]]:
        """Ids and timestamps of failed transfers newer than ``timestamp``, oldest first."""
        cur = self.conn.cursor()
        p = self.param
        cur.execute(f"SELECT id, timestamp FROM transfers_failed WHERE timestamp > {p} "
                    f"ORDER BY timestamp LIMIT {p}", (timestamp, limit))
        return [(r[0], r[1]) for r in cur.fetchall()]

    def load_expired(self, now_ns: int) -> list[Loaded]:
        cur = self.conn.cursor()
        p = self.param
        cur.execute(
            f"SELECT {_TRANSFER_SELECT} FROM pending_transfers p JOIN transfers t "
            f"ON t.timestamp = p.timestamp WHERE p.state = 0 AND p.expires_at IS NOT NULL "
            f"AND p.expires_at <= {p} ORDER BY p.expires_at LIMIT {EXPIRY_BATCH_MAX}",
            (now_ns,),
        )
        return [_split(r) for r in cur.fetchall()]

    def ledger_ids(self) -> set[int]:
        cur = self.conn.cursor()
        cur.execute("SELECT id FROM ledgers")
        return {r[0] for r in cur.fetchall()}

    def open_pending_count(self, account_id: int) -> int:
        cur = self.conn.cursor()
        p = self.param
        cur.execute(
            f"SELECT count(*) FROM pending_transfers WHERE state = 0 "
            f"AND (debit_account_id = {p} OR credit_account_id = {p})",
            (account_id, account_id),
        )
        return int(cur.fetchone()[0])

    # -- writes -----------------------------------------------------------

    def insert_accounts(self, accounts: Sequence[Account]) -> None:
        self.conn.executemany(
            f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(a.id, a.ledger, a.code, a.flags, a.user_data, a.timestamp, *a.balances(),
              a.last_transfer) for a in accounts],
        )

    def set_account_flags(self, account_id: int, flags: int) -> None:
        self.conn.execute("UPDATE accounts SET flags = ? WHERE id = ?", (flags, account_id))

    def _values(self, head: str, width: int, tail: str, rows: Sequence[Sequence[Any]]) -> None:
        """``head VALUES (…),(…)… tail`` over ``rows``, a few thousand rows a statement.

        ``executemany`` takes the GIL back after every row's ``sqlite3_step``; one
        statement of many rows binds them all in C and steps once, without the GIL, so
        another thread's Python runs meanwhile (decision 0003). Rows go in in order.
        """
        conn = self.conn
        row = "(" + ",".join("?" * width) + ")"
        start = 0
        for count in _row_counts(len(rows), self._params_max // width):
            sql = f"{head} VALUES {','.join([row] * count)}{tail}"
            conn.execute(sql, list(chain.from_iterable(rows[start : start + count])))
            start += count

    def write_book(self, book: Book, accounts: dict[int, Account]) -> None:
        conn = self.conn
        if book.rows:
            self._values(f"INSERT INTO transfers ({', '.join(TRANSFER_COLUMNS)})", Row.WIDTH,
                         "", book.rows)
        if book.failed_rows:
            conn.executemany(
                f"INSERT INTO transfers_failed ({', '.join(FAILED_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(FAILED_COLUMNS))})",
                book.failed_rows,
            )
        if book.new_pendings:
            conn.executemany(
                "INSERT INTO pending_transfers (timestamp, debit_account_id, credit_account_id, "
                "amount, expires_at, state) VALUES (?,?,?,?,?,?)",
                [(p.timestamp, p.debit_account_id, p.credit_account_id, p.amount, p.expires_at,
                  p.state) for p in book.new_pendings],
            )
        if book.changed_pendings:
            conn.executemany(
                "UPDATE pending_transfers SET state = ? WHERE timestamp = ?",
                [(p.state, p.timestamp) for p in book.changed_pendings],
            )
        if book.dirty:
            # SQLite names a VALUES list's columns column1, column2, …
            self._values(
                "UPDATE accounts SET debits_pending = u.column2, debits_posted = u.column3, "
                "credits_pending = u.column4, credits_posted = u.column5, "
                "last_transfer = u.column6 FROM (", 6,
                ") AS u WHERE accounts.id = u.column1",
                list(map(_ID_THEN_BALANCES, map(accounts.__getitem__, book.dirty))),
            )

    def append_audit(self, events: Sequence[Event]) -> None:
        """The batch's audit entries, in the batch's transaction."""
        audit_log.append(audit_log.Sql(self.conn, self.dialect), events)

    def bump(self, version: int, last_timestamp: int) -> None:
        p = self.param
        self.conn.execute(
            f"UPDATE ledger_state SET version = {p}, last_timestamp = {p} WHERE id = 1",
            (version, last_timestamp),
        )


class PostgresLedgerWriter(LedgerWriter):
    """PostgreSQL: binary COPY for inserts, one UPDATE over binary arrays for the rest.

    ``pipelined``: the caller sends this writer's statements in a pipeline (psycopg's
    pipeline mode, one round trip for many statements), where COPY is not allowed:
    inserts are then one ``INSERT … SELECT FROM unnest`` of binary arrays each."""

    param = "%s"
    dialect = "postgresql"
    integrity_error = psycopg.IntegrityError

    def __init__(self, connection: Any, *, pipelined: bool = False) -> None:
        super().__init__(connection)
        self._pipelined = pipelined

    def lock_and_load(self, transfer_ids: Collection[str], own_ids: Collection[str],
                      account_ids: Collection[int], reads: Mapping[str, Read]
                      ) -> LockedLoad:
        """All in one round trip: the statements run in order, so every read is made under
        the lock the first one takes."""
        conn = self.conn
        with conn.pipeline():
            lock = conn.cursor().execute(
                "SELECT version, last_timestamp FROM ledger_state WHERE id = 1 FOR UPDATE")
            transfers = conn.cursor().execute(
                f"SELECT {_TRANSFER_SELECT} FROM transfers t LEFT JOIN pending_transfers p "
                "ON p.timestamp = t.timestamp WHERE t.id = ANY(%s)", (list(transfer_ids),))
            failed = conn.cursor().execute(
                "SELECT id FROM transfers_failed WHERE id = ANY(%s)", (list(own_ids),))
            accounts = conn.cursor().execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ANY(%s)",
                (list(account_ids),))
            extra = {key: conn.cursor().execute(sql, params)
                     for key, (sql, params) in reads.items()}
        # Read after the pipeline's one sync: fetching inside it costs a round trip more.
        version, last_timestamp = lock.fetchone()
        return LockedLoad(version, last_timestamp, [_split(r) for r in transfers.fetchall()],
                          {r[0] for r in failed.fetchall()},
                          [Account(*r) for r in accounts.fetchall()],
                          {key: list(cur.fetchall()) for key, cur in extra.items()})

    def begin(self) -> tuple[int, int]:
        cur = self.conn.cursor()
        cur.execute("SELECT version, last_timestamp FROM ledger_state WHERE id = 1 FOR UPDATE")
        version, last_timestamp = cur.fetchone()
        return version, last_timestamp

    def lock(self) -> tuple[int, int]:
        return self.begin()  # SELECT … FOR UPDATE inside the caller's transaction

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def _select_in(self, sql: str, keys: Sequence[Any]) -> list[Any]:
        cur = self.conn.cursor()
        cur.execute(sql.replace("IN ({marks})", "= ANY(%s)"), (list(keys),))
        return list(cur.fetchall())

    def insert_accounts(self, accounts: Sequence[Account]) -> None:
        self._copy("accounts", _ACCOUNT_COLUMNS, _ACCOUNT_TYPES,
                   [(a.id, a.ledger, a.code, a.flags, a.user_data, a.timestamp, *a.balances(),
                     a.last_transfer) for a in accounts])

    def set_account_flags(self, account_id: int, flags: int) -> None:
        self.conn.execute("UPDATE accounts SET flags = %s WHERE id = %s", (flags, account_id))

    def _copy(self, table: str, columns: str, types: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> None:
        """Binary COPY: the fastest insert psycopg offers (no text conversion per value)."""
        if self._pipelined:
            arrays = ", ".join(f"%b::{t}[]" for t in types)
            self.conn.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})",
                              [list(c) for c in zip(*rows, strict=True)])
            return
        with self.conn.cursor().copy(
            f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def write_book(self, book: Book, accounts: dict[int, Account]) -> None:
        if book.rows:
            self._copy("transfers", ", ".join(TRANSFER_COLUMNS), _TRANSFER_TYPES, book.rows)
        if book.failed_rows:
            self._copy("transfers_failed", ", ".join(FAILED_COLUMNS), _FAILED_TYPES,
                       book.failed_rows)
        if book.new_pendings:
            self._copy(
                "pending_transfers",
                "timestamp, debit_account_id, credit_account_id, amount, expires_at, state",
                ("int8", "int8", "int8", "int8", "int8", "int4"),
                [(p.timestamp, p.debit_account_id, p.credit_account_id, p.amount, p.expires_at,
                  p.state) for p in book.new_pendings])
        if book.changed_pendings:
            self.conn.execute(
                "UPDATE pending_transfers p SET state = u.state FROM unnest(%b::int8[], "
                "%b::int4[]) AS u(timestamp, state) WHERE p.timestamp = u.timestamp",
                [[p.timestamp for p in book.changed_pendings],
                 [p.state for p in book.changed_pendings]],
            )
        if book.dirty:
            rows = map(_ID_THEN_BALANCES, map(accounts.__getitem__, book.dirty))
            self.conn.execute(
                "UPDATE accounts a SET debits_pending = u.dp, debits_posted = u.dpo, "
                "credits_pending = u.cp, credits_posted = u.cpo, last_transfer = u.lt "
                "FROM unnest(%b::int8[], %b::int8[], %b::int8[], %b::int8[], %b::int8[], "
                "%b::int8[]) AS u(id, dp, dpo, cp, cpo, lt) WHERE a.id = u.id",
                [list(c) for c in zip(*rows)],
            )


_ACCOUNT_TYPES = ("int8", "int4", "int4", "int4", "text", "int8", "int8", "int8", "int8", "int8",
                  "int8")
_TRANSFER_TYPES = ("int8", "text", "int8", "int8", "int8", "int4", "int4", "int4", "text", "int8",
                   "text") + ("int8",) * 10

_FAILED_TYPES = (*_TRANSFER_TYPES[:11], "text")


def writer_for(dialect: str, connection: Any, *, pipelined: bool = False) -> LedgerWriter:
    if dialect == "postgresql":
        return PostgresLedgerWriter(connection, pipelined=pipelined)
    return LedgerWriter(connection)

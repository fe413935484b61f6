"""Appending to the audit log and reading it back with proofs.

Appends run on the caller's driver connection, inside the caller's
transaction, so an entry commits with its change or not at all. The one row of
``audit_head`` is updated first: its row lock (PostgreSQL) or the write lock
(SQLite) orders appends, so leaf indexes are dense and the tree never forks.
Append last in a transaction, so the lock is held for the shortest time.

The ledger writer holds a raw driver connection; services hold SQLAlchemy
connections. Both reach :func:`append` (see :func:`driver`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from ...domain.audit import leaves, merkle
from ...domain.audit.leaves import Event

ENTRY_COLUMNS = "seq, at, actor, action, object, outcome, detail, leaf"
PAGE_MAX = 1_000
INSERT_ROWS_MAX = 500  # rows in one multi-row INSERT (PostgreSQL: 65,535 parameters at most)


class Sql:
    """A driver connection and its parameter marker (sqlite3: ?, psycopg: %s)."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.conn = connection
        self.mark = "%s" if dialect == "postgresql" else "?"

    def _sql(self, sql: str) -> str:
        return sql if self.mark == "?" else sql.replace("?", "%s")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), tuple(params))
        return list(cur.fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.cursor().execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.cursor().executemany(self._sql(sql), list(rows))

    def insert(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows``: on PostgreSQL one statement per ``INSERT_ROWS_MAX`` rows (a
        statement per row costs the server a parse, plan and executor run each)."""
        width = columns.count(",") + 1
        if self.mark == "?":
            self.executemany(f"INSERT INTO {table} ({columns}) VALUES "
                             f"({','.join('?' * width)})", rows)
            return
        one = "(" + ",".join(["%s"] * width) + ")"
        cur = self.conn.cursor()
        for start in range(0, len(rows), INSERT_ROWS_MAX):
            chunk = rows[start:start + INSERT_ROWS_MAX]
            cur.execute(f"INSERT INTO {table} ({columns}) VALUES {','.join([one] * len(chunk))}",
                        [value for row in chunk for value in row])


def driver(conn: Connection) -> Sql:
    """The driver connection under a SQLAlchemy connection: the same transaction."""
    return Sql(conn.connection.driver_connection, conn.dialect.name)


# -- writing -------------------------------------------------------------------


def append(sql: Sql, events: Sequence[Event]) -> list[int]:
    """Append ``events`` as leaves; returns their indexes."""
    if not events:
        return []
    end = sql.rows("UPDATE audit_head SET size = size + ? WHERE id = 1 RETURNING size",
                   (len(events),))[0][0]
    start = end - len(events)
    entries, hashes = [], []
    for offset, event in enumerate(events):
        leaf = leaves.leaf(start + offset, event)
        detail = leaves.canonical(leaves.jsonable(event.detail or {})).decode()
        entries.append((start + offset, event.at_ns, event.actor, event.action, event.object_id,
                        event.outcome, detail, leaf))
        hashes.append(merkle.leaf_hash(leaf))
    known = nodes(sql, merkle.frontier(start))
    sql.insert("audit_entries", ENTRY_COLUMNS, entries)
    sql.insert("audit_nodes", "level, idx, hash", merkle.append(start, hashes, known))
    return list(range(start, end))


# -- reading -------------------------------------------------------------------


def size(sql: Sql) -> int:
    return int(sql.rows("SELECT size FROM audit_head WHERE id = 1")[0][0])


def nodes(sql: Sql, keys: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    wanted = sorted(set(keys))
    found: dict[merkle.Node, bytes] = {}
    for i in range(0, len(wanted), 200):
        chunk = wanted[i:i + 200]
        pairs = ",".join("(?,?)" for _ in chunk)
        flat = [v for key in chunk for v in key]
        for level, idx, h in sql.rows(
                f"SELECT level, idx, hash FROM audit_nodes WHERE (level, idx) IN ({pairs})", flat):
            found[(int(level), int(idx))] = bytes(h)
    return found


class MissingNode(LookupError):
    """A stored subtree the tree needs is not there: the log was damaged."""


def _read(sql: Sql, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    have = nodes(sql, merkle.needed(ranges))
    try:
        return merkle.proof(ranges, have)
    except KeyError as exc:
        raise MissingNode(f"audit node {exc.args[0]} is missing") from None


def root(sql: Sql, tree_size: int) -> bytes:
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    return _read(sql, [(0, tree_size)])[0]


def inclusion(sql: Sql, index: int, tree_size: int) -> list[bytes]:
    return _read(sql, merkle.inclusion_ranges(index, tree_size))


def consistency(sql: Sql, first: int, second: int) -> list[bytes]:
    return _read(sql, merkle.consistency_ranges(first, second))


def entries(sql: Sql, start: int, end: int) -> list[tuple[int, bytes]]:
    """Leaves ``start``…``end`` inclusive (at most PAGE_MAX), as (index, leaf bytes)."""
    end = min(end, start + PAGE_MAX - 1)
    return [(int(seq), bytes(leaf)) for seq, leaf in sql.rows(
        "SELECT seq, leaf FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq",
        (start, end))]

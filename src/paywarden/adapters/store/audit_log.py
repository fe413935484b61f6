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

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from ...domain.audit import leaves, merkle
from ...domain.audit.leaves import Event

ENTRY_COLUMNS = "seq, at, actor, action, object, outcome, detail, leaf"
PAGE_MAX = 1_000


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
        """Insert ``rows`` with one statement text whatever their number: on PostgreSQL the
        driver pipelines the rows (one round trip) and prepares the statement once it has
        seen it a few times, where a multi-row VALUES of a new length each time costs a
        parse on both sides."""
        marks = ",".join([self.mark] * (columns.count(",") + 1))
        self.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def driver(conn: Connection) -> Sql:
    """The driver connection under a SQLAlchemy connection: the same transaction."""
    return Sql(conn.connection.driver_connection, conn.dialect.name)


# -- writing -------------------------------------------------------------------


def append(sql: Sql, events: Sequence[Event]) -> list[int]:
    """Append ``events`` as leaves; returns their indexes."""
    if not events:
        return []
    start, known = reserve(sql, len(events))
    return write(sql, start, events, known)


# The frontier of the tree before the reserved leaves, read in the statement after the
# reservation: the perfect nodes (level l, index (size >> l) - 1) for each bit l of the
# old size, as merkle.frontier lists them.
_FRONTIER_SQL = (
    "SELECT n.level, n.idx, n.hash FROM audit_nodes n, (SELECT size - %s AS s FROM audit_head "
    "WHERE id = 1) h, generate_series(0, 62) AS b(l) WHERE (h.s >> b.l) & 1 = 1 "
    "AND n.level = b.l AND n.idx = (h.s >> b.l) - 1")


def reserve(sql: Sql, count: int) -> tuple[int, dict[merkle.Node, bytes]]:
    """Take ``count`` leaf indexes (locking ``audit_head``): the first, and the frontier
    the new leaves combine with. On PostgreSQL in one round trip (see :func:`send_reserve`)."""
    if sql.mark == "?":
        end = sql.rows("UPDATE audit_head SET size = size + ? WHERE id = 1 RETURNING size",
                       (count,))[0][0]
        start = end - count
        return start, nodes(sql, merkle.frontier(start))
    with sql.conn.pipeline():
        reserved = send_reserve(sql.conn, count)
    return reserved()


Reserved = Callable[[], tuple[int, dict[merkle.Node, bytes]]]


def send_reserve(conn: Any, count: int) -> Reserved:
    """PostgreSQL, in the caller's pipeline: two statements, the second reading the size the
    first left. Returns what reads :func:`reserve`'s answer once the pipeline has synced."""
    head = conn.cursor().execute(
        "UPDATE audit_head SET size = size + %s WHERE id = 1 RETURNING size", (count,))
    frontier = conn.cursor().execute(_FRONTIER_SQL, (count,))

    def reserved() -> tuple[int, dict[merkle.Node, bytes]]:
        start = head.fetchone()[0] - count
        return start, {(int(level), int(idx)): bytes(h)
                       for level, idx, h in frontier.fetchall()}
    return reserved


def write(sql: Sql, start: int, events: Sequence[Event],
          known: dict[merkle.Node, bytes]) -> list[int]:
    """Insert ``events`` as leaves ``start``… and the nodes they complete."""
    entries, hashes = [], []
    for offset, event in enumerate(events):
        leaf = leaves.leaf(start + offset, event)
        detail = leaves.canonical_jsonable(event.detail or {}).decode()
        entries.append((start + offset, event.at_ns, event.actor, event.action, event.object_id,
                        event.outcome, detail, leaf))
        hashes.append(merkle.leaf_hash(leaf))
    sql.insert("audit_entries", ENTRY_COLUMNS, entries)
    sql.insert("audit_nodes", "level, idx, hash", merkle.append(start, hashes, known))
    return list(range(start, start + len(events)))


# -- reading -------------------------------------------------------------------


def size(sql: Sql) -> int:
    return int(sql.rows("SELECT size FROM audit_head WHERE id = 1")[0][0])


def nodes(sql: Sql, keys: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    wanted = sorted(set(keys))
    found: dict[merkle.Node, bytes] = {}
    for i in range(0, len(wanted), 200):
        chunk = wanted[i:i + 200]
        # An OR of pairs: SQLite scans the whole table for a row value IN a list (every
        # append would read every node), and searches the primary key for each pair here.
        pairs = " OR ".join(["(level = ? AND idx = ?)"] * len(chunk))
        flat = [v for key in chunk for v in key]
        for level, idx, h in sql.rows(
                f"SELECT level, idx, hash FROM audit_nodes WHERE {pairs}", flat):
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

"""Sealed columns and the rewrap that moves their records to the active data key.

A sealed column is declared next to its table (adapters/store/schema), with
``info=SEALED``; its row id is the table's primary key::

    Column("email_sealed", LargeBinary, info=SEALED)

The rewrap walks every declared column in primary-key order, in batches: a record
whose data key is wrapped under an older ``data`` version gets its data key
re-wrapped under the active version (the record's ciphertext is not touched).
Each batch is one transaction that compares-and-sets the value it read, and that
audits what it moved. :func:`step` is the background form: a bounded slice per
call, resuming where the previous call stopped; after a full pass that moved
nothing, it destroys the retired versions no record can still use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    MetaData,
    and_,
    column,
    func,
    select,
    table,
    tuple_,
    update,
)

from ...adapters import crypto
from ...adapters.store.schema import metadata
from .. import audit
from .purposes import DATA, RETIRED

if TYPE_CHECKING:
    from .keyring import Keys

BATCH_SIZE_DEFAULT = 500
BATCH_SIZE_MAX = 10_000


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    key: tuple[str, ...]  # the primary-key columns of the table

    def clause(self) -> Any:
        return table(self.table, *(column(k) for k in self.key), column(self.column))

    def key_of(self, t: Any) -> Any:
        parts = [t.c[k] for k in self.key]
        return parts[0] if len(parts) == 1 else tuple_(*parts)


def sealed_columns(meta: MetaData | None = None) -> list[SealedColumn]:
    """Every column of ``meta`` (the platform's tables) declared sealed, keyed by its table's
    primary key."""
    found = [SealedColumn(t.name, c.name, tuple(k.name for k in t.primary_key.columns))
             for t in (metadata if meta is None else meta).tables.values()
             for c in t.columns if c.info.get("sealed")]
    for sealed in found:
        if not sealed.key:
            raise ValueError(f"{sealed.table}.{sealed.column}: a sealed column needs a key")
    return sorted(found, key=lambda c: (c.table, c.column))


@dataclass
class RewrapReport:
    scanned: int = 0
    moved: int = 0
    destroyed: list[str] = field(default_factory=list)  # kids

    def as_json(self) -> dict[str, object]:
        return {"scanned": self.scanned, "moved": self.moved, "destroyed": self.destroyed}


@dataclass
class Cursor:
    """Where the background rewrap stands: the column and the last row id done."""

    index: int = 0
    after: Any = None
    moved_in_pass: int = 0
    pass_started_ns: int | None = None


def _batch(conn: Connection, sealed: SealedColumn, *, after: Any, limit: int) -> list[Any]:
    """Rows ``(key, value)`` after key ``after``, in key order; a key is a tuple."""
    t = sealed.clause()
    keys, col = [t.c[k] for k in sealed.key], t.c[sealed.column]
    q = select(*keys, col).where(col.is_not(None)).order_by(*keys).limit(limit)
    if after is not None:
        q = q.where(sealed.key_of(t) > (after[0] if len(after) == 1 else tuple_(*after)))
    return [(tuple(r[:-1]), r[-1]) for r in conn.execute(q)]


def _move_batch(keys: Keys, sealed: SealedColumn, *, after: Any, limit: int,
                actor: str) -> tuple[int, int, Any]:
    """Rewrap one batch; (rows scanned, rows moved, last row id or None at the end)."""
    active, kek = keys.current(DATA)
    now = keys.clock.now_ns()
    t = sealed.clause()
    col = t.c[sealed.column]
    with keys.database.engine.begin() as conn:
        rows = _batch(conn, sealed, after=after, limit=limit)
        moved = 0
        for key, value in rows:
            value = bytes(value)
            version = crypto.kek_version_of(value)
            if version == active.version:
                continue
            new = crypto.rewrap(value, old_kek=keys.secret(DATA, version, use="decrypt"),
                                new_kek=kek, new_version=active.version, table=sealed.table,
                                column=sealed.column)
            same_row = and_(*(t.c[k] == v for k, v in zip(sealed.key, key, strict=True)))
            moved += conn.execute(update(t).where(same_row, col == value)
                                  .values({sealed.column: new})).rowcount
        if moved:
            audit.record(conn, at_ns=now, actor=actor, action="key.rewrap",
                         object_id=active.kid,
                         detail={"purpose": DATA, "version": active.version,
                                 "kid": active.kid, "table": sealed.table,
                                 "column": sealed.column, "records": moved})
    last = rows[-1][0] if len(rows) == limit else None
    return len(rows), moved, last


def _count(keys: Keys, columns: list[SealedColumn]) -> int:
    total = 0
    with keys.database.engine.connect() as conn:
        for sealed in columns:
            t = sealed.clause()
            total += int(conn.execute(select(func.count()).select_from(t)
                                      .where(t.c[sealed.column].is_not(None))).scalar_one())
    return total


def rewrap(keys: Keys, table_name: str | None, column_name: str | None, *, batch_size: int,
           actor: str, progress: Callable[[int, int], None] | None) -> RewrapReport:
    """Move every record of the chosen registered columns to the active data version."""
    if not 1 <= batch_size <= BATCH_SIZE_MAX:
        raise ValueError(f"batch_size {batch_size} is not within 1..{BATCH_SIZE_MAX}")
    columns = [c for c in sealed_columns() if table_name in (None, c.table)
               and column_name in (None, c.column)]
    total = _count(keys, columns)
    report = RewrapReport()
    for sealed in columns:
        after = None
        while True:
            scanned, moved, after = _move_batch(keys, sealed, after=after, limit=batch_size,
                                                actor=actor)
            report.scanned += scanned
            report.moved += moved
            if progress is not None:
                progress(report.scanned, total)
            if after is None:
                break
    return report


def first_use(keys: Keys, version: int) -> SealedColumn | None:
    """The first registered column holding a record under data ``version``, if any."""
    for sealed in sealed_columns():
        after = None
        while True:
            with keys.database.engine.connect() as conn:
                rows = _batch(conn, sealed, after=after, limit=BATCH_SIZE_MAX)
            if any(crypto.kek_version_of(bytes(v)) == version for _, v in rows):
                return sealed
            if len(rows) < BATCH_SIZE_MAX:
                break
            after = rows[-1][0]
    return None


def step(keys: Keys, *, limit: int) -> int:
    """One slice of the background rewrap (at most ``limit`` rows read)."""
    cursor = keys.rewrap_cursor
    columns = sealed_columns()
    if cursor.pass_started_ns is None:
        cursor.pass_started_ns = keys.clock.now_ns()
    if cursor.index >= len(columns):
        _end_pass(keys, cursor)
        return 0
    _, moved, after = _move_batch(keys, columns[cursor.index], after=cursor.after,
                                  limit=limit, actor=audit.SYSTEM)
    cursor.moved_in_pass += moved
    cursor.after = after
    if after is None:
        cursor.index += 1
        if cursor.index >= len(columns):
            _end_pass(keys, cursor)
    return moved


def _end_pass(keys: Keys, cursor: Cursor) -> None:
    """A pass that moved nothing proves that versions retired before it began (and
    before the cache window) wrap no record: destroy them."""
    started = cursor.pass_started_ns or 0
    if cursor.moved_in_pass == 0:
        for version in keys.versions(DATA):
            if (version.state == RETIRED and version.retired_at is not None
                    and version.retired_at + keys.cache_ns <= started):
                keys.destroy(version.kid, actor=audit.SYSTEM)
    cursor.index, cursor.after, cursor.moved_in_pass = 0, None, 0
    cursor.pass_started_ns = None

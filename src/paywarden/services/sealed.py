"""Sealed columns: personal data and secrets encrypted per record.

A sealed value is an AES-256-GCM envelope made by ``keys.seal`` (see
adapters/crypto/envelope.py) whose associated data is the table, the *physical*
column (``users.email_sealed``) and the row id, so a value copied to another
row or column does not open: ``keys.open`` raises ``OpenError`` and nothing is
returned. Exact-match lookups go through keyed blind indexes
(``users.username_index``), never through the plaintext.

:data:`SEALED_COLUMNS` lists every sealed column with the primary-key columns
its row id is made of, as declared on its table (``Column.info``; see
adapters/store/schema/base.py), which is also what the keyring's rewrap walks;
:data:`BLIND_INDEXES` says which sealed column each blind index is computed
from (what a new blind-index key has to recompute).

Rows written before migration 0005 had plaintext; the migration moved it to
``sealing_backlog`` and :func:`seal_legacy` (run at start-up) seals it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from sqlalchemy import and_, delete, select, update

from ..adapters.store import Database
from ..adapters.store.schema import metadata, sealing_backlog
from ..domain.errors import InvariantViolation
from .keys.rewrap import SealedColumn, sealed_columns

log = structlog.get_logger(__name__)
BACKLOG_BATCH_SIZE_MAX = 500


class FieldKeys(Protocol):
    """What sealing needs of the keyring (``paywarden.services.keys.Keys``)."""

    def seal(self, plaintext: bytes, *, table: str, column: str, row_id: str) -> bytes: ...

    def open(self, sealed: bytes, *, table: str, column: str, row_id: str) -> bytes: ...

    def blind_index(self, value: str, *, table: str, column: str) -> str: ...


@dataclass(frozen=True)
class BlindIndex:
    table: str
    column: str  # the index column
    source: str  # the sealed column whose plaintext it indexes


SEALED_COLUMNS: tuple[SealedColumn, ...] = tuple(sealed_columns())
BLIND_INDEXES: tuple[BlindIndex, ...] = (
    BlindIndex("users", "username_index", "username_sealed"),
    # cards.fingerprint indexes owner + number: services/cards/vault.py computes it.
    BlindIndex("cards", "fingerprint", "number_sealed"),
)
_BY_NAME = {(c.table, c.column): c for c in SEALED_COLUMNS}


def sealed_column(table: str, column: str) -> SealedColumn:
    try:
        return _BY_NAME[(table, column)]
    except KeyError:
        raise InvariantViolation(f"{table}.{column} is not a declared sealed column") from None


def row_id(*key: object) -> str:
    """The row id bound into a sealed value: the primary key, or a JSON array of its parts."""
    if len(key) == 1:
        return str(key[0])
    return json.dumps([str(k) for k in key], separators=(",", ":"))


def seal_text(keys: FieldKeys, value: str | None, *, table: str, column: str,
              row: str) -> bytes | None:
    if value is None:
        return None
    return keys.seal(value.encode("utf-8"), table=table, column=column, row_id=row)


def open_text(keys: FieldKeys, sealed: bytes | None, *, table: str, column: str,
              row: str) -> str | None:
    if sealed is None:
        return None
    return keys.open(bytes(sealed), table=table, column=column, row_id=row).decode("utf-8")


def open_required(keys: FieldKeys, sealed: bytes | None, *, table: str, column: str,
                  row: str) -> str:
    """A sealed value that must be there; NULL means the start-up sealing has not run."""
    if sealed is None:
        raise InvariantViolation(f"{table}.{column} of a row is not sealed yet: the start-up "
                                 "step seal_legacy() must run before serving")
    return keys.open(bytes(sealed), table=table, column=column, row_id=row).decode("utf-8")


def username_index(keys: FieldKeys, normalised: str) -> str:
    return keys.blind_index(normalised, table="users", column="username_index")


def seal_legacy(database: Database, keys: FieldKeys, *,
                batch_size: int = BACKLOG_BATCH_SIZE_MAX) -> int:
    """Seal every value waiting in ``sealing_backlog``; how many. Idempotent, resumable.

    Each batch is one unit of work: read, sealed and written, its backlog rows
    deleted. Two processes starting at once take turns (the write lock is taken
    at BEGIN); the second finds the rows gone. A first data key is made in the
    batch's own transaction (see services/keys/keyring.py).
    """
    limit = min(batch_size, BACKLOG_BATCH_SIZE_MAX)
    done = 0
    while True:
        with database.engine.begin() as conn:
            rows = conn.execute(select(sealing_backlog).limit(limit)).mappings().all()
            writes = [_sealed_write(keys, row) for row in rows]
            for row, (spec, where, values) in zip(rows, writes, strict=True):
                conn.execute(update(metadata.tables[spec.table]).where(where).values(**values))
                conn.execute(delete(sealing_backlog).where(
                    sealing_backlog.c.table_name == row["table_name"],
                    sealing_backlog.c.column_name == row["column_name"],
                    sealing_backlog.c.row_key == row["row_key"]))
        done += len(rows)
        if len(rows) < limit:
            break
    if done:
        if database.dialect == "sqlite":
            # Old frames of the WAL may still hold the plaintext: checkpoint and truncate it.
            raw = database.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                raw.close()
        log.info("sealed.legacy_sealed", count=done)
    return done


def _sealed_write(keys: FieldKeys, row: Mapping[Any, Any]) -> tuple[SealedColumn, Any,
                                                                     dict[str, Any]]:
    """(column, row filter, new values) that seal one backlog value into its row."""
    spec = sealed_column(row["table_name"], row["column_name"])
    table = metadata.tables[spec.table]
    parts = [row["row_key"]] if len(spec.key) == 1 else json.loads(row["row_key"])
    if len(parts) != len(spec.key):
        raise InvariantViolation(f"sealing_backlog row key for {spec.table} has "
                                 f"{len(parts)} parts, not {len(spec.key)}")
    where = and_(*(table.c[k] == v for k, v in zip(spec.key, parts, strict=True)),
                 table.c[spec.column].is_(None))  # a value sealed since is newer: keep it
    value = bytes(row["value"])
    values: dict[str, Any] = {spec.column: keys.seal(value, table=spec.table, column=spec.column,
                                                      row_id=row_id(*parts))}
    if (spec.table, spec.column) == ("users", "username_sealed"):
        values["username_index"] = username_index(keys, value.decode("utf-8"))
    return spec, where, values

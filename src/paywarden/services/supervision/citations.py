"""Which audit entry recorded an object, and the proofs that put entries in a tree.

A row cites the *latest* entry whose ``object`` is the row's id (a payment's last
transition, a case's outcome, a day's reconciliation), found through the index on
``audit_entries.object`` (migration 0026). Entries appended after the report's own
leaf cannot be cited: the cited leaf is always below it, so one tree head covers all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from ...adapters.store import audit_log as log
from ...adapters.store.schema import audit_entries

LOOKUP_CHUNK_SIZE = 500


@dataclass(frozen=True)
class Cited:
    leaf_index: int
    leaf: bytes
    inclusion: tuple[bytes, ...]


def latest_leaves(conn: Connection, objects: Iterable[str]) -> dict[str, int]:
    """object id → index of the newest audit entry about it (absent: none)."""
    wanted = sorted(set(objects))
    found: dict[str, int] = {}
    for i in range(0, len(wanted), LOOKUP_CHUNK_SIZE):
        chunk = wanted[i:i + LOOKUP_CHUNK_SIZE]
        query = (select(audit_entries.c.object, func.max(audit_entries.c.seq))
                 .where(audit_entries.c.object.in_(chunk)).group_by(audit_entries.c.object))
        found.update({str(o): int(s) for o, s in conn.execute(query)})
    return found


def proofs(conn: Connection, indexes: Sequence[int], tree_size: int) -> list[Cited]:
    """Each leaf's bytes and its inclusion path in the tree of ``tree_size``."""
    sql = log.driver(conn)
    out: list[Cited] = []
    for index in sorted(set(indexes)):
        leaf = log.entries(sql, index, index)[0][1]
        out.append(Cited(index, leaf, tuple(log.inclusion(sql, index, tree_size))))
    return out

"""What a subject may learn, and their appeal.

Through support, a subject learns that an entry holds one of their identifiers, its
reason category, its source and its expiry: never the evidence reference, nor who
wrote it. An appeal is a case with a deadline (``registry_appeals``: state and due
date); the analysts' pages that work it come with the case queue. One open appeal per
entry: a second is refused, so the deadline cannot be pushed back by appealing again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from ...adapters.store.schema import registry_appeals
from ...domain.errors import DomainError
from .. import audit
from . import entries

APPEAL_PREFIX = "rap_"
OPEN = "open"


@dataclass(frozen=True)
class SubjectEntry:
    """An entry as the subject may see it."""

    entry_id: str
    reason: str
    source: str
    created_at_ns: int
    expires_at_ns: int
    appeal_id: str | None
    appeal_due_at_ns: int | None


@dataclass(frozen=True)
class Appeal:
    id: str
    entry_id: str
    state: str
    opened_by: str
    opened_at_ns: int
    due_at_ns: int


def _open_appeal(conn: Connection, entry_id: str) -> Appeal | None:
    row = conn.execute(select(registry_appeals).where(
        registry_appeals.c.entry_id == entry_id, registry_appeals.c.state == OPEN)
    ).mappings().first()
    return None if row is None else Appeal(row["id"], row["entry_id"], row["state"],
                                           row["opened_by"], row["opened_at"], row["due_at"])


def status(conn: Connection, digests: list[str], *, now_ns: int) -> list[SubjectEntry]:
    seen: dict[str, SubjectEntry] = {}
    for _digest, entry in entries.matching(conn, digests, now_ns=now_ns):
        appeal = _open_appeal(conn, entry.id)
        seen[entry.id] = SubjectEntry(entry.id, entry.reason, entry.source, entry.created_at_ns,
                                      entry.expires_at_ns, appeal.id if appeal else None,
                                      appeal.due_at_ns if appeal else None)
    return sorted(seen.values(), key=lambda e: (e.created_at_ns, e.entry_id))


def appeal(conn: Connection, entry_id: str, digests: list[str], *, actor: str, staff_id: str,
           now_ns: int, deadline_ns: int) -> Appeal:
    """Open an appeal against a live entry that holds one of the subject's identifiers
    (``digests``): support cannot open one for an entry that is not the subject's."""
    if entry_id not in {e.entry_id for e in status(conn, digests, now_ns=now_ns)}:
        raise DomainError("not_found", "no live entry of this subject has that id")
    if _open_appeal(conn, entry_id) is not None:
        raise DomainError("registry_appeal_open", f"entry {entry_id} has an open appeal")
    made = Appeal(entries.new_id(APPEAL_PREFIX), entry_id, OPEN, staff_id[:128], now_ns,
                  now_ns + deadline_ns)
    conn.execute(insert(registry_appeals).values(
        id=made.id, entry_id=entry_id, state=OPEN, opened_by=made.opened_by, opened_at=now_ns,
        due_at=made.due_at_ns))
    audit.record(conn, at_ns=now_ns, actor=actor, action="registry.appeal", object_id=made.id,
                 detail={"entry": entry_id, "due_at": made.due_at_ns})
    return made


def appeals(conn: Connection, *, limit: int) -> list[Appeal]:
    rows = conn.execute(select(registry_appeals).where(registry_appeals.c.state == OPEN)
                        .order_by(registry_appeals.c.due_at).limit(limit)).mappings()
    return [Appeal(r["id"], r["entry_id"], r["state"], r["opened_by"], r["opened_at"],
                   r["due_at"]) for r in rows]

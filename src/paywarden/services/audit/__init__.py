"""The audit log: what happened, in the same transaction as the change.

Every entry is a leaf of an RFC 9162 Merkle tree (:mod:`.log`); the platform
signs the tree's head every few seconds (:mod:`.tree_heads`);
``paywarden audit verify`` checks it all (:mod:`.verify`). Callers only use
:func:`record`, with the connection of their unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ...adapters.store import audit_log as log
from ...domain.audit.leaves import Event, state_digest

SYSTEM = "system"


def record(conn: Connection, *, at_ns: int, actor: str, action: str, object_id: str,
           outcome: str = "ok", detail: dict[str, Any] | None = None,
           before: Any = None, after: Any = None) -> int:
    """Append one entry; returns its index.

    ``detail`` holds ids and other non-personal, non-secret facts only: entries are
    shown to auditors and kept for ever. ``before``/``after`` are the object's
    state around the change; only their SHA-256 digests are written.
    """
    event = entry(at_ns=at_ns, actor=actor, action=action, object_id=object_id,
                  outcome=outcome, detail=detail, before=before, after=after)
    if not conn.in_transaction():
        conn.begin()  # raw SQL below would otherwise run outside the caller's transaction
    return log.append(log.driver(conn), [event])[0]


def entry(*, at_ns: int, actor: str, action: str, object_id: str, outcome: str = "ok",
          detail: dict[str, Any] | None = None, before: Any = None, after: Any = None) -> Event:
    """The entry :func:`record` appends, for a group commit to append with its batch's."""
    return Event(at_ns=at_ns, actor=actor[:128], action=action[:64], object_id=object_id[:128],
                 outcome=outcome, detail=detail, before=state_digest(before),
                 after=state_digest(after))

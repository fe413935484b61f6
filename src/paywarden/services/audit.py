"""The record of what people did, written in the same transaction as the act.

Issue 4 makes these rows the leaves of a signed Merkle tree; callers will not
change: they call :func:`record` with the connection of their unit of work.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert

from ..adapters.store.schema import audit_events

SYSTEM = "system"


def record(conn: Connection, *, at_ns: int, actor: str, action: str, object_id: str,
           outcome: str = "ok", detail: dict[str, Any] | None = None) -> None:
    """Append one event. ``detail`` must hold no secret: it is kept for ever."""
    conn.execute(insert(audit_events).values(
        at=at_ns, actor=actor[:128], action=action, object=object_id[:128], outcome=outcome,
        detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":"))))

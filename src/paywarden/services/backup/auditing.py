"""What backup and restore ask of the audit log, in one place.

Backups sign a tree head before the snapshot (``TreeHeads.sign_now``, handed in), carry the latest signed head found
inside it, and are recorded as audit entries; a restore re-runs the audit
verifier and checks the restored tree against the manifest's head.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from ...adapters.store import Database

RECORD_ATTEMPTS_MAX = 5
RECORD_BACKOFF_S = 0.05


def latest_head(conn: Connection) -> dict[str, Any] | None:
    """The latest signed tree head as ``/v1/audit/sth`` shows it, or None."""
    from ..audit import tree_heads

    head = tree_heads.latest(conn)
    return None if head is None else dict(head.as_json())


def record(database: Database, *, at_ns: int, actor: str, action: str, object_id: str,
           detail: dict[str, Any]) -> None:
    """One entry in its own transaction. A busy SQLite refuses a deferred transaction that
    read an older snapshot than the last writer's; that is retried, a bounded number of times."""
    from .. import audit

    for attempt in range(RECORD_ATTEMPTS_MAX):
        try:
            with database.engine.begin() as conn:
                audit.record(conn, at_ns=at_ns, actor=actor, action=action,
                             object_id=object_id, detail=detail)
            return
        except OperationalError:
            if database.dialect != "sqlite" or attempt == RECORD_ATTEMPTS_MAX - 1:
                raise
            time.sleep(RECORD_BACKOFF_S * (attempt + 1))


def verify(database: Database) -> list[str]:
    """Every problem ``paywarden audit verify`` finds (heads checked against the
    database's own keyring, as the command does), as text."""
    from ..audit.verify import verify_audit

    return [str(problem) for problem in verify_audit(database)]


def root_at(conn: Connection, tree_size: int) -> bytes:
    """The root hash of the first ``tree_size`` entries of the stored tree."""
    from ...adapters.store import audit_log

    return bytes(audit_log.root(audit_log.driver(conn), tree_size))


def root_hash_of(head: dict[str, Any]) -> bytes:
    return base64.b64decode(head["root_hash"], validate=True)

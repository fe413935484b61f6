"""Notifications to a user: kept in a table, in the caller's transaction.

Sending them by SMTP, when configured, is a separate step that reads unsent rows.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert

from ...adapters.store.schema import notifications
from .sessions import new_id


def notify(conn: Connection, user_id: str, kind: str, *, subject: str, body: str,
           now_ns: int) -> str:
    notice_id = new_id("ntf_")
    conn.execute(insert(notifications).values(id=notice_id, user_id=user_id, kind=kind,
                                              subject=subject[:200], body=body,
                                              created_at=now_ns, sent_at=None, read_at=None))
    return notice_id

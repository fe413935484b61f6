"""Notifications to a user: kept in a table, in the caller's transaction.

Sending them by SMTP, when configured, is a separate step that reads unsent rows.
Subject and body are sealed: they name devices, addresses and passkeys.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert

from ...adapters.store.schema import notifications
from ..sealed import FieldKeys, row_id, seal_text
from .sessions import new_id

TABLE = "notifications"


def notify(conn: Connection, user_id: str, kind: str, *, keys: FieldKeys, subject: str,
           body: str, now_ns: int) -> str:
    notice_id = new_id("ntf_")
    rid = row_id(notice_id)
    conn.execute(insert(notifications).values(
        id=notice_id, user_id=user_id, kind=kind,
        subject_sealed=seal_text(keys, subject[:200], table=TABLE, column="subject_sealed",
                                 row=rid),
        body_sealed=seal_text(keys, body, table=TABLE, column="body_sealed", row=rid),
        created_at=now_ns, sent_at=None, read_at=None))
    return notice_id

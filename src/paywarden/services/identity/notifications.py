"""Reading a user's notifications, and delivering unsent ones by email when SMTP is set up.

Rows are written by :func:`notices.notify` in the transaction of the event they
report. Delivery is a separate step: unsent rows of users with an email
address are sent in bounded batches and marked ``sent_at`` one by one, so a
failure part-way leaves the rest for the next run (at-least-once: a crash
between sending and marking can send one twice, never lose one).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import and_, or_, select, update

from ...adapters.clock import Clock
from ...adapters.notify.smtp import SmtpSender, SmtpSettings
from ...adapters.store import Database
from ...adapters.store.schema import notifications, users
from ..sealed import FieldKeys, open_required, row_id

log = structlog.get_logger(__name__)
PAGE_SIZE_MAX = 100
BATCH_SIZE_MAX = 100


@dataclass(frozen=True)
class Notice:
    id: str
    kind: str
    subject: str
    body: str
    created_at: int
    sent_at: int | None
    read_at: int | None


def list_for(database: Database, user_id: str, *, keys: FieldKeys, limit: int,
             before: tuple[int, str] | None = None) -> list[Notice]:
    """A user's notifications, newest first; ``before`` the (created_at, id) of the last seen."""
    query = select(notifications).where(notifications.c.user_id == user_id)
    if before is not None:
        at, last_id = before
        query = query.where(or_(notifications.c.created_at < at, and_(
            notifications.c.created_at == at, notifications.c.id < last_id)))
    query = query.order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
    with database.engine.connect() as conn:
        rows = conn.execute(query.limit(min(limit, PAGE_SIZE_MAX))).mappings().all()
    return [Notice(id=r["id"], kind=r["kind"],
                   subject=_open(keys, r["subject_sealed"], "subject_sealed", r["id"]),
                   body=_open(keys, r["body_sealed"], "body_sealed", r["id"]),
                   created_at=r["created_at"], sent_at=r["sent_at"], read_at=r["read_at"])
            for r in rows]


def _open(keys: FieldKeys, sealed: bytes | None, column: str, notice_id: str) -> str:
    return open_required(keys, sealed, table="notifications", column=column,
                         row=row_id(notice_id))


def deliver_unsent(database: Database, settings: SmtpSettings | None, *, clock: Clock,
                   keys: FieldKeys, batch_size: int = BATCH_SIZE_MAX) -> int:
    """Send one batch of unsent notifications; how many were sent. None: SMTP is off."""
    if settings is None:
        return 0
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(notifications.c.id, notifications.c.subject_sealed,
                   notifications.c.body_sealed, users.c.id.label("user_id"), users.c.email_sealed)
            .join(users, users.c.id == notifications.c.user_id)
            .where(notifications.c.sent_at.is_(None), users.c.email_sealed.is_not(None))
            .order_by(notifications.c.created_at)
            .limit(min(batch_size, BATCH_SIZE_MAX))).all()
    if not rows:
        return 0
    sent = 0
    with SmtpSender(settings) as sender:
        for row in rows:
            email = open_required(keys, row.email_sealed, table="users",
                                  column="email_sealed", row=row_id(row.user_id))
            sender.send(to=email, subject="PayWarden: " + _open(
                keys, row.subject_sealed, "subject_sealed", row.id),
                body=_open(keys, row.body_sealed, "body_sealed", row.id))
            with database.engine.begin() as conn:
                conn.execute(update(notifications).where(notifications.c.id == row.id)
                             .values(sent_at=clock.now_ns()))
            sent += 1
    log.info("notifications.sent", count=sent)
    return sent

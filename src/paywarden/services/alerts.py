"""Staff alerts: a small, general store of things staff must look at.

The safeguarding reconciliation raises one on a shortfall; risk and the back office
will raise theirs here too. An alert has a kind (``safeguarding.shortfall``), a
severity, a one-line subject and a detail of ids and figures: never personal data,
since every staff role that reads alerts sees it (:func:`check_detail` refuses
anything but short scalars). A job that runs often names a ``dedupe_key``, so the
same finding is raised once, not at every run.

Raising, reading and acknowledging are each an audit entry. An alert is acknowledged
once, by one member of staff; a second acknowledgement is refused
(``alert_already_acknowledged``), so the log says who took it on.

When SMTP and ``alerts_email_to`` are set, a new alert is also e-mailed, after it is
committed (best effort: the stored alert is the record; a failed e-mail is logged).
"""

from __future__ import annotations

import enum
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..adapters.clock import Clock
from ..adapters.store import Database
from ..adapters.store.schema import staff_alerts
from ..domain.errors import DomainError
from . import audit

log = structlog.get_logger(__name__)
ID_PREFIX = "alr_"
PAGE_SIZE_MAX = 100
SUBJECT_CHARS_MAX = 200
DETAIL_KEYS_MAX = 32
DETAIL_CHARS_MAX = 4_096
DETAIL_VALUE_CHARS_MAX = 64
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,3}$")
CURSOR_PATTERN = re.compile(r"^([0-9]{1,20})\.(alr_[0-9a-f]{24})$")
Mailer = Callable[["Alert"], None]


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str
    severity: Severity
    subject: str
    detail: dict[str, Any]
    created_at_ns: int
    acknowledged_by: str | None
    acknowledged_at_ns: int | None

    @property
    def cursor(self) -> str:
        return f"{self.created_at_ns}.{self.id}"


def check_detail(detail: dict[str, Any]) -> str:
    """The detail as canonical JSON: ids and figures only (short scalars), bounded."""
    if not isinstance(detail, dict) or len(detail) > DETAIL_KEYS_MAX:
        raise DomainError("alert_invalid", f"an alert's detail is at most {DETAIL_KEYS_MAX} "
                          "keys")
    for key, value in detail.items():
        scalar = value is None or isinstance(value, bool | int) or (
            isinstance(value, str) and len(value) <= DETAIL_VALUE_CHARS_MAX)
        if not (isinstance(key, str) and KIND_PATTERN.match(key) and scalar):
            raise DomainError("alert_invalid", f"alert detail {key!r}: ids and figures only "
                              f"(numbers, or text of at most {DETAIL_VALUE_CHARS_MAX} chars)")
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"))
    if len(text) > DETAIL_CHARS_MAX:
        raise DomainError("alert_invalid", f"an alert's detail is at most {DETAIL_CHARS_MAX} "
                          "characters")
    return text


def raise_alert(conn: Connection, *, at_ns: int, kind: str, severity: Severity,
                subject: str, detail: dict[str, Any], dedupe_key: str | None = None,
                actor: str = audit.SYSTEM) -> Alert | None:
    """Store an alert in the caller's transaction, with its audit entry; None when
    ``dedupe_key`` was raised before."""
    if not KIND_PATTERN.match(kind) or not subject.isprintable() \
            or not 0 < len(subject) <= SUBJECT_CHARS_MAX:
        raise DomainError("alert_invalid", f"alert kind {kind!r} or its subject is invalid")
    body = check_detail(detail)
    made = Alert(ID_PREFIX + secrets.token_hex(12), kind, Severity(severity), subject,
                 json.loads(body), at_ns, None, None)
    if dedupe_key is not None and conn.execute(select(staff_alerts.c.id).where(
            staff_alerts.c.dedupe_key == dedupe_key)).first() is not None:
        return None
    try:
        with conn.begin_nested():  # another process raised it meanwhile: theirs stands
            conn.execute(insert(staff_alerts).values(
                id=made.id, kind=kind, severity=str(made.severity), subject=subject,
                detail=body, dedupe_key=dedupe_key, created_at=at_ns))
    except IntegrityError:
        return None
    audit.record(conn, at_ns=at_ns, actor=actor, action="alert.raise", object_id=made.id,
                 detail={"kind": kind, "severity": str(made.severity)})
    return made


def _from_row(r: Any) -> Alert:
    return Alert(r["id"], r["kind"], Severity(r["severity"]), r["subject"],
                 json.loads(r["detail"]), r["created_at"], r["acknowledged_by"],
                 r["acknowledged_at"])


class Alerts:
    def __init__(self, database: Database, *, clock: Clock, mailer: Mailer | None = None
                 ) -> None:
        self._database = database
        self._clock = clock
        self._mailer = mailer

    def raise_(self, *, kind: str, severity: Severity, subject: str, detail: dict[str, Any],
               dedupe_key: str | None = None, actor: str = audit.SYSTEM) -> Alert | None:
        with self._database.engine.begin() as conn:
            made = raise_alert(conn, at_ns=self._clock.now_ns(), kind=kind, severity=severity,
                               subject=subject, detail=detail, dedupe_key=dedupe_key,
                               actor=actor)
        if made is not None:
            self.mail(made)
        return made

    def mail(self, alert: Alert) -> None:
        """E-mail a committed alert, if a mailer is set; a failure is logged, not raised."""
        if self._mailer is None:
            return
        try:
            self._mailer(alert)
        except OSError as exc:  # smtplib's errors are OSErrors: the stored alert stands
            log.warning("alerts.mail_failed", alert=alert.id, error=type(exc).__name__)

    def page(self, *, actor: str, limit: int = PAGE_SIZE_MAX, before: str | None = None,
             open_only: bool = False) -> tuple[list[Alert], str | None]:
        """Newest first; ``before`` is the cursor of the last one seen. Audited: who read."""
        limit = max(1, min(limit, PAGE_SIZE_MAX))
        query = select(staff_alerts)
        if before is not None:
            found = CURSOR_PATTERN.match(before) if isinstance(before, str) else None
            if found is None:
                raise DomainError("cursor_invalid", "the cursor names no alert")
            at, last = int(found[1]), found[2]
            query = query.where(or_(staff_alerts.c.created_at < at, and_(
                staff_alerts.c.created_at == at, staff_alerts.c.id < last)))
        if open_only:
            query = query.where(staff_alerts.c.acknowledged_at.is_(None))
        query = query.order_by(staff_alerts.c.created_at.desc(), staff_alerts.c.id.desc())
        with self._database.engine.begin() as conn:
            rows = conn.execute(query.limit(limit + 1)).mappings().all()
            audit.record(conn, at_ns=self._clock.now_ns(), actor=actor, action="alert.list",
                         object_id="staff_alerts",
                         detail={"count": min(len(rows), limit), "open_only": open_only})
        page = [_from_row(r) for r in rows[:limit]]
        return page, (page[-1].cursor if len(rows) > limit else None)

    def acknowledge(self, alert_id: str, *, actor: str) -> Alert:
        """Acknowledged once: a second time is ``alert_already_acknowledged``."""
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            row = conn.execute(select(staff_alerts).where(staff_alerts.c.id == alert_id)
                               ).mappings().first()
            if row is None:
                raise DomainError("not_found", "no such alert")
            changed = conn.execute(update(staff_alerts).where(
                staff_alerts.c.id == alert_id, staff_alerts.c.acknowledged_at.is_(None),
            ).values(acknowledged_by=actor[:128], acknowledged_at=now)).rowcount
            if changed != 1:
                raise DomainError("alert_already_acknowledged",
                                  f"alert {alert_id} was acknowledged already")
            audit.record(conn, at_ns=now, actor=actor, action="alert.acknowledge",
                         object_id=alert_id, detail={"kind": row["kind"]})
        return Alert(**{**_from_row(row).__dict__, "acknowledged_by": actor[:128],
                        "acknowledged_at_ns": now})


def smtp_mailer(send: Callable[[str, str, str], None], *, to: str) -> Mailer:
    """A mailer over ``send(to, subject, body)`` (bootstrap wires the SMTP adapter in)."""
    def mail(alert: Alert) -> None:
        body = (f"{alert.severity.upper()}: {alert.subject}\n\nkind: {alert.kind}\n"
                f"alert: {alert.id}\ndetail: {json.dumps(alert.detail, sort_keys=True)}\n\n"
                "Acknowledge it in the back office or with POST "
                f"/v1/staff/alerts/{alert.id}/acknowledge.\n")
        send(to, f"PayWarden alert: {alert.subject}", body)
    return mail

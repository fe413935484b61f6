"""Insider analytics: count what each member of staff does, and alert supervisors when it
is unusual for that person (domain/insider.py; decision 0046).

``observe`` runs in the transaction of the action it counts, so a count and its action
commit together. The alerts it raises are staff alerts (services/alerts.py): supervisors
read them, and they are e-mailed when SMTP is set. Each is raised once per person and
hour (a burst), day (out of hours) or customer (a linked account).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..adapters.clock import Clock
from ..adapters.store.schema import sign_in_origins, staff_activity
from ..domain.insider import HOUR_NS, Activity, WorkingHours, hour_of, is_burst, usual_hour
from .alerts import Alert, Severity, raise_alert

log = structlog.get_logger(__name__)

HISTORY_HOURS = 14 * 24  # the baseline: the person's last two weeks
KEEP_HOURS = HISTORY_HOURS + 24


class Insider:
    def __init__(self, *, clock: Clock, hours: WorkingHours) -> None:
        self._clock = clock
        self.hours = hours

    def observe(self, conn: Connection, *, actor: str, activity: Activity,
                subject: str | None = None, count: int = 1) -> list[Alert]:
        """Count ``activity`` by ``actor`` (a person: ``usr_…`` or ``cli:…``) now, on
        ``subject`` (a customer's ``usr_…``) if any; the alerts this raised."""
        now = self._clock.now_ns()
        hour = hour_of(now)
        this_hour = _bump(conn, actor, activity, hour, count)
        raised: list[Alert | None] = []
        if activity is not Activity.WRITE:
            history = _history(conn, actor, activity, hour)
            if is_burst(activity, this_hour, history):
                raised.append(raise_alert(
                    conn, at_ns=now, kind=f"insider.{activity}_burst", severity=Severity.WARNING,
                    subject=f"{actor[:64]}: {this_hour} {activity}s this hour",
                    detail={"staff": actor[:64], "count": this_hour,
                            "usual_hour_x100": round(usual_hour(history) * 100)},
                    dedupe_key=f"insider.{activity}_burst:{actor}:{hour}"))
        if activity in (Activity.WRITE, Activity.REVEAL) and self.hours.outside(now):
            day = datetime.fromtimestamp(now / 1e9, tz=UTC).date().isoformat()
            raised.append(raise_alert(
                conn, at_ns=now, kind="insider.out_of_hours", severity=Severity.WARNING,
                subject=f"{actor[:64]}: a {activity} outside working hours",
                detail={"staff": actor[:64], "activity": str(activity), "day": day},
                dedupe_key=f"insider.out_of_hours:{actor}:{day}"))
        if subject is not None and actor.startswith("usr_"):
            shared = _shared_origins(conn, actor, subject)
            if shared:
                raised.append(raise_alert(
                    conn, at_ns=now, kind="insider.linked_account", severity=Severity.CRITICAL,
                    subject=f"{actor[:64]} acted on a customer sharing their "
                            f"{' and '.join(shared)}",
                    detail={"staff": actor[:64], "customer": subject[:64],
                            "shared": ",".join(shared)},
                    dedupe_key=f"insider.linked_account:{actor}:{subject}"))
        made = [a for a in raised if a is not None]
        for alert in made:
            log.warning("insider_alert", kind=alert.kind, staff=actor)
        return made


def _bump(conn: Connection, actor: str, activity: Activity, hour: int, n: int) -> int:
    """Add ``n`` to the hour's count and return it: update, else insert."""
    key = (staff_activity.c.actor == actor[:128], staff_activity.c.kind == str(activity),
           staff_activity.c.hour == hour)
    bump = update(staff_activity).where(*key).values(count=staff_activity.c.count + n)
    if conn.execute(bump).rowcount != 1:
        try:
            with conn.begin_nested():
                conn.execute(insert(staff_activity).values(
                    actor=actor[:128], kind=str(activity), hour=hour, count=n))
            conn.execute(delete(staff_activity).where(
                staff_activity.c.actor == actor[:128],
                staff_activity.c.hour < hour - KEEP_HOURS * HOUR_NS))
        except IntegrityError:  # another transaction made the row first
            conn.execute(bump)
    return int(conn.execute(select(staff_activity.c.count).where(*key)).scalar_one())


def _history(conn: Connection, actor: str, activity: Activity, hour: int) -> list[int]:
    rows: Iterable[Any] = conn.execute(select(staff_activity.c.count).where(
        staff_activity.c.actor == actor[:128], staff_activity.c.kind == str(activity),
        staff_activity.c.hour >= hour - HISTORY_HOURS * HOUR_NS,
        staff_activity.c.hour < hour))
    return [int(r[0]) for r in rows]


def _shared_origins(conn: Connection, staff_id: str, customer_id: str) -> list[str]:
    """The kinds of sign-in origin (device, address) the two users share."""
    mine = select(sign_in_origins.c.kind, sign_in_origins.c.digest).where(
        sign_in_origins.c.user_id == staff_id)
    theirs = {(r.kind, r.digest) for r in conn.execute(
        select(sign_in_origins.c.kind, sign_in_origins.c.digest).where(
            sign_in_origins.c.user_id == customer_id))}
    return sorted({kind for kind, digest in conn.execute(mine) if (kind, digest) in theirs})

"""The back office's figures: per hour, what went through; now, what is waiting.

Every figure is an aggregate (counts and sums), never a row, so any member of staff may
read them. Each comes from one grouped query over an index range (decision 0050):

=================  ==================================  ====================================
figure             rows read                           index
=================  ==================================  ====================================
payment volume     payments created in the window      ``ix_payments_created`` (0027)
payment events     outbox events of the four types     ``ix_webhook_events_type_created``
risk decisions     decisions made in the window        ``ix_risk_decisions_at``
ledger throughput  transfers committed in the window   the primary key (``timestamp``)
queue depths       at most ``QUEUE_COUNT_MAX`` each    per queue, see :func:`_queues`
=================  ==================================  ====================================

Payment events are counted from the webhook outbox: every payment transition writes its
event there in the transition's own transaction (services/payments/notices.py), so the
outbox is an exact, never-pruned stream of transitions. A pay refused by risk makes no
transition; it is counted from ``risk_decisions`` (operation ``payment.pay``).

Rates per hour: declines / (pays + refused pays), disputes / pays, refunds / pays — the
events of the same hour, so a dispute opened today about last week's payment counts today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select

from ..adapters.clock import Clock
from ..adapters.store import Database
from ..adapters.store.schema import (
    approvals,
    payments,
    risk_case_outcomes,
    risk_decisions,
    staff_alerts,
    transfers,
    webhook_events,
)
from ..domain.errors import DomainError

HOUR_NS = 3_600 * 1_000_000_000
HOURS_MAX = 168  # a week of hourly buckets: the widest window one request reads
HOURS_DEFAULT = 24
QUEUE_COUNT_MAX = 10_000  # a queue deeper than this is shown as "at least" this
DECISIONS = ("allow", "step_up", "review", "decline")
PAY, DECLINE, DISPUTE = "payment.pay", "payment.review_decline", "payment.open_dispute"
REFUNDS = ("payment.refund", "payment.auto_refund")
EVENT_TYPES = (PAY, DECLINE, DISPUTE, *REFUNDS)
QUEUES = ("pending_approvals", "open_risk_cases", "webhooks_waiting", "parked_payments",
          "open_alerts")


@dataclass
class Volume:
    count: int = 0
    amount_minor: int = 0


@dataclass
class Hour:
    """One hour's figures, from ``start_ns`` (inclusive) for an hour."""

    start_ns: int
    volume: dict[str, Volume] = field(default_factory=dict)  # currency → paid payments
    pays: int = 0
    pays_refused: int = 0  # by risk, before any transition
    declines: int = 0  # refused by risk, or declined by an analyst after review
    disputes: int = 0
    refunds: int = 0
    decisions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DECISIONS, 0))
    transfers: int = 0

    @property
    def decline_rate(self) -> float | None:
        attempts = self.pays + self.pays_refused
        return self.declines / attempts if attempts else None

    @property
    def dispute_rate(self) -> float | None:
        return self.disputes / self.pays if self.pays else None

    @property
    def refund_rate(self) -> float | None:
        return self.refunds / self.pays if self.pays else None


@dataclass(frozen=True)
class Queue:
    name: str
    depth: int
    at_least: bool  # the count stopped at QUEUE_COUNT_MAX


@dataclass(frozen=True)
class Snapshot:
    at_ns: int
    hours: list[Hour]
    queues: list[Queue]

    def as_json(self) -> dict[str, Any]:
        return {
            "at_ns": self.at_ns,
            "hours": [{
                "start_ns": h.start_ns,
                "volume": {c: {"count": v.count, "amount_minor": v.amount_minor}
                           for c, v in sorted(h.volume.items())},
                "pays": h.pays, "pays_refused": h.pays_refused, "declines": h.declines,
                "disputes": h.disputes, "refunds": h.refunds,
                "decline_rate": h.decline_rate, "dispute_rate": h.dispute_rate,
                "refund_rate": h.refund_rate, "risk_decisions": dict(h.decisions),
                "transfers": h.transfers,
            } for h in self.hours],
            "queues": {q.name: {"depth": q.depth, "at_least": q.at_least}
                       for q in self.queues},
        }


def check_hours(hours: int) -> int:
    if not isinstance(hours, int) or not 1 <= hours <= HOURS_MAX:
        raise DomainError("dashboard_window_invalid",
                          f"hours {hours!r} is not between 1 and {HOURS_MAX}")
    return hours


class Dashboard:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def snapshot(self, *, hours: int = HOURS_DEFAULT) -> Snapshot:
        """The last ``hours`` hourly buckets (the current hour last) and the queues now."""
        check_hours(hours)
        now = self._clock.now_ns()
        start = (now // HOUR_NS - hours + 1) * HOUR_NS
        by_start = {start + i * HOUR_NS: Hour(start + i * HOUR_NS) for i in range(hours)}
        with self._database.engine.connect() as conn:
            _volume(conn, start, by_start)
            _events(conn, start, by_start)
            _decisions(conn, start, by_start)
            _transfers(conn, start, by_start)
            queues = _queues(conn)
        return Snapshot(now, list(by_start.values()), queues)


def _bucket(column: ColumnElement[int], start: int) -> ColumnElement[int]:
    """The hour a timestamp falls in, as its start in ns (integer division on both
    databases: the operands are integers)."""
    return ((column - start) // HOUR_NS).label("bucket")


def _rows(conn: Connection, query: Any, start: int) -> Iterable[Any]:
    for row in conn.execute(query):
        yield start + int(row.bucket) * HOUR_NS, row


def _volume(conn: Connection, start: int, hours: dict[int, Hour]) -> None:
    bucket = _bucket(payments.c.created_at, start)
    query = (select(bucket, payments.c.currency, func.count().label("n"),
                    func.sum(payments.c.amount).label("amount"))
             .where(payments.c.created_at >= start, payments.c.method.is_not(None))
             .group_by(bucket, payments.c.currency))
    for at, row in _rows(conn, query, start):
        if at in hours:
            hours[at].volume[row.currency] = Volume(int(row.n), int(row.amount))


def _events(conn: Connection, start: int, hours: dict[int, Hour]) -> None:
    bucket = _bucket(webhook_events.c.created_at, start)
    query = (select(bucket, webhook_events.c.type, func.count().label("n"))
             .where(webhook_events.c.type.in_(EVENT_TYPES),
                    webhook_events.c.created_at >= start)
             .group_by(bucket, webhook_events.c.type))
    for at, row in _rows(conn, query, start):
        hour = hours.get(at)
        if hour is None:
            continue
        n = int(row.n)
        if row.type == PAY:
            hour.pays += n
        elif row.type == DECLINE:
            hour.declines += n
        elif row.type == DISPUTE:
            hour.disputes += n
        else:
            hour.refunds += n


def _decisions(conn: Connection, start: int, hours: dict[int, Hour]) -> None:
    bucket = _bucket(risk_decisions.c.at, start)
    refused_pay = and_(risk_decisions.c.operation == "payment.pay",
                       risk_decisions.c.decision == "decline")
    pays = func.count().filter(refused_pay).label("refused_pays")
    query = (select(bucket, risk_decisions.c.decision, func.count().label("n"), pays)
             .where(risk_decisions.c.at >= start)
             .group_by(bucket, risk_decisions.c.decision))
    for at, row in _rows(conn, query, start):
        hour = hours.get(at)
        if hour is None:
            continue
        hour.decisions[row.decision] = hour.decisions.get(row.decision, 0) + int(row.n)
        hour.pays_refused += int(row.refused_pays)
        hour.declines += int(row.refused_pays)


def _transfers(conn: Connection, start: int, hours: dict[int, Hour]) -> None:
    bucket = _bucket(transfers.c.timestamp, start)
    query = (select(bucket, func.count().label("n")).where(transfers.c.timestamp >= start)
             .group_by(bucket))
    for at, row in _rows(conn, query, start):
        if at in hours:
            hours[at].transfers = int(row.n)


def _count(conn: Connection, name: str, query: Any) -> Queue:
    """At most QUEUE_COUNT_MAX rows are read: the subquery stops there."""
    inner = query.limit(QUEUE_COUNT_MAX).subquery()
    depth = int(conn.execute(select(func.count()).select_from(inner)).scalar_one())
    return Queue(name, depth, depth >= QUEUE_COUNT_MAX)


def _queues(conn: Connection) -> list[Queue]:
    open_case = ~select(risk_case_outcomes.c.decision_id).where(
        risk_case_outcomes.c.decision_id == risk_decisions.c.id).exists()  # as Cases.queue
    return [
        _count(conn, "pending_approvals",  # ix_approvals_state
               select(approvals.c.id).where(approvals.c.state == "pending")),
        _count(conn, "open_risk_cases",  # ix_risk_decisions_review, then one PK probe each
               select(risk_decisions.c.id).where(risk_decisions.c.decision == "review",
                                                 open_case)),
        _count(conn, "webhooks_waiting",  # ix_webhook_events_due
               select(webhook_events.c.id).where(webhook_events.c.state == "pending")),
        _count(conn, "parked_payments",  # ix_payments_parked_at
               select(payments.c.id).where(payments.c.parked_at.is_not(None))),
        _count(conn, "open_alerts",  # a scan of the alerts: deduped, so few
               select(staff_alerts.c.id).where(staff_alerts.c.acknowledged_at.is_(None))),
    ]

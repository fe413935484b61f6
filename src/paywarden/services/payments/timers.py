"""Payment timers that never stall: which are due, and what a refused one does.

A timer event (session expiry, automatic refund, automatic release) can be refused:
a release to a suspended merchant waits for staff. Skipping it without moving its
timer would keep it at the head of the due queue for ever, and a batch of such
payments would hide every timer behind them. So a refused timer *parks* its payment:

    parked_reason   the refusal's code, for staff (GET /v1/payments/parked,
                    ``paywarden payments parked``)
    timer_attempts  refusals in a row
    timer_at        moved to now + a back-off that doubles from TIMER_BACKOFF_S_BASE
                    up to TIMER_BACKOFF_S_MAX, when the event is tried again

Parking is audited (``payment.parked``) when a payment becomes parked or its reason
changes. Any transition that later succeeds (the timer's own, or staff's) unparks it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, tuple_, update

from ...adapters.store.schema import payments
from ...domain.errors import DomainError
from .. import audit
from ..ledger.posting import Ledger

TIMER_BATCH_SIZE_MAX = 100  # due payments read at once
TIMER_BATCHES_PER_RUN_MAX = 5  # then the next run goes on (other chores share the thread)
TIMER_BACKOFF_S_BASE = 60
TIMER_BACKOFF_S_MAX = 6 * 3_600
PARKED_PAGE_SIZE_MAX = 500
NS = 1_000_000_000


@dataclass(frozen=True)
class ParkedPayment:
    id: str
    merchant_id: str
    state: str
    amount_minor: int
    currency: str
    reason: str
    parked_at_ns: int
    attempts: int
    retry_at_ns: int


def backoff_ns(attempts: int) -> int:
    """How long after its ``attempts``-th refusal in a row a timer is tried again."""
    exponent = min(max(attempts - 1, 0), 32)  # 2**32 minutes is far past the cap already
    backoff_s: int = min(TIMER_BACKOFF_S_BASE << exponent, TIMER_BACKOFF_S_MAX)
    return backoff_s * NS


def due_ids(conn: Connection, now_ns: int, limit: int) -> list[str]:
    return list(conn.execute(select(payments.c.id).where(payments.c.timer_at <= now_ns)
                             .order_by(payments.c.timer_at, payments.c.id).limit(limit))
                .scalars().all())


def park(conn: Connection, payment_id: str, *, version: int, reason: str,
         now_ns: int) -> bool:
    """Park the payment as read at ``version``, its timer still due; False if it has moved
    on since (another process fired or parked it meanwhile)."""
    Ledger(conn)  # lock order of every payment change: ledger_state → payment → audit_head
    still_due = (payments.c.id == payment_id, payments.c.version == version,
                 payments.c.timer_at <= now_ns)
    row = conn.execute(select(payments.c.parked_reason, payments.c.parked_at,
                              payments.c.timer_attempts).where(*still_due)).first()
    if row is None:
        return False
    attempts = row.timer_attempts + 1
    retry_at = now_ns + backoff_ns(attempts)
    conn.execute(update(payments).where(*still_due).values(
        parked_reason=reason[:64], parked_at=row.parked_at or now_ns, timer_attempts=attempts,
        timer_at=retry_at))
    if row.parked_reason != reason:
        audit.record(conn, at_ns=now_ns, actor=audit.SYSTEM, action="payment.parked",
                     object_id=payment_id, outcome="refused",
                     detail={"reason": reason[:64], "attempts": attempts,
                             "retry_at": retry_at, "version": version})
    return True


def list_parked(conn: Connection, *, limit: int,
                after: tuple[int, str] | None = None) -> list[ParkedPayment]:
    """Parked payments, longest parked first; ``after`` is the last (parked_at, id) seen."""
    if not 1 <= limit <= PARKED_PAGE_SIZE_MAX:
        raise DomainError("limit_invalid", f"limit {limit} is not 1 to {PARKED_PAGE_SIZE_MAX}")
    query = select(payments.c.id, payments.c.merchant_id, payments.c.state, payments.c.amount,
                   payments.c.currency, payments.c.parked_reason, payments.c.parked_at,
                   payments.c.timer_attempts, payments.c.timer_at).where(
        payments.c.parked_at.is_not(None))
    if after is not None:
        query = query.where(tuple_(payments.c.parked_at, payments.c.id) > tuple_(*after))
    rows = conn.execute(query.order_by(payments.c.parked_at, payments.c.id).limit(limit)).all()
    return [ParkedPayment(r.id, r.merchant_id, r.state, r.amount, r.currency, r.parked_reason,
                          r.parked_at, r.timer_attempts, r.timer_at) for r in rows]

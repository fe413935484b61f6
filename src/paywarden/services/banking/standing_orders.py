"""Standing orders and scheduled transfers, run by the maintenance loop.

An order pays a payee from one of the customer's accounts once on a date, or weekly or
monthly up to an end date (:mod:`.schedules`). It is made with a passkey step-up over
the operation ``standing_order`` (amount, currency, payee = the payee's IBAN, reference =
the schedule in words, :func:`.schedules.words`), consumed in the transaction that
stores the order; its occurrences then run without one, through the same checks as any
transfer (:mod:`.transfers`: the payee's cooling-off and the limits).

Each occurrence is exactly once: its movement's id is derived from the order's id and
the occurrence's date, and recording the occurrence and moving the order on are the
movement's ``finish``, in the money's transaction. A rerun, a second process or a crash
between the two finds the movement and is answered with it, never paying twice.

An occurrence refused for a reason of the customer's (:data:`FAILURES`: funds, a frozen
account, a limit, a cooling payee, the hook declined) is recorded with that reason and
the order moves on, visible; a closed source account ends the order. Any other error
(the write path stopped) leaves the occurrence due for the next pass.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import standing_order_runs, standing_orders
from ...domain.errors import DomainError
from ...domain.money import Money
from .. import audit
from ..identity.stepup import StepUp
from .accounts import get_account, owned_account
from .confirm import Expected, confirm
from .movements import MovementResult
from .payees import live_payee
from .schedules import Frequency, check, next_on, words
from .transfers import Order, Transfers

REFERENCE_CHARS_MAX = 70  # the schedule in words must fit a step-up's 140
ORDERS_MAX = 100  # live orders per customer
RUNS_SHOWN_MAX = 24  # an order's latest occurrences in its answer
RUNS_LISTED_MAX = 3  # each order's latest occurrences in the list of orders
PASS_ORDERS_MAX = 100  # orders read per query of a pass
PASS_OCCURRENCES_MAX = 1_000  # occurrences one chore pass runs, then the next pass
FAILURES = frozenset({"insufficient_funds", "account_frozen", "limit_per_transfer_exceeded",
                      "limit_per_day_exceeded", "limit_per_payee_exceeded",
                      "payee_cooling_off", "movement_declined", "payee_account_unknown",
                      "currency_mismatch", "ledger_refused"})
ENDINGS = frozenset({"account_closed", "not_found"})  # the account or payee is gone


@dataclass(frozen=True)
class StandingOrder:
    id: str  # sto_…
    user_id: str
    from_account: str
    payee_id: str
    payee_iban: str
    amount: Money
    reference: str
    frequency: Frequency
    start_on: date
    end_on: date
    next_index: int
    next_on: date | None
    state: str  # active | ended | cancelled
    reason: str | None
    created_at_ns: int

    @property
    def schedule(self) -> str:
        return words(self.frequency, self.start_on, self.end_on, self.reference)


@dataclass(frozen=True)
class Run:
    on_date: date
    movement_id: str
    state: str  # the movement's state when it ran, or failed
    reason: str | None


def occurrence_id(order_id: str, on: date) -> str:
    """The movement id of an order's occurrence on ``on``: the same on every rerun."""
    return "so_" + hashlib.sha256(f"{order_id}|{on.isoformat()}".encode()).hexdigest()[:40]


def _from_row(row: Any) -> StandingOrder:
    r = row._mapping
    return StandingOrder(
        r["id"], r["user_id"], r["from_account"], r["payee_id"], r["payee_iban"],
        Money(r["amount"], r["currency"]), r["reference"], Frequency(r["frequency"]),
        date.fromisoformat(r["start_on"]), date.fromisoformat(r["end_on"]), r["next_index"],
        None if r["next_on"] is None else date.fromisoformat(r["next_on"]), r["state"],
        r["reason"], r["created_at"])


def check_reference(reference: str) -> str:
    if not isinstance(reference, str) or len(reference) > REFERENCE_CHARS_MAX or (
            reference and not reference.isprintable()):
        raise DomainError("reference_invalid", f"a standing order's reference is at most "
                          f"{REFERENCE_CHARS_MAX} printable characters")
    return " ".join(reference.split())


class StandingOrders:
    def __init__(self, database: Database, *, clock: Clock, transfers: Transfers,
                 step_up: StepUp) -> None:
        self._database = database
        self._clock = clock
        self._transfers = transfers
        self._step_up = step_up

    def today(self) -> date:
        return datetime.fromtimestamp(self._clock.now_ns() / 1e9, UTC).date()

    def plan(self, user_id: str, *, from_account: str, payee_id: str, amount: Money,
             reference: str, frequency: Frequency, start_on: date,
             end_on: date) -> StandingOrder:
        """The order as it would be made (checked, not stored): its ``schedule`` is the
        step-up's reference."""
        frequency = Frequency(frequency)
        reference = check_reference(reference)
        check(start_on, end_on, frequency, today=self.today())
        with self._database.engine.connect() as conn:
            account = owned_account(conn, user_id, from_account)
            payee = live_payee(conn, user_id, payee_id)
        if account.currency != amount.currency:
            raise DomainError("currency_mismatch", f"the account holds {account.currency}, "
                              f"not {amount.currency}")
        if amount.amount_minor <= 0:
            raise DomainError("money_amount_invalid", "an amount moved is more than zero")
        return StandingOrder("sto_" + secrets.token_hex(12), user_id, account.id, payee.id,
                             payee.iban, amount, reference, frequency, start_on, end_on, 0,
                             start_on, "active", None, self._clock.now_ns())

    def create(self, plan: StandingOrder, *, evidence_id: str, actor: str) -> StandingOrder:
        """Store ``plan``, confirmed by a ``standing_order`` step-up over it."""
        now = self._clock.now_ns()
        o = plan
        with self._database.engine.begin() as conn:
            live_payee(conn, o.user_id, o.payee_id)
            live = conn.execute(select(standing_orders.c.id).where(
                standing_orders.c.user_id == o.user_id, standing_orders.c.state == "active")
                .limit(ORDERS_MAX)).all()
            if len(live) >= ORDERS_MAX:
                raise DomainError("standing_orders_too_many", f"at most {ORDERS_MAX} standing "
                                  "orders; cancel one you no longer need")
            confirm(conn, self._step_up, o.user_id, evidence_id, Expected(
                "standing_order", o.amount.amount_minor, o.amount.currency, o.payee_iban,
                o.schedule))
            conn.execute(insert(standing_orders).values(
                id=o.id, user_id=o.user_id, from_account=o.from_account, payee_id=o.payee_id,
                payee_iban=o.payee_iban, amount=o.amount.amount_minor,
                currency=o.amount.currency, reference=o.reference, frequency=str(o.frequency),
                start_on=o.start_on.isoformat(), end_on=o.end_on.isoformat(), next_index=0,
                next_on=o.start_on.isoformat(), state="active", reason=None,
                evidence_id=evidence_id, created_at=now, updated_at=now))
            audit.record(conn, at_ns=now, actor=actor, action="standing_order.create",
                         object_id=o.id, detail={"user": o.user_id, "schedule": o.schedule,
                                                 "amount": o.amount.amount_minor,
                                                 "currency": o.amount.currency})
        return o

    def list_for(self, user_id: str) -> list[tuple[StandingOrder, list[Run]]]:
        """The user's orders, newest first, each with its latest ``RUNS_LISTED_MAX``
        occurrences (newest first): what the portal lists, in two queries."""
        with self._database.engine.connect() as conn:
            orders = [_from_row(r) for r in conn.execute(select(standing_orders).where(
                standing_orders.c.user_id == user_id)
                .order_by(standing_orders.c.created_at.desc(), standing_orders.c.id)
                .limit(ORDERS_MAX * 2))]
            runs: dict[str, list[Run]] = {o.id: [] for o in orders}
            if orders:
                r = standing_order_runs
                rank = func.row_number().over(partition_by=r.c.order_id,
                                              order_by=r.c.on_date.desc()).label("rank")
                latest = select(r, rank).where(r.c.order_id.in_(list(runs))).subquery()
                for row in conn.execute(select(latest).where(latest.c.rank <= RUNS_LISTED_MAX)
                                        .order_by(latest.c.order_id, latest.c.on_date.desc())):
                    runs[row.order_id].append(Run(date.fromisoformat(row.on_date),
                                                  row.movement_id, row.state, row.reason))
        return [(o, runs[o.id]) for o in orders]

    def get_for(self, user_id: str, order_id: str) -> tuple[StandingOrder, list[Run]]:
        """The order and its latest occurrences, newest first; another's is not found."""
        with self._database.engine.connect() as conn:
            order = _owned(conn, user_id, order_id)
            rows = conn.execute(select(standing_order_runs).where(
                standing_order_runs.c.order_id == order.id)
                .order_by(standing_order_runs.c.on_date.desc()).limit(RUNS_SHOWN_MAX))
            runs = [Run(date.fromisoformat(r.on_date), r.movement_id, r.state, r.reason)
                    for r in rows]
        return order, runs

    def cancel(self, user_id: str, order_id: str, *, actor: str) -> StandingOrder:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            order = _owned(conn, user_id, order_id)
            if order.state == "active":
                conn.execute(update(standing_orders).where(
                    standing_orders.c.id == order.id, standing_orders.c.state == "active",
                ).values(state="cancelled", reason="cancelled", next_on=None, updated_at=now))
                audit.record(conn, at_ns=now, actor=actor, action="standing_order.cancel",
                             object_id=order.id, detail={"user": user_id})
            return _owned(conn, user_id, order_id)

    # -- the maintenance chore ------------------------------------------------------------

    def run_due(self) -> int:
        """Run every occurrence due today or earlier; the number run (paid or failed)."""
        today = self.today().isoformat()
        done = 0
        while done < PASS_OCCURRENCES_MAX:
            with self._database.engine.connect() as conn:
                due = [_from_row(r) for r in conn.execute(select(standing_orders).where(
                    standing_orders.c.state == "active", standing_orders.c.next_on <= today)
                    .order_by(standing_orders.c.next_on, standing_orders.c.id)
                    .limit(PASS_ORDERS_MAX))]
            if not due:
                break
            for order in due:
                self._run_one(order)
                done += 1
        return done

    def _run_one(self, order: StandingOrder) -> None:
        on, index = order.next_on, order.next_index
        if on is None:
            return
        mid = occurrence_id(order.id, on)

        def finish(conn: Connection, result: MovementResult) -> None:
            _advance(conn, order, on, index, mid, str(result.state), None,
                     now_ns=self._clock.now_ns())

        with self._database.engine.connect() as conn:
            account = get_account(conn, order.from_account)
        try:
            if account is None or account.state == "closed":
                raise DomainError("account_closed", "the account is closed")
            self._transfers.send(Order(order.user_id, mid, order.from_account, order.payee_id,
                                       order.amount, order.reference or "standing order"),
                                 evidence_id=None, finish=finish, actor="standing_order")
        except DomainError as exc:
            if exc.code not in FAILURES | ENDINGS:
                raise
            with self._database.engine.begin() as conn:
                _advance(conn, order, on, index, mid, "failed", exc.code,
                         now_ns=self._clock.now_ns(), end=exc.code in ENDINGS)


def _owned(conn: Connection, user_id: str, order_id: str) -> StandingOrder:
    row = conn.execute(select(standing_orders).where(standing_orders.c.id == order_id)).first()\
        if isinstance(order_id, str) else None
    if row is None or row._mapping["user_id"] != user_id:
        raise DomainError("not_found", "no such standing order")
    return _from_row(row)


def _advance(conn: Connection, order: StandingOrder, on: date, index: int, movement_id: str,
             state: str, reason: str | None, *, now_ns: int, end: bool = False) -> None:
    """Record occurrence ``index`` (once) and move the order on to the next, or end it."""
    if conn.execute(select(standing_order_runs.c.order_id).where(
            standing_order_runs.c.order_id == order.id,
            standing_order_runs.c.on_date == on.isoformat())).first() is None:
        conn.execute(insert(standing_order_runs).values(
            order_id=order.id, on_date=on.isoformat(), movement_id=movement_id, state=state,
            reason=reason, created_at=now_ns))
    following = None if end else next_on(order.start_on, order.end_on, order.frequency,
                                         index + 1)
    conn.execute(update(standing_orders).where(
        standing_orders.c.id == order.id, standing_orders.c.next_index == index,
        standing_orders.c.state == "active",
    ).values(next_index=index + 1, next_on=None if following is None else following.isoformat(),
             state="active" if following is not None else "ended",
             reason=None if following is not None else (reason if end else "completed"),
             updated_at=now_ns))

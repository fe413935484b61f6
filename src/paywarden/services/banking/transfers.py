"""Transfers to other parties: to a payee, at this bank or another, within the limits.

A transfer names one of the customer's accounts and one of their payees. In the
movement's transaction (:meth:`Movements.execute`'s ``precondition``, on the write path,
after the id and the account states are checked) it:

1. consumes the step-up evidence over exactly this operation (``transfer``: amount,
   currency, payee = the payee's IBAN, reference = the reference) — standing orders
   skip this, their step-up was given when they were made;
2. checks the payee is still the customer's and not deleted, and, while it cools off,
   that it would not receive more than the cooling amount in all;
3. checks and counts the limits (:func:`.limits.check_and_count`);

and only then the money moves: to a PayWarden IBAN an ``internal`` movement to that
account, posted at once; to another bank an ``external`` one, pending until the rail
answers. Any refusal undoes all of it: nothing moves and the evidence stays unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select, tuple_

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import bank_transfers
from ...domain.errors import DomainError
from ...domain.money import Money
from ..identity.stepup import StepUp
from .accounts import BankAccount, accounts_of, by_iban, owned_account
from .confirm import Expected, confirm
from .limits import BankMaxima, check_and_count, used
from .movements import (
    Finish,
    Movement,
    MovementKind,
    MovementResult,
    Movements,
    Request,
)
from .payees import Payee, Payees, live_payee


@dataclass(frozen=True)
class Order:
    """One transfer to a payee, as the customer (or their standing order) asks it."""

    user_id: str
    movement_id: str
    from_account: str
    payee_id: str
    amount: Money
    reference: str


class Transfers:
    def __init__(self, database: Database, *, clock: Clock, movements: Movements,
                 payees: Payees, step_up: StepUp, maxima: BankMaxima) -> None:
        self._database = database
        self._clock = clock
        self._movements = movements
        self._step_up = step_up
        self.payees = payees
        self.maxima = maxima

    def send(self, order: Order, *, evidence_id: str | None, finish: Finish | None = None,
             actor: str | None = None) -> MovementResult:
        """Run ``order`` once (see the module's docstring). ``evidence_id`` None is for
        standing orders only, whose step-up was consumed when they were made."""
        done = self._movements.execute_many([self._request(order, evidence_id, finish,
                                                           actor)])[0]
        if isinstance(done, DomainError):
            raise done
        return done

    def send_many(self, orders: Sequence[Order], *, actor: str | None = None
                  ) -> list[MovementResult | DomainError]:
        """Each order as :meth:`send` without evidence (a payment file's, whose step-up
        covered the file), in order, its answer or its refusal; written together
        (:meth:`Movements.execute_many`)."""
        requests: list[Request | DomainError] = []
        for order in orders:
            try:
                requests.append(self._request(order, None, None, actor))
            except DomainError as refused:
                requests.append(refused)
        done = iter(self._movements.execute_many(
            [r for r in requests if isinstance(r, Request)]))
        return [r if isinstance(r, DomainError) else next(done) for r in requests]

    def _request(self, order: Order, evidence_id: str | None, finish: Finish | None,
                 actor: str | None) -> Request:
        with self._database.engine.connect() as conn:
            source = owned_account(conn, order.user_id, order.from_account)
            payee = live_payee(conn, order.user_id, order.payee_id)
            movement = self._movement(conn, order, source, payee)

        def checked(conn: Connection) -> None:
            if evidence_id is not None:
                confirm(conn, self._step_up, order.user_id, evidence_id, Expected(
                    "transfer", order.amount.amount_minor, order.amount.currency, payee.iban,
                    order.reference))
            self._check(conn, order, movement)

        return Request(movement, checked, finish, stepped_up=True, actor=actor)

    def history(self, user_id: str, *, limit: int, before: tuple[int, str] | None
                ) -> tuple[list[Any], set[str]]:
        """Movements into or out of the user's accounts, newest first, before the cursor
        ``(created_at, id)``; and the user's account ids (to tell in from out)."""
        t = bank_transfers
        with self._database.reading() as conn:  # a replica's, when fresh enough
            mine = {a.id for a in accounts_of(conn, user_id)}
            where = [or_(t.c.from_account.in_(mine), t.c.to_account.in_(mine))]
            if before is not None:
                where.append(tuple_(t.c.created_at, t.c.id) < tuple_(*before))
            rows = conn.execute(select(t).where(and_(*where)).order_by(
                t.c.created_at.desc(), t.c.id.desc()).limit(limit)).mappings().all()
        return list(rows), mine

    def _movement(self, conn: Connection, order: Order, source: BankAccount,
                  payee: Payee) -> Movement:
        target = None
        if self.payees.bank.owns(payee.iban):
            target = by_iban(conn, payee.iban)
            if target is None:
                raise DomainError("payee_account_unknown",
                                  "no account at PayWarden has this payee's IBAN")
        return Movement(
            order.movement_id, MovementKind.INTERNAL if target else MovementKind.EXTERNAL,
            order.user_id, source.id, None if target is None else target.id, order.amount,
            order.reference, counterparty_iban=payee.iban, counterparty_name=payee.name)

    def _check(self, conn: Connection, order: Order, movement: Movement) -> None:
        now = self._clock.now_ns()
        payee = live_payee(conn, order.user_id, order.payee_id)  # not deleted meanwhile
        amount, currency = order.amount.amount_minor, order.amount.currency
        if now < payee.cooling_until_ns and used(
                conn, order.user_id, currency, since_ns=payee.created_at_ns - 1,
                iban=payee.iban) + amount > self.payees.cooling_amount_max:
            raise DomainError("payee_cooling_off", "a new payee receives at most "
                              f"{self.payees.cooling_amount_max} minor units until its "
                              "cooling-off period ends")
        check_and_count(conn, user_id=order.user_id, movement_id=movement.id, amount=amount,
                        currency=currency, iban=payee.iban, now_ns=now, maxima=self.maxima)


"""A payment's changes as units of the group commit (:mod:`..writepath`).

The service prepares a unit on the caller's thread from the payment as it read it: the
escrow machine's decision, the money legs, the sealed new state, the audit entry. Inside
the batch a unit checks, in this order: the identity its sender chose (a refund's
refund_id, a checkout's order_ref — a retry is answered with the first result before
anything else is looked at); that the payment is still at the version it read (else
:class:`Stale`, and the service prepares it again); what must be consumed (step-up
evidence). Then it posts its legs and queues its rows, and once its audit entry has an
index, hands its result to ``finish`` (the API's answer under its Idempotency-Key),
inside the same transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.store.ledger_writer import Read
from ...adapters.store.schema import checkout_sessions, payment_refunds, payments
from ...domain.audit.leaves import Event
from ...domain.errors import DomainError, InvariantViolation
from ...domain.ledger import Transfer
from ...domain.money import Money
from ..certification.selling import check_can_sell, standing_read, stopped_from
from ..ledger.engine import NewAccount
from ..writepath.batch import Batch
from . import checkouts, refunds
from .checkouts import Checkout
from .refunds import RefundRecord

if TYPE_CHECKING:
    from ..writepath import Recording
    from .service import Notify, PaymentView

T = TypeVar("T")
# Called last inside the change's transaction with its result: whatever it writes
# commits with the change or not at all (the API records its answer there).
Finish = Callable[[Connection, T], None]


class Stale(DomainError):
    """The payment changed between the read and the batch: prepare the unit again."""

    def __init__(self, payment_id: str) -> None:
        super().__init__("payment_changed", f"payment {payment_id} changed meanwhile")


@dataclass(frozen=True)
class RefundDone:
    payment: PaymentView
    refund: RefundRecord
    created: bool  # False: the refund_id was already used, with the same amount


_COMMON = ("state", "version", "escrow", "timer_at", "updated_at", "buyer_id",
           "parked_reason", "parked_at", "timer_attempts")
_PAID = (*_COMMON, "method", "funding")


def _update(columns: Sequence[str]) -> Any:
    return update(payments).where(
        payments.c.id == bindparam("pid"), payments.c.version == bindparam("read_version")
    ).values({c: bindparam(c) for c in columns})


UPDATE = _update(_COMMON)
UPDATE_PAID = _update(_PAID)
INSERT_SESSION = insert(checkout_sessions)
INSERT_PAYMENT = insert(payments)
INSERT_REFUND = insert(payment_refunds)
_STORED = select(payments.c.id, payments.c.version, payments.c.parked_reason).where(
    payments.c.id.in_(bindparam("ids", expanding=True)))
_STORED_SQL = "SELECT id, version, parked_reason FROM payments WHERE id "


def stored_read(ids: list[str], *, postgres: bool) -> Read:
    """Driver SQL and parameters reading the version and parked reason of ``ids``."""
    if postgres:
        return _STORED_SQL + "= ANY(%s)", (ids,)
    return _STORED_SQL + f"IN ({','.join('?' * len(ids))})", tuple(ids)


def _stored(batch: Batch) -> dict[str, tuple[int, str | None]]:
    """Version and parked reason of every payment the batch's transitions touch: one read,
    made with the ledger's (``TransitionUnit.prefetch``)."""
    found: dict[str, tuple[int, str | None]] | None = batch.cache.get("payments")
    if found is None:
        rows = batch.reads.get("payments")
        if rows is None:
            ids = [u.payment_id for u in batch.units if isinstance(u, TransitionUnit)]
            rows = list(batch.conn.execute(_STORED, {"ids": ids}))
        found = {r[0]: (r[1], r[2]) for r in rows}
        batch.cache["payments"] = found
    return found


def _once_per_batch(batch: Batch, merchant_id: str,
                    may_receive: Callable[[Connection, str], None]) -> None:
    """May ``merchant_id`` receive money? Asked once per batch, the answer shared (read up
    front for every receiver, see ``TransitionUnit.prefetch``)."""
    answers: dict[str, DomainError | None] | None = batch.cache.get("may_receive")
    if answers is None:
        rows = batch.reads.get("receivers")
        answers = batch.cache["may_receive"] = {} if rows is None else stopped_from(rows)
        if rows is not None:  # read for every receiver: a merchant with no row has none
            answers.update({m: None for m in _receivers(batch.units) if m not in answers})
    if merchant_id not in answers:
        try:
            may_receive(batch.conn, merchant_id)
            answers[merchant_id] = None
        except DomainError as refusal:
            answers[merchant_id] = refusal
    stopped = answers[merchant_id]
    if stopped is not None:
        raise DomainError(stopped.code, stopped.detail)


def may_receive(conn: Connection, merchant_id: str) -> None:
    """A suspended or revoked merchant receives no release: the money stays in escrow
    until staff refund it or the merchant is reinstated."""
    try:
        check_can_sell(conn, merchant_id)
    except DomainError as exc:
        if exc.code in ("merchant_suspended", "merchant_revoked"):
            raise
        # not (or no longer) certified: a sale it made while certified is still paid out


def _receivers(units: Sequence[Any]) -> list[str]:
    return sorted({u.receiver for u in units if isinstance(u, TransitionUnit)
                   and u.receiver is not None and u.may_receive is may_receive})


@dataclass
class TransitionUnit:
    payment_id: str
    read_version: int
    values: dict[str, Any]  # the payment row's new columns (UPDATE or UPDATE_PAID)
    chain: Sequence[Transfer]
    accounts: Sequence[NewAccount]
    event: Event  # the audit entry
    view: PaymentView
    event_name: str
    notify: Notify | None
    webhook: dict[str, Any] = field(default_factory=dict)  # its outbox row, but the index
    precondition: Callable[[Connection], None] | None = None
    receiver: str | None = None  # a merchant that receives money: may it still?
    may_receive: Callable[[Connection, str], None] | None = None
    finish: Finish[Any] | None = None
    refund: tuple[str, Money] | None = None  # (refund_id, amount) of a refund
    load: Callable[[Connection, str], PaymentView | None] | None = None  # for a replay
    refusal: DomainError | None = None  # the machine refused it: unless it is a replay
    record: Recording | None = None  # the screening's decision, committed with the change
    _result: Any = field(default=None, init=False)

    @property
    def savepoint(self) -> bool:
        return self.precondition is not None

    @staticmethod
    def prefetch(units: Sequence[TransitionUnit], *, postgres: bool) -> dict[str, Read]:
        """Read with the ledger (on PostgreSQL in its round trip): ``_stored``, and the
        standing of every merchant that receives money, ``_once_per_batch``."""
        reads: dict[str, Read] = {"payments": stored_read([u.payment_id for u in units],
                                                           postgres=postgres)}
        receivers = _receivers(units)
        if receivers:
            reads["receivers"] = standing_read(receivers, postgres=postgres)
        return reads

    def run(self, batch: Batch) -> None:
        if self.refund is not None and self._replayed(batch):
            if self.record is not None:
                self.record.write(batch)  # a racing copy's screening: decided all the same
            return
        version, parked = _stored(batch).get(self.payment_id, (None, None))
        if version != self.read_version:
            raise Stale(self.payment_id)
        if self.refusal is not None:
            raise self.refusal
        if self.precondition is not None:
            self.precondition(batch.conn)
        if self.receiver is not None and self.may_receive is not None:
            _once_per_batch(batch, self.receiver, self.may_receive)
        batch.post(self.chain)
        paid = "method" in self.values
        batch.later(UPDATE_PAID if paid else UPDATE,
                    {**self.values, "pid": self.payment_id, "read_version": self.read_version},
                    counted=True)
        _stored(batch)[self.payment_id] = (int(self.values["version"]), None)
        if self.record is not None:
            self.record.write(batch)
        record = None
        if self.refund is not None:
            record = self._record_refund(batch)
        event = self.event
        if parked is not None:
            event = dataclasses.replace(event, detail={**(event.detail or {}),
                                                       "unparked": parked})
        batch.audit(event, self._then(batch, record))

    def _replayed(self, batch: Batch) -> bool:
        """A refund whose refund_id this payment has seen: the first one is the answer."""
        refund_id, amount = self.refund  # type: ignore[misc]
        first = refunds.find(batch.conn, self.payment_id, refund_id)
        if first is None:
            return False
        refunds.check_same(first, amount)
        view = self.load(batch.conn, self.payment_id) if self.load is not None else None
        if view is None:
            raise InvariantViolation(f"refund {refund_id} of a missing {self.payment_id}")
        self._result = RefundDone(view, first, created=False)
        if self.finish is not None:
            self.finish(batch.conn, self._result)
        return True

    def _record_refund(self, batch: Batch) -> RefundRecord:
        refund_id, amount = self.refund  # type: ignore[misc]
        record = RefundRecord(self.payment_id, refund_id, amount, int(self.values["version"]),
                              self.event.at_ns)
        batch.later(INSERT_REFUND, refunds.row(record, actor=self.event.actor))
        return record

    def _then(self, batch: Batch, record: RefundRecord | None) -> Callable[[int], None]:
        def then(index: int) -> None:
            self.view = self.view.indexed(index)
            if self.notify is not None:
                self.notify(batch.later, self.view, self.event_name, self.event.at_ns,
                            bool(self.chain), self.webhook)
            self._result = (self.view if record is None
                            else RefundDone(self.view, record, created=True))
            if self.finish is not None:
                self.finish(batch.conn, self._result)
        return then

    def result(self) -> Any:
        return self._result


@dataclass
class CheckoutUnit:
    made: Checkout
    payment: dict[str, Any]  # the payments row
    event: Event
    finish: Finish[Checkout] | None = None
    chain: Sequence[Transfer] = ()
    accounts: Sequence[NewAccount] = ()
    savepoint: bool = False

    def run(self, batch: Batch) -> None:
        made = self.made
        order = (made.merchant_id, made.order_ref)
        orders: dict[tuple[str, str], Checkout] | None = batch.cache.get("orders")
        if orders is None:
            rows = batch.reads.get("orders")
            orders = batch.cache["orders"] = {} if rows is None else checkouts.by_orders(rows)
        first = orders.get(order) or (None if "orders" in batch.reads
                                      else checkouts.by_order(batch.conn, *order))
        if first is not None:
            checkouts.check_same_order(first, made)
            self.made = dataclasses.replace(first, created=False)
            if self.finish is not None:
                self.finish(batch.conn, self.made)
            return
        orders[order] = made
        batch.later(INSERT_SESSION, made.row(self.event.at_ns))
        batch.later(INSERT_PAYMENT, self.payment)
        batch.audit(self.event, self._then(batch))

    @staticmethod
    def prefetch(units: Sequence[CheckoutUnit], *, postgres: bool) -> dict[str, Read]:
        """Every order the batch's checkouts name, read with the ledger's."""
        return {"orders": checkouts.orders_read(
            [(u.made.merchant_id, u.made.order_ref) for u in units], postgres=postgres)}

    def _then(self, batch: Batch) -> Callable[[int], None]:
        def then(_: int) -> None:
            if self.finish is not None:
                self.finish(batch.conn, self.made)
        return then

    def result(self) -> Checkout:
        return self.made

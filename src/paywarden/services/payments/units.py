"""A payment's changes as units of the group commit (:mod:`..writepath`).

The service prepares a unit on the caller's thread from the payment as it read it: the
escrow machine's decision, the money legs, the sealed new state, the audit entry. Inside
the batch the unit only checks that the payment is still at the version it read (else
:class:`Stale`, and the service prepares again), consumes what must be consumed, posts
its legs, and queues its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.store.schema import checkout_sessions, payments
from ...domain.audit.leaves import Event
from ...domain.errors import DomainError
from ...domain.ledger import Transfer
from ..ledger.engine import NewAccount
from ..writepath.batch import Batch

if TYPE_CHECKING:
    from .service import Notify, PaymentView


class Stale(DomainError):
    """The payment changed between the read and the batch: prepare the unit again."""

    def __init__(self, payment_id: str) -> None:
        super().__init__("payment_changed", f"payment {payment_id} changed meanwhile")


_COMMON = ("state", "version", "escrow", "timer_at", "updated_at", "buyer_id")
_PAID = (*_COMMON, "method", "funding")


def _update(columns: Sequence[str]) -> Any:
    return update(payments).where(
        payments.c.id == bindparam("pid"), payments.c.version == bindparam("read_version")
    ).values({c: bindparam(c) for c in columns})


UPDATE = _update(_COMMON)
UPDATE_PAID = _update(_PAID)
INSERT_SESSION = insert(checkout_sessions)
INSERT_PAYMENT = insert(payments)
_VERSIONS = select(payments.c.id, payments.c.version).where(
    payments.c.id.in_(bindparam("ids", expanding=True)))


def _versions(batch: Batch) -> dict[str, int]:
    """The stored version of every payment the batch's transitions touch: one read."""
    found: dict[str, int] | None = batch.cache.get("payment_versions")
    if found is None:
        ids = [u.payment_id for u in batch.units if isinstance(u, TransitionUnit)]
        found = {row.id: row.version for row in batch.conn.execute(_VERSIONS, {"ids": ids})}
        batch.cache["payment_versions"] = found
    return found


def _once_per_batch(batch: Batch, merchant_id: str,
                    may_receive: Callable[[Connection, str], None]) -> None:
    """May ``merchant_id`` receive money? Asked once per batch, the answer shared."""
    answers: dict[str, DomainError | None] = batch.cache.setdefault("may_receive", {})
    if merchant_id not in answers:
        try:
            may_receive(batch.conn, merchant_id)
            answers[merchant_id] = None
        except DomainError as refusal:
            answers[merchant_id] = refusal
    refusal = answers[merchant_id]
    if refusal is not None:
        raise DomainError(refusal.code, refusal.detail)


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
    precondition: Callable[[Connection], None] | None = None
    receiver: str | None = None  # a merchant that receives money: may it still?
    may_receive: Callable[[Connection, str], None] | None = None
    index: int | None = field(default=None, init=False)

    @property
    def savepoint(self) -> bool:
        return self.precondition is not None

    def run(self, batch: Batch) -> None:
        versions = _versions(batch)
        if versions.get(self.payment_id) != self.read_version:
            raise Stale(self.payment_id)
        if self.precondition is not None:
            self.precondition(batch.conn)
        if self.receiver is not None and self.may_receive is not None:
            _once_per_batch(batch, self.receiver, self.may_receive)
        batch.post(self.chain)
        paid = "method" in self.values
        batch.later(UPDATE_PAID if paid else UPDATE,
                    {**self.values, "pid": self.payment_id, "read_version": self.read_version},
                    counted=True)
        versions[self.payment_id] = int(self.values["version"])
        batch.audit(self.event, self._then(batch))

    def _then(self, batch: Batch) -> Callable[[int], None]:
        def then(index: int) -> None:
            self.index = index
            self.view = self.view.indexed(index)
            if self.notify is not None:
                self.notify(batch.later, self.view, self.event_name, self.event.at_ns,
                            bool(self.chain))
        return then

    def result(self) -> PaymentView:
        return self.view


@dataclass
class CheckoutUnit:
    session: dict[str, Any]  # the checkout_sessions row
    payment: dict[str, Any]  # the payments row
    event: Event
    chain: Sequence[Transfer] = ()
    accounts: Sequence[NewAccount] = ()
    savepoint: bool = False

    def run(self, batch: Batch) -> None:
        batch.later(INSERT_SESSION, self.session)
        batch.later(INSERT_PAYMENT, self.payment)
        batch.audit(self.event)

    def result(self) -> None:
        return None

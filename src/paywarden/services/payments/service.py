"""Escrow payments: each transition commits its linked ledger transfers, the payment's new
state, its audit entry, its webhook and receipts together — or none of them.

A transition is prepared on the caller's thread, with no lock held: read the payment,
check who sends the event, ask the escrow machine (domain/escrow) for the next state and
the money legs, seal the new state. The prepared unit then joins a group commit
(:mod:`..writepath`, decision 0017), where under the ledger lock it checks the payment is
still at the version it read (else it is prepared again), consumes the buyer's step-up
evidence, posts its legs as one linked chain, and queues its rows; the batch commits once.
Two transitions of one payment therefore apply one after the other, each against the
state the other left. Who may send which event is checked here: the machine knows
states, not people.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, bindparam, select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import checkout_sessions, payments
from ...domain.errors import DomainError
from ...domain.escrow import (
    AnswerDispute,
    AutoRefund,
    AutoRelease,
    Cancel,
    ConfirmReceipt,
    DecideDispute,
    Escrow,
    EscrowTerms,
    Event,
    Expire,
    FeeSchedule,
    Leg,
    OpenDispute,
    Pay,
    Refund,
    Role,
    Ship,
    due,
    new_escrow,
    transition,
)
from ...domain.ledger import Transfer, TransferFlags
from ...domain.money import Money
from .. import audit
from ..keys import Keys, register_sealed_column
from ..ledger import LedgerEngine
from ..writepath import GroupWriter
from . import codec
from .accounts import AccountRef, new_account, platform_account
from .notices import Later, notifier
from .recent import RecentPayments
from .units import CheckoutUnit, Stale, TransitionUnit

SEALED = register_sealed_column("payments", "escrow")
SENDERS: dict[type, frozenset[str]] = {
    Pay: frozenset({"buyer"}), Cancel: frozenset({"buyer", "merchant", "staff"}),
    Ship: frozenset({"merchant"}), ConfirmReceipt: frozenset({"buyer"}),
    OpenDispute: frozenset({"buyer"}), AnswerDispute: frozenset({"merchant"}),
    DecideDispute: frozenset({"staff"}), Refund: frozenset({"merchant", "staff"}),
    Expire: frozenset({"system"}), AutoRefund: frozenset({"system"}),
    AutoRelease: frozenset({"system"}),
}
TRANSFER_CODE = 20  # ledger transfer code of payment movements
STALE_RETRIES_MAX = 8  # a payment changed between read and batch: prepare again, this often
log = structlog.get_logger(__name__)
Notify = Callable[[Later, "PaymentView", str, int, bool], None]


@dataclass(frozen=True)
class Party:
    """Who sends an event: buyer (usr_…), merchant (mer_…), staff or system (an actor)."""

    role: str
    id: str

    @property
    def actor(self) -> str:
        return self.id


@dataclass(frozen=True)
class PaymentView:
    id: str
    merchant_id: str
    buyer_id: str | None
    method: str | None
    escrow: Escrow
    audit_index: int | None = None
    funding: str | None = None  # the buyer_funding account, kind:owner, once paid

    def indexed(self, audit_index: int) -> PaymentView:
        return dataclasses.replace(self, audit_index=audit_index)

    def public(self) -> dict[str, Any]:
        e = self.escrow
        return {**codec.public_state(e), "id": self.id, "merchant_id": self.merchant_id,
                "buyer_id": self.buyer_id, "method": self.method,
                "ship_by": e.ship_by_ns, "release_at": e.release_at_ns,
                "expires_at": e.expires_at_ns,
                "shipment": {"carrier": e.shipment.carrier} if e.shipment else None,
                "dispute": {"status": str(e.dispute.status), "reason": str(e.dispute.reason)}
                if e.dispute else None}


@dataclass(frozen=True)
class Checkout:
    id: str
    payment_id: str
    merchant_id: str
    order_ref: str
    items: list[dict[str, Any]]
    amount: Money
    return_url: str
    expires_at_ns: int


class Payments:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, engine: LedgerEngine,
                 fee: FeeSchedule, session_ttl_s: int, notify: Notify | None = None,
                 writer: GroupWriter | None = None) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._engine = engine
        self._fee = fee
        self._session_ttl_ns = session_ttl_s * 1_000_000_000
        self.notify = notify or notifier(keys)  # webhooks, receipts: in the same transaction
        self.writer = writer or GroupWriter(database, clock=clock)
        self._recent = RecentPayments()

    def start(self) -> None:
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()

    # -- checkout -----------------------------------------------------------------------

    def create_checkout(self, *, merchant_id: str, order_ref: str, items: list[dict[str, Any]],
                        amount: Money, return_url: str, terms: EscrowTerms,
                        actor: str) -> Checkout:
        now = self._clock.now_ns()
        session_id, payment_id = "cs_" + secrets.token_hex(12), "pay_" + secrets.token_hex(12)
        escrow = new_escrow(payment_id, amount, terms, self._fee, now_ns=now,
                            expires_at_ns=now + self._session_ttl_ns)
        self.writer.execute(CheckoutUnit(
            session={"id": session_id, "merchant_id": merchant_id, "order_ref": order_ref,
                     "items": json.dumps(items, separators=(",", ":")),
                     "amount": amount.amount_minor, "currency": amount.currency,
                     "return_url": return_url, "days_to_ship": terms.days_to_ship,
                     "release_after_days": terms.release_after_days, "payment_id": payment_id,
                     "created_at": now, "expires_at": escrow.expires_at_ns},
            payment={"id": payment_id, "checkout_session_id": session_id,
                     "merchant_id": merchant_id, "state": str(escrow.state),
                     "version": escrow.version, "amount": amount.amount_minor,
                     "currency": amount.currency, "escrow": self._seal(payment_id, escrow),
                     "timer_at": _timer_at(escrow), "created_at": now, "updated_at": now},
            event=audit.entry(at_ns=now, actor=actor, action="checkout.create",
                              object_id=payment_id, detail={"session": session_id},
                              after=codec.public_state(escrow))))
        self._recent.put(PaymentView(payment_id, merchant_id, None, None, escrow))
        return Checkout(session_id, payment_id, merchant_id, order_ref, items, amount,
                        return_url, escrow.expires_at_ns)

    def checkout(self, session_id: str) -> Checkout | None:
        with self._database.engine.connect() as conn:
            row = conn.execute(select(checkout_sessions).where(
                checkout_sessions.c.id == session_id)).mappings().first()
        if row is None:
            return None
        return Checkout(row["id"], row["payment_id"], row["merchant_id"], row["order_ref"],
                        json.loads(row["items"]), Money(row["amount"], row["currency"]),
                        row["return_url"], row["expires_at"])

    # -- reading ------------------------------------------------------------------------

    def get(self, payment_id: str) -> PaymentView | None:
        with self._database.engine.connect() as conn:
            return self._load(conn, payment_id)

    def _load(self, conn: Connection, payment_id: str) -> PaymentView | None:
        row = conn.execute(_BY_ID, {"id": payment_id}).mappings().first()
        if row is None:
            return None
        escrow = codec.loads(self._keys.open(row["escrow"], table="payments", column="escrow",
                                             row_id=payment_id))
        return PaymentView(payment_id, row["merchant_id"], row["buyer_id"], row["method"], escrow,
                           funding=row["funding"])

    # -- transitions --------------------------------------------------------------------

    def apply(self, payment_id: str, event: Event, *, party: Party,
              funding: AccountRef | None = None, method: str | None = None,
              precondition: Callable[[Connection], None] | None = None) -> PaymentView:
        """Apply ``event``; ``precondition`` runs in the batch first (e.g. consuming the
        buyer's step-up evidence, so it is used only if the payment happens)."""
        if party.role not in SENDERS[type(event)]:
            raise DomainError("payment_sender_not_allowed",
                              f"a {party.role} cannot {event.name} a payment")
        fresh = False
        for _ in range(STALE_RETRIES_MAX):
            before = None if fresh else self._recent.get(payment_id)
            remembered = before is not None
            before = before or self.get(payment_id)
            if before is None:
                raise DomainError("not_found", f"no payment {payment_id}")
            try:
                unit = self._prepare(before, event, party, funding, method, precondition)
            except DomainError:
                if not remembered:
                    raise
                fresh = True  # decided on this process's copy: ask the database
                continue
            try:
                view: PaymentView = self.writer.execute(unit)
            except Stale:
                self._recent.forget(payment_id)
                fresh = True
                continue
            self._recent.put(view)
            return view
        raise DomainError("payment_busy", f"payment {payment_id} kept changing; retry")

    def _prepare(self, before: PaymentView, event: Event, party: Party,
                 funding: AccountRef | None, method: str | None,
                 precondition: Callable[[Connection], None] | None) -> TransitionUnit:
        """Everything a transition needs decided, from the payment ``before`` it."""
        payment_id = before.id
        self._check_party(before, party, event)
        refs = self._accounts(before, funding)
        now = self._clock.now_ns()
        outcome = transition(before.escrow, event, now_ns=now)
        after = outcome.escrow
        chain = self._chain(payment_id, after.version, outcome.legs, refs)
        paid = isinstance(event, Pay)
        buyer = party.id if paid else before.buyer_id
        values: dict[str, Any] = {
            "state": str(after.state), "version": after.version,
            "escrow": self._seal(payment_id, after), "timer_at": _timer_at(after),
            "updated_at": now, "buyer_id": buyer}
        if paid:
            values |= {"method": method, "funding": _funding_of(refs[Role.BUYER_FUNDING])}
        used = {t.debit_account_id for t in chain} | {t.credit_account_id for t in chain}
        receives = any(leg.to_role is Role.MERCHANT for leg in outcome.legs)
        return TransitionUnit(
            payment_id=payment_id, read_version=before.escrow.version, values=values,
            chain=chain, accounts=[new_account(r) for r in refs.values() if r.id in used],
            event=audit.entry(at_ns=now, actor=party.actor, action=f"payment.{event.name}",
                              object_id=payment_id,
                              detail={"version": after.version, "legs": len(outcome.legs)},
                              before=codec.public_state(before.escrow),
                              after=codec.public_state(after)),
            view=PaymentView(payment_id, before.merchant_id, buyer,
                             method if paid else before.method, after),
            event_name=event.name, notify=self.notify, precondition=precondition,
            receiver=before.merchant_id if receives else None, may_receive=_may_receive)

    def run_due(self, *, limit: int = 100) -> int:
        """Apply the timer events that are due (expiry, automatic refund and release)."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            ids = conn.execute(select(payments.c.id).where(
                payments.c.timer_at <= now).order_by(payments.c.timer_at).limit(limit)
            ).scalars().all()
        done = 0
        for payment_id in ids:
            view = self.get(payment_id)
            event = due(view.escrow, now) if view else None
            if event is None:
                continue
            try:
                self.apply(payment_id, event, party=Party("system", audit.SYSTEM))
            except DomainError as exc:  # e.g. a release to a suspended merchant waits for staff
                log.warning("payment.timer_refused", payment=payment_id, code=exc.code)
                continue
            done += 1
        return done

    # -- helpers ------------------------------------------------------------------------

    def _check_party(self, payment: PaymentView, party: Party, event: Event) -> None:
        if party.role == "merchant" and party.id != payment.merchant_id:
            raise DomainError("not_found", f"no payment {payment.id}")
        if party.role == "buyer" and not isinstance(event, Pay) and party.id != payment.buyer_id:
            raise DomainError("not_found", f"no payment {payment.id}")

    def _accounts(self, payment: PaymentView, funding: AccountRef | None
                  ) -> dict[Role, AccountRef]:
        cur = payment.escrow.currency
        refs = {Role.ESCROW: platform_account("escrow", cur),
                Role.PLATFORM_FEE: platform_account("fee_income", cur),
                Role.MERCHANT: AccountRef("merchant", payment.merchant_id, cur)}
        if funding is None and payment.funding:
            kind, owner = payment.funding.split(":", 1)
            funding = AccountRef(kind, owner, cur)
        if funding is not None:
            refs[Role.BUYER_FUNDING] = funding
        return refs

    def _chain(self, payment_id: str, version: int, legs: Sequence[Leg],
               refs: dict[Role, AccountRef]) -> list[Transfer]:
        """The legs as one linked chain, ids fixed by the payment's version (a retried
        transition meets its own ids)."""
        if not legs:
            return []
        try:
            chain = [Transfer(f"{payment_id}.{version}.{i}", refs[leg.from_role].id,
                              refs[leg.to_role].id, leg.amount.amount_minor,
                              refs[leg.to_role].ledger, TRANSFER_CODE,
                              int(TransferFlags.LINKED) if i < len(legs) - 1 else 0)
                     for i, leg in enumerate(legs)]
        except KeyError:
            raise DomainError("payment_funding_missing",
                              "the payment has no funding source to move money from") from None
        funding = refs.get(Role.BUYER_FUNDING)
        if funding is not None and funding.kind == "card_issuer":
            grouped = [_authorise_and_capture(t) if t.debit_account_id == funding.id else [t]
                       for t in chain]
            chain = _relink([t for group in grouped for t in group])
        return chain

    def _seal(self, payment_id: str, escrow: Escrow) -> bytes:
        return self._keys.seal(codec.dumps(escrow), table="payments", column="escrow",
                               row_id=payment_id)


_BY_ID = select(payments).where(payments.c.id == bindparam("id"))


def _may_receive(conn: Connection, merchant_id: str) -> None:
    """A suspended or revoked merchant receives no release: the money stays in escrow
    until staff refund it or the merchant is reinstated."""
    from ..certification import check_can_sell

    try:
        check_can_sell(conn, merchant_id)
    except DomainError as exc:
        if exc.code in ("merchant_suspended", "merchant_revoked"):
            raise
        # not (or no longer) certified: a sale it made while certified is still paid out


def _authorise_and_capture(t: Transfer) -> list[Transfer]:
    """A card's money: a pending transfer from the issuer (the authorisation), posted
    in the same chain (the capture)."""
    pending = t._replace(id=t.id + ".auth", flags=int(TransferFlags.PENDING))
    capture = Transfer(t.id, 0, 0, None, 0, 0, int(TransferFlags.POST_PENDING),
                       pending_id=pending.id)
    return [pending, capture]


def _relink(chain: list[Transfer]) -> list[Transfer]:
    last = len(chain) - 1
    return [t._replace(flags=(t.flags | int(TransferFlags.LINKED)) if i < last
                       else t.flags & ~int(TransferFlags.LINKED)) for i, t in enumerate(chain)]


def _timer_at(escrow: Escrow) -> int | None:
    t = escrow.timers
    found = [v for v in (t.expires_at_ns, t.ship_by_ns, t.release_at_ns) if v is not None]
    return min(found) if found else None


def _funding_of(ref: AccountRef) -> str:
    return f"{ref.kind}:{ref.owner}"

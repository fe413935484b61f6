"""Escrow payments: each transition is one transaction holding its linked ledger transfers,
the payment's new state, its audit entry and its webhook — or nothing.

The order of every transition: lock the ledger (which also serialises payment
transitions, so two refunds or releases racing run one after the other), read the
payment, ask the escrow machine (domain/escrow) for the next state and the money
legs, post the legs as one linked chain, store the state under the version it was
read at, audit, enqueue the webhook, hand the result to the caller's ``finish``
(which records the API's answer under its Idempotency-Key), commit. Who may send
which event is checked here: the machine knows states, not people.

Retries are matched by identities the transaction itself checks before anything
else: a checkout session by (merchant, order_ref), a refund by (payment, refund_id).
Timers that are refused park their payment (:mod:`.timers`) instead of stalling.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import checkout_sessions, payments
from ...domain.errors import DomainError, InvariantViolation
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
from ...domain.ledger import Transfer, TransferFlags, TransferResult
from ...domain.money import Money
from .. import audit
from ..keys import Keys, register_sealed_column
from ..ledger import LedgerEngine
from ..ledger.posting import Ledger
from . import accounts, codec, refunds, timers
from .accounts import AccountRef, platform_account
from .notices import notifier
from .refunds import RefundRecord
from .timers import TIMER_BATCH_SIZE_MAX, TIMER_BATCHES_PER_RUN_MAX, ParkedPayment

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
log = structlog.get_logger(__name__)
Notify = Callable[[Connection, "PaymentView", str, int, bool], None]
T = TypeVar("T")
# Called last inside the change's transaction with its result: whatever it writes
# commits with the change or not at all (the API records its answer there).
Finish = Callable[[Connection, T], None]
SYSTEM_PARTY_ROLE = "system"


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
    parked_reason: str | None = None  # why its timer event was refused (staff only)

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
    days_to_ship: int
    release_after_days: int
    created: bool = True  # False: this merchant's order_ref already had this session


@dataclass(frozen=True)
class RefundDone:
    payment: PaymentView
    refund: RefundRecord
    created: bool  # False: the refund_id was already used, with the same amount


class Payments:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, engine: LedgerEngine,
                 fee: FeeSchedule, session_ttl_s: int, notify: Notify | None = None) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._engine = engine
        self._fee = fee
        self._session_ttl_ns = session_ttl_s * 1_000_000_000
        self.notify = notify or notifier(keys)  # webhooks, receipts: in the same transaction

    # -- checkout -----------------------------------------------------------------------

    def create_checkout(self, *, merchant_id: str, order_ref: str, items: list[dict[str, Any]],
                        amount: Money, return_url: str, terms: EscrowTerms, actor: str,
                        finish: Finish[Checkout] | None = None) -> Checkout:
        """A new session for ``order_ref``; or, if the merchant already has one for it with
        the same fields, that one (``created`` False); with other fields, refused (409)."""
        now = self._clock.now_ns()
        session_id, payment_id = "cs_" + secrets.token_hex(12), "pay_" + secrets.token_hex(12)
        escrow = new_escrow(payment_id, amount, terms, self._fee, now_ns=now,
                            expires_at_ns=now + self._session_ttl_ns)
        made = Checkout(session_id, payment_id, merchant_id, order_ref, items, amount,
                        return_url, escrow.expires_at_ns, terms.days_to_ship,
                        terms.release_after_days)
        try:
            return self._new_checkout(made, escrow, actor, now, finish)
        except IntegrityError:
            first = self._same_order(made, finish)
            if first is None:
                raise  # another constraint than the order's: not a retry
            return first

    def _new_checkout(self, made: Checkout, escrow: Escrow, actor: str, now: int,
                      finish: Finish[Checkout] | None) -> Checkout:
        with self._database.engine.begin() as conn:
            # The insert comes first: it takes the write lock, and a racing twin of this
            # order fails here, on the unique (merchant, order_ref) index.
            conn.execute(insert(checkout_sessions).values(
                id=made.id, merchant_id=made.merchant_id, order_ref=made.order_ref,
                items=_items_json(made.items), amount=made.amount.amount_minor,
                currency=made.amount.currency, return_url=made.return_url,
                days_to_ship=made.days_to_ship, release_after_days=made.release_after_days,
                payment_id=made.payment_id, created_at=now, expires_at=made.expires_at_ns))
            conn.execute(insert(payments).values(
                id=made.payment_id, checkout_session_id=made.id, merchant_id=made.merchant_id,
                state=str(escrow.state), version=escrow.version,
                amount=made.amount.amount_minor, currency=made.amount.currency,
                escrow=self._seal(made.payment_id, escrow), timer_at=_timer_at(escrow),
                created_at=now, updated_at=now))
            audit.record(conn, at_ns=now, actor=actor, action="checkout.create",
                         object_id=made.payment_id, detail={"session": made.id},
                         after=codec.public_state(escrow))
            if finish is not None:
                finish(conn, made)
        return made

    def _same_order(self, asked: Checkout, finish: Finish[Checkout] | None) -> Checkout | None:
        """The merchant's session for this order_ref, if the request asks the same of it."""
        with self._database.engine.begin() as conn:
            first = _checkout_of(conn, (checkout_sessions.c.merchant_id == asked.merchant_id,
                                        checkout_sessions.c.order_ref == asked.order_ref))
            if first is None:
                return None
            _check_same_order(first, asked)
            first = replace(first, created=False)
            if finish is not None:
                finish(conn, first)
        return first

    def checkout(self, session_id: str) -> Checkout | None:
        with self._database.engine.connect() as conn:
            return _checkout_of(conn, (checkout_sessions.c.id == session_id,))

    # -- reading ------------------------------------------------------------------------

    def get(self, payment_id: str) -> PaymentView | None:
        with self._database.engine.connect() as conn:
            return self._load(conn, payment_id)

    def _load(self, conn: Connection, payment_id: str) -> PaymentView | None:
        row = conn.execute(select(payments).where(payments.c.id == payment_id)).mappings().first()
        if row is None:
            return None
        escrow = codec.loads(self._keys.open(row["escrow"], table="payments", column="escrow",
                                             row_id=payment_id))
        return PaymentView(payment_id, row["merchant_id"], row["buyer_id"], row["method"], escrow,
                           funding=row["funding"], parked_reason=row["parked_reason"])

    # -- transitions --------------------------------------------------------------------

    def apply(self, payment_id: str, event: Event, *, party: Party,
              funding: AccountRef | None = None, method: str | None = None,
              precondition: Callable[[Connection], None] | None = None,
              finish: Finish[PaymentView] | None = None) -> PaymentView:
        """Apply ``event``; ``precondition`` runs in the transaction first (e.g. consuming
        the buyer's step-up evidence, so it is used only if the payment happens)."""
        if isinstance(event, Refund):
            raise TypeError("a refund is made by Payments.refund, with its refund_id")
        refs = self._prepare(payment_id, event, party, funding)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            ledger = Ledger(conn)  # first: the lock every payment transition queues on
            if precondition is not None:
                precondition(conn)
            view = self._step(conn, ledger, payment_id, event, party, refs, method, now)
            if finish is not None:
                finish(conn, view)
        return view

    def refund(self, payment_id: str, amount: Money, *, refund_id: str, party: Party,
               finish: Finish[RefundDone] | None = None) -> RefundDone:
        """Refund ``amount`` once per ``refund_id`` (see :mod:`.refunds`)."""
        refunds.check_refund_id(refund_id)
        event = Refund(amount)
        refs = self._prepare(payment_id, event, party, None)
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            ledger = Ledger(conn)
            first = refunds.find(conn, payment_id, refund_id)  # the id before any state
            if first is not None:
                view = self._load(conn, payment_id)
                if view is None:
                    raise InvariantViolation(f"refund {refund_id} of a missing {payment_id}")
                done = RefundDone(view, refunds.check_same(first, amount), created=False)
            else:
                view = self._step(conn, ledger, payment_id, event, party, refs, None, now)
                record = refunds.add(conn, payment_id, refund_id, amount,
                                     version=view.escrow.version, actor=party.actor, now_ns=now)
                done = RefundDone(view, record, created=True)
            if finish is not None:
                finish(conn, done)
        return done

    def _prepare(self, payment_id: str, event: Event, party: Party,
                 funding: AccountRef | None) -> dict[Role, AccountRef]:
        """Who may send it, and the accounts it may move money between (created now)."""
        if party.role not in SENDERS[type(event)]:
            raise DomainError("payment_sender_not_allowed",
                              f"a {party.role} cannot {event.name} a payment")
        current = self.get(payment_id)
        if current is None:
            raise DomainError("not_found", f"no payment {payment_id}")
        self._check_party(current, party, event)
        refs = self._accounts(current, funding)
        accounts.ensure(self._engine, list(refs.values()))
        return refs

    def _step(self, conn: Connection, ledger: Ledger, payment_id: str, event: Event,
              party: Party, refs: dict[Role, AccountRef], method: str | None,
              now: int) -> PaymentView:
        """One transition inside the caller's transaction, which holds the ledger lock."""
        before = self._load(conn, payment_id)
        if before is None:
            raise InvariantViolation(f"payment {payment_id} vanished under the ledger lock")
        outcome = transition(before.escrow, event, now_ns=now)
        if any(leg.to_role is Role.MERCHANT for leg in outcome.legs):
            _may_receive(conn, before.merchant_id)
        self._post(ledger, payment_id, outcome.escrow.version, outcome.legs, refs, now,
                   party.actor)
        buyer = party.id if isinstance(event, Pay) else before.buyer_id
        values: dict[str, Any] = {
            "state": str(outcome.escrow.state), "version": outcome.escrow.version,
            "escrow": self._seal(payment_id, outcome.escrow),
            "timer_at": _timer_at(outcome.escrow), "updated_at": now, "buyer_id": buyer,
            "parked_reason": None, "parked_at": None, "timer_attempts": 0}
        if isinstance(event, Pay):
            values |= {"method": method, "funding": _funding_of(refs[Role.BUYER_FUNDING])}
        changed = conn.execute(update(payments).where(
            payments.c.id == payment_id, payments.c.version == before.escrow.version
        ).values(**values)).rowcount
        if changed != 1:  # cannot happen under the ledger lock; refuse rather than guess
            raise DomainError("payment_changed", f"payment {payment_id} changed meanwhile")
        detail: dict[str, Any] = {"version": outcome.escrow.version, "legs": len(outcome.legs)}
        if before.parked_reason is not None:
            detail["unparked"] = before.parked_reason
        index = audit.record(conn, at_ns=now, actor=party.actor, action=f"payment.{event.name}",
                             object_id=payment_id, detail=detail,
                             before=codec.public_state(before.escrow),
                             after=codec.public_state(outcome.escrow))
        view = PaymentView(payment_id, before.merchant_id, buyer,
                           method if isinstance(event, Pay) else before.method,
                           outcome.escrow, index)
        if self.notify is not None:
            self.notify(conn, view, event.name, now, bool(outcome.legs))
        return view

    # -- timers -------------------------------------------------------------------------

    def run_due(self, *, batch_size_max: int = TIMER_BATCH_SIZE_MAX) -> int:
        """Apply the timer events that are due (expiry, automatic refund and release); the
        number applied. A refused one parks its payment and moves its timer back, so the
        due queue always moves on."""
        now = self._clock.now_ns()
        fired = 0
        for _ in range(TIMER_BATCHES_PER_RUN_MAX):
            with self._database.engine.connect() as conn:
                ids = timers.due_ids(conn, now, batch_size_max)
            fired += sum(self._fire(payment_id, now) for payment_id in ids)
            if len(ids) < batch_size_max:
                break
        return fired

    def _fire(self, payment_id: str, now: int) -> bool:
        view = self.get(payment_id)
        if view is None:
            raise InvariantViolation(f"a due timer for a missing payment {payment_id}")
        event = due(view.escrow, now)
        if event is None:
            reason = "timer_out_of_sync"  # parked only if its row still says it is due
        else:
            try:
                self.apply(payment_id, event, party=Party(SYSTEM_PARTY_ROLE, audit.SYSTEM))
                return True
            except InvariantViolation:
                raise
            except DomainError as exc:  # e.g. a release to a suspended merchant
                reason = exc.code
            except Exception as exc:  # one payment's failure must not stop the others
                log.exception("payment.timer_failed", payment=payment_id)
                reason = f"error:{type(exc).__name__}"
        with self._database.engine.begin() as conn:
            parked = timers.park(conn, payment_id, version=view.escrow.version, reason=reason,
                                 now_ns=now)
        if parked:
            log.warning("payment.timer_parked", payment=payment_id, reason=reason)
        return False

    def parked(self, *, limit: int, after: tuple[int, str] | None = None
               ) -> list[ParkedPayment]:
        """Payments whose timer event was refused, longest parked first (for staff)."""
        with self._database.engine.connect() as conn:
            return timers.list_parked(conn, limit=limit, after=after)

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

    def _post(self, ledger: Ledger, payment_id: str, version: int, legs: Sequence[Leg],
              refs: dict[Role, AccountRef], now: int, actor: str) -> None:
        if not legs:
            return
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
            chain = [_authorise_and_capture(t) if t.debit_account_id == funding.id else [t]
                     for t in chain]
            chain = _relink([t for group in chain for t in group])
        results = ledger.post(chain, now_ns=now, actor=actor)
        failed = [r for r in results if r is not TransferResult.OK]
        if failed:
            code = ("insufficient_funds" if TransferResult.EXCEEDS_CREDITS in failed
                    else "ledger_refused")
            raise DomainError(code, f"the ledger refused the payment's movements: "
                              f"{sorted({str(r) for r in failed})}")

    def _seal(self, payment_id: str, escrow: Escrow) -> bytes:
        return self._keys.seal(codec.dumps(escrow), table="payments", column="escrow",
                               row_id=payment_id)


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


def _items_json(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, separators=(",", ":"))


def _checkout_of(conn: Connection, where: tuple[Any, ...]) -> Checkout | None:
    row = conn.execute(select(checkout_sessions).where(*where)).mappings().first()
    if row is None:
        return None
    return Checkout(row["id"], row["payment_id"], row["merchant_id"], row["order_ref"],
                    json.loads(row["items"]), Money(row["amount"], row["currency"]),
                    row["return_url"], row["expires_at"], row["days_to_ship"],
                    row["release_after_days"])


def _check_same_order(first: Checkout, asked: Checkout) -> None:
    """A second create of an order is a retry only if it asks for exactly the same."""
    def fields(c: Checkout) -> tuple[Any, ...]:
        return (_items_json(c.items), c.amount, c.return_url, c.days_to_ship,
                c.release_after_days)

    if fields(first) != fields(asked):
        raise DomainError("checkout_order_ref_reused", f"order_ref {first.order_ref!r} already "
                          f"has checkout session {first.id} with other items, amount, return "
                          "URL or escrow terms; use a new order_ref for another order")


def _timer_at(escrow: Escrow) -> int | None:
    t = escrow.timers
    found = [v for v in (t.expires_at_ns, t.ship_by_ns, t.release_at_ns) if v is not None]
    return min(found) if found else None


def _funding_of(ref: AccountRef) -> str:
    return f"{ref.kind}:{ref.owner}"

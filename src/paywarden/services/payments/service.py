"""Escrow payments: each transition commits its linked ledger transfers, the payment's new
state, its audit entry, its webhook and receipts, and the caller's answer, together — or
none of them.

A transition is prepared on the caller's thread, with no lock held: read the payment
(this process's own copy if it wrote it last, :mod:`.recent`), check who sends the event,
ask the escrow machine (domain/escrow) for the next state and the money legs, seal the
new state. The prepared unit then joins a group commit (:mod:`..writepath`, decision
0017), where under the ledger lock it checks its identity and version, consumes the
buyer's step-up evidence, posts its legs as one linked chain, queues its rows and hands
its result to ``finish`` (which records the API's answer under its Idempotency-Key,
decision 0018); the batch commits once. Two transitions of one payment apply one after
the other, each against the state the other left. Who may send which event is checked
here: the machine knows states, not people.

Retries are matched by identities the transaction itself checks before anything
else: a checkout session by (merchant, order_ref), a refund by (payment, refund_id).
Timers that are refused park their payment (:mod:`.timers`) instead of stalling.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, bindparam, select

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import payments
from ...domain.errors import DomainError, InvariantViolation
from ...domain.escrow import (
    SENDERS,
    DecideDispute,
    Escrow,
    EscrowTerms,
    Event,
    FeeSchedule,
    PartyRole,
    Pay,
    Refund,
    Role,
    due,
    new_escrow,
    transition,
)
from ...domain.ledger.chart import AccountKind
from ...domain.money import Money
from .. import audit
from ..keys import Keys
from ..ledger import LedgerEngine
from ..ledger.accounts import AccountRef, new_account, platform_account
from ..ledger.errors import LedgerServiceError
from ..writepath import GroupWriter, Recording, Records
from . import buyers, checkouts, codec, legs, refunds, sellers, timers
from .checkouts import Checkout
from .notices import Later, notifier, outbox
from .recent import RecentPayments
from .screening import (
    AllowAll,
    Operation,
    PaymentScreening,
    Screen,
    Screened,
    held_for_review,
    refusal,
)
from .timers import TIMER_BATCH_SIZE_MAX, TIMER_BATCHES_PER_RUN_MAX, ParkedPayment
from .units import CheckoutUnit, Finish, RefundDone, Stale, TransitionUnit, may_receive

STALE_RETRIES_MAX = 8  # a payment changed between read and batch: prepare again, this often
log = structlog.get_logger(__name__)
Notify = Callable[[Later, "PaymentView", str, int, bool, dict[str, Any]], None]
__all__ = ["Checkout", "Finish", "Party", "PaymentView", "Payments", "RefundDone"]


@dataclass(frozen=True)
class Party:
    """Who sends an event: buyer (usr_…), merchant (mer_…), staff or system (an actor)."""

    role: PartyRole
    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", PartyRole(self.role))  # "buyer" -> BUYER, or ValueError

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


class Payments:
    def __init__(self, database: Database, *, clock: Clock, keys: Keys, engine: LedgerEngine,
                 fee: FeeSchedule, session_ttl_s: int, notify: Notify | None = None,
                 writer: GroupWriter | None = None,
                 on_fatal: Callable[[str, BaseException], None] | None = None) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._engine = engine
        self._fee = fee
        self._session_ttl_ns = session_ttl_s * 1_000_000_000
        self.notify = notify or notifier(keys)  # webhooks, receipts: in the same transaction
        self.writer = writer or GroupWriter(database, clock=clock, on_fatal=on_fatal)
        self._recent = RecentPayments()
        self.screening: PaymentScreening = AllowAll()  # the risk engine, at bootstrap

    def start(self) -> None:
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()

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
        answer: Checkout = self.writer.execute(CheckoutUnit(
            made=made,
            payment={"id": payment_id, "checkout_session_id": session_id,
                     "merchant_id": merchant_id, "state": str(escrow.state),
                     "version": escrow.version, "amount": amount.amount_minor,
                     "currency": amount.currency, "escrow": self._seal(payment_id, escrow),
                     "timer_at": legs.timer_at(escrow), "created_at": now, "updated_at": now},
            event=audit.entry(at_ns=now, actor=actor, action="checkout.create",
                              object_id=payment_id, detail={"session": session_id},
                              after=codec.public_state(escrow)),
            finish=finish))
        if answer.created:
            self._recent.put(PaymentView(payment_id, merchant_id, None, None, escrow))
        return answer

    def checkout(self, session_id: str) -> Checkout | None:
        with self._database.engine.connect() as conn:
            return checkouts.by_id(conn, session_id)

    # -- reading ------------------------------------------------------------------------

    def get(self, payment_id: str) -> PaymentView | None:
        with self._database.engine.connect() as conn:
            return self._load(conn, payment_id)

    def _load(self, conn: Connection, payment_id: str) -> PaymentView | None:
        row = conn.execute(_BY_ID, {"id": payment_id}).mappings().first()
        return None if row is None else self._view(row)

    def _view(self, row: Any) -> PaymentView:
        escrow = codec.loads(self._keys.open(row["escrow"], table="payments", column="escrow",
                                             row_id=row["id"]))
        return PaymentView(row["id"], row["merchant_id"], row["buyer_id"], row["method"], escrow,
                           funding=row["funding"], parked_reason=row["parked_reason"])

    def for_buyer(self, buyer_id: str, *, limit: int,
                  before: tuple[int, str] | None = None) -> list[PaymentView]:
        """The buyer's payments, newest first, from before ``before`` (created_at, id)."""
        with self._database.engine.connect() as conn:
            return [self._view(row) for row in buyers.page(conn, buyer_id, limit=limit,
                                                           before=before)]

    def for_merchant(self, merchant_id: str, *, limit: int,
                     before: tuple[int, str] | None = None) -> list[PaymentView]:
        """The merchant's paid payments, newest first, from before ``before``."""
        with self._database.engine.connect() as conn:
            return [self._view(row) for row in sellers.page(conn, merchant_id, limit=limit,
                                                            before=before)]

    def disputed(self, *, limit: int) -> list[PaymentView]:
        """Payments in dispute (the staff's queue), longest open first; at most ``limit``
        (≤ ``buyers.PAGE_SIZE_MAX``)."""
        with self._database.engine.connect() as conn:
            return [self._view(row) for row in buyers.disputed(conn, limit=limit)]

    # -- transitions --------------------------------------------------------------------

    def apply(self, payment_id: str, event: Event, *, party: Party,
              funding: AccountRef | None = None, method: str | None = None,
              precondition: Callable[[Connection], None] | None = None,
              finish: Finish[PaymentView] | None = None) -> PaymentView:
        """Apply ``event``; ``precondition`` runs in the batch first (e.g. consuming the
        buyer's step-up evidence, so it is used only if the payment happens)."""
        if isinstance(event, Refund):
            raise TypeError("a refund is made by Payments.refund, with its refund_id")
        view: PaymentView = self._run(payment_id, event, party, funding=funding, method=method,
                                      precondition=precondition, finish=finish)
        return view

    def refund(self, payment_id: str, amount: Money, *, refund_id: str, party: Party,
               finish: Finish[RefundDone] | None = None) -> RefundDone:
        """Refund ``amount`` once per ``refund_id`` (see :mod:`.refunds`)."""
        refunds.check_refund_id(refund_id)
        done: RefundDone = self._run(payment_id, Refund(amount), party, finish=finish,
                                     refund=(refund_id, amount))
        return done

    def _run(self, payment_id: str, event: Event, party: Party, **unit: Any) -> Any:
        """Screen, then prepare and submit until the unit meets the payment as it read it.
        The screening's decision rides in the unit; written alone if the unit never runs."""
        if party.role not in SENDERS[type(event)]:
            raise DomainError("payment_sender_not_allowed",
                              f"a {party.role} cannot {event.name} a payment")
        event, record = self._screen(payment_id, event, party, unit)
        try:
            return self._submit(payment_id, event, party, record, unit)
        except (InvariantViolation, LedgerServiceError):
            raise  # the process stops, or the write path takes no more units
        except Exception:
            self._write_alone(record)  # a screened attempt that did not run is still decided
            raise

    def _submit(self, payment_id: str, event: Event, party: Party, record: Recording | None,
                unit: dict[str, Any]) -> Any:
        fresh = False
        for _ in range(STALE_RETRIES_MAX):
            before = None if fresh else self._recent.get(payment_id)
            remembered = before is not None
            before = before or self.get(payment_id)
            if before is None:
                raise DomainError("not_found", f"no payment {payment_id}")
            try:
                prepared = self._prepare(before, event, party, record=record, **unit)
            except DomainError:
                if not remembered:
                    raise
                fresh = True  # decided on this process's copy: ask the database
                continue
            try:
                result = self.writer.execute(prepared)
            except Stale:
                self._recent.forget(payment_id)
                fresh = True
                continue
            self._recent.put(result.payment if isinstance(result, RefundDone) else result)
            return result
        raise DomainError("payment_busy", f"payment {payment_id} kept changing; retry")

    def _write_alone(self, record: Recording | None) -> None:
        if record is not None:
            self.writer.execute(Records(record.write))

    def _prepare(self, before: PaymentView, event: Event, party: Party, *,
                 funding: AccountRef | None = None, method: str | None = None,
                 precondition: Callable[[Connection], None] | None = None,
                 finish: Finish[Any] | None = None,
                 refund: tuple[str, Money] | None = None,
                 record: Recording | None = None) -> TransitionUnit:
        """Everything a transition needs decided, from the payment ``before`` it."""
        payment_id = before.id
        self._check_party(before, party, event)
        refs = self._accounts(before, funding)
        now = self._clock.now_ns()
        try:
            outcome = transition(before.escrow, event, now_ns=now)
        except DomainError as refusal:
            if refund is None:
                raise
            # A retried refund may find the payment refunded already: its refund_id,
            # checked in the batch before anything else, decides.
            return TransitionUnit(
                payment_id=payment_id, read_version=before.escrow.version, values={},
                chain=[], accounts=[], event=audit.entry(at_ns=now, actor=party.actor,
                                                         action="payment.refund",
                                                         object_id=payment_id),
                view=before, event_name=event.name, notify=None, finish=finish,
                refund=refund, load=self._load, refusal=refusal, record=record)
        after = outcome.escrow
        chain = legs.chain(payment_id, after.version, outcome.legs, refs)
        paid = isinstance(event, Pay)
        buyer = party.id if paid else before.buyer_id
        values: dict[str, Any] = {
            "state": str(after.state), "version": after.version,
            "escrow": self._seal(payment_id, after), "timer_at": legs.timer_at(after),
            "updated_at": now, "buyer_id": buyer,
            "parked_reason": None, "parked_at": None, "timer_attempts": 0}
        if paid:
            values |= {"method": method, "funding": refs[Role.BUYER_FUNDING].name}
        used = {t.debit_account_id for t in chain} | {t.credit_account_id for t in chain}
        receives = any(leg.to_role is Role.MERCHANT for leg in outcome.legs)
        view = PaymentView(payment_id, before.merchant_id, buyer,
                           method if paid else before.method, after)
        return TransitionUnit(
            payment_id=payment_id, read_version=before.escrow.version, values=values,
            chain=chain, accounts=[new_account(r) for r in refs.values() if r.id in used],
            event=audit.entry(at_ns=now, actor=party.actor, action=f"payment.{event.name}",
                              object_id=payment_id,
                              detail={"version": after.version, "legs": len(outcome.legs)},
                              before=codec.public_state(before.escrow),
                              after=codec.public_state(after)),
            view=view, event_name=event.name, notify=self.notify,
            webhook=outbox(view, event.name, now), precondition=precondition,
            receiver=before.merchant_id if receives else None, may_receive=may_receive,
            finish=finish, refund=refund, load=self._load, record=record)

    def _screen(self, payment_id: str, event: Event, party: Party,
                unit: dict[str, Any]) -> tuple[Event, Recording | None]:
        """Screen a pay, a refund or a staff dispute decision before it is prepared (see
        :mod:`.screening`); the event to run (a pay answered ``review`` runs as
        ``Pay(review=True)``) and the decision to write with it.

        Only a transition the machine would take is screened, and a refund_id already
        used is not screened again: its first answer stands (an id's outcome never
        changes), and a refusal the machine gives stays the machine's. A pay or refund is
        judged on this process's copy of the payment when it has one (who, how much,
        which merchant do not change once paid); a refusal on the copy asks the database."""
        if not isinstance(event, Pay | Refund | DecideDispute):
            return event, None  # nothing else moves money a screening must see
        now = self._clock.now_ns()
        before = None if isinstance(event, DecideDispute) else self._recent.get(payment_id)
        try:
            if before is None:
                raise DomainError("not_found", "no copy")
            transition(before.escrow, event, now_ns=now)
        except DomainError:
            before = self.get(payment_id)
            if before is None:
                raise DomainError("not_found", f"no payment {payment_id}") from None
            try:
                transition(before.escrow, event, now_ns=now)
            except DomainError:
                return event, None  # _prepare gives the machine's refusal
        funding: AccountRef | None = unit.get("funding")
        refund: tuple[str, Money] | None = unit.get("refund")
        if refund is not None:
            with self._database.engine.connect() as conn:
                if refunds.find(conn, payment_id, refund[0]) is not None:
                    return event, None
        if isinstance(event, DecideDispute):
            return event, self._screen_decision(payment_id, before, party, event)
        paid = isinstance(event, Pay)
        screened = Screened(
            Operation.PAY if paid else Operation.REFUND, payment_id, before.merchant_id,
            party.id if paid else before.buyer_id, event.amount, party.actor,
            method=unit.get("method") if paid else before.method,
            account_id=funding.owner if paid and funding is not None
            and funding.kind not in _NOT_BANK else None,
            refund_id=refund[0] if refund is not None else None)
        screen = self.screening.screen_payment(screened)
        self._refuse(screened, screen, payment_id, event.name)
        if isinstance(event, Pay) and held_for_review(screened, screen):
            log.info("payment.screen_review", payment=payment_id)
            return Pay(event.amount, review=True), screen.record
        return event, screen.record

    def _screen_decision(self, payment_id: str, before: PaymentView, party: Party,
                         event: DecideDispute) -> Recording | None:
        """A staff member's dispute decision, screened as a staff move of what is held."""
        parts = [str(event.resolution)] + [str(m.amount_minor) for m in (
            event.refund_amount, event.release_amount) if m is not None]
        screened = Screened(
            Operation.DISPUTE_DECISION, payment_id, before.merchant_id, before.buyer_id,
            before.escrow.held, party.actor, staff_id=party.id.split("/", 1)[0],
            decision=":".join(parts))
        screen = self.screening.screen_payment(screened)
        self._refuse(screened, screen, payment_id, "decide_dispute")
        return screen.record

    def _refuse(self, screened: Screened, screen: Screen, payment_id: str,
                operation: str) -> None:
        """Raise the refusal the screening's answer means, its decision written first."""
        refused = refusal(screened, screen)
        if refused is not None:
            self._write_alone(screen.record)
            log.info("payment.screen_refused", payment=payment_id, operation=operation)
            raise refused

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
                self.apply(payment_id, event, party=Party(PartyRole.SYSTEM, audit.SYSTEM))
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
        if party.role is PartyRole.MERCHANT and party.id != payment.merchant_id:
            raise DomainError("not_found", f"no payment {payment.id}")
        if party.role is PartyRole.BUYER and not isinstance(event, Pay) and party.id != payment.buyer_id:
            raise DomainError("not_found", f"no payment {payment.id}")

    def _accounts(self, payment: PaymentView, funding: AccountRef | None
                  ) -> dict[Role, AccountRef]:
        cur = payment.escrow.currency
        refs = {Role.ESCROW: platform_account(AccountKind.ESCROW, cur),
                Role.PLATFORM_FEE: platform_account(AccountKind.FEE_INCOME, cur),
                Role.MERCHANT: AccountRef(AccountKind.MERCHANT, payment.merchant_id, cur)}
        if funding is None and payment.funding:
            funding = AccountRef.from_name(payment.funding, cur)
        if funding is not None:
            refs[Role.BUYER_FUNDING] = funding
        return refs

    def _seal(self, payment_id: str, escrow: Escrow) -> bytes:
        return self._keys.seal(codec.dumps(escrow), table="payments", column="escrow",
                               row_id=payment_id)


_NOT_BANK = frozenset({AccountKind.WALLET, AccountKind.CARD_ISSUER})
_BY_ID = select(payments).where(payments.c.id == bindparam("id"))

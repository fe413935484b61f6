"""A cheque of this bank presented by another bank through the clearing network: the
drawer's bank's half of a cheque between banks (decision 0064).

The payee's bank sends the cheque, exactly as the payee holds it, in a presentment
(services/clearing/bank/cheques.py). :meth:`Collections.honour` answers it:

1. the cheque must be exactly the text this bank issued, its drawer's passkey evidence
   must still prove it, and the presentment must name its payee, amount and currency
   and carry the cheque's own end-to-end id (:func:`presentment_id`); anything else
   bounces ``altered``;
2. it is judged as at the counter (stopped, paid before, stale, not yet due);
3. a payable cheque is paid by a movement from the drawer's account to the payee's bank
   (kind ``cheque``, pending: the clearing link sends it as a pacs.008 like any transfer
   to another bank), whose id is the presentment's end-to-end id, with the cheque marked
   paid as its precondition: one transaction, or nothing.

The same presentment asked again (a retry, a lost answer, the payee's bank asking
after a crash, :class:`Following`) is answered as it was: its movement exists. If the
network refuses that transfer, the clearing link voids it and ``bounced_by_network``
marks the cheque bounced in the same transaction (voided another way, the next answer
bounces it); the presentment is then answered with the bounce.
Every answer is recorded as a presentation by ``clearing:<BIC>``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.clock import Clock
from ...adapters.rail import ChequeItem
from ...adapters.store import Database
from ...adapters.store.schema import (
    bank_clearing_in,
    bank_transfers,
    cheque_presentations,
    cheques,
)
from ...domain.banking.cheques import BounceReason, ChequeState, judge
from ...domain.errors import DomainError
from ...domain.money import Money
from .. import audit
from . import cheque_documents as documents
from .cheque_documents import Collector, collection_key, digest
from .movements import Movement, MovementKind, Movements, MovementState

if TYPE_CHECKING:  # cheques.py uses this module's paid_if_settled
    from .cheques import Cheques

PREFIX = "chqc:"  # the presentment's end-to-end id, and its movement's id here


def presentment_id(drawer_iban: str, serial: int) -> str:
    """The end-to-end id of the presentment of a cheque: one per cheque, so a presenting
    bank cannot ask under another cheque's id."""
    return PREFIX + collection_key(drawer_iban, serial)[:30]


_SETTLING = (str(MovementState.PENDING), str(MovementState.POSTED), str(MovementState.HELD))

# The clearing link voids a refused transfer; a cheque it paid bounces with it. Every
# value is a parameter (the write path runs these statements with its own batches).
_bounced = update(cheques).where(
    cheques.c.transfer_id == bindparam("movement_id"), cheques.c.state == bindparam("was"),
).values(state=bindparam("now_state"), bounce_reason=bindparam("reason"),
         updated_at=bindparam("updated_at"))


def bounced_by_network(movement_id: str, now_ns: int) -> tuple[Any, dict[str, Any]]:
    """The statement, and its values, that bounce the cheque ``movement_id`` paid."""
    return _bounced, {"movement_id": movement_id, "was": str(ChequeState.PAID),
                      "now_state": str(ChequeState.BOUNCED),
                      "reason": str(BounceReason.INSUFFICIENT_FUNDS), "updated_at": now_ns}


CREDIT_SETTLED = "settled"  # bank_clearing_in.state (services/clearing/bank/incoming.py)


def paid_if_settled(conn: Connection, cheque_id: str, end_to_end_id: str, now_ns: int) -> bool:
    """Mark paid a cheque collecting whose money settled here already: it can come first
    (its bank paid, then crashed before it answered; its link sent the money on restart,
    before the cheque was presented again). The settlement marks it otherwise."""
    settled = select(bank_clearing_in.c.uetr).where(
        bank_clearing_in.c.end_to_end_id == end_to_end_id,
        bank_clearing_in.c.state == CREDIT_SETTLED).exists()
    return bool(conn.execute(update(cheques).where(
        cheques.c.id == cheque_id, cheques.c.state == str(ChequeState.ISSUED),
        cheques.c.transfer_id == end_to_end_id, settled,
    ).values(state=str(ChequeState.PAID), updated_at=now_ns)).rowcount == 1)


@dataclass(frozen=True)
class Presentment:
    """What the payee's bank presents: the cheque and what it says it pays."""

    end_to_end_id: str  # PREFIX + 30 characters: the collection's id
    cheque: str  # the text, as the payee holds it
    payee_iban: str
    payee_name: str
    amount: Money
    presenter: str  # the presenting bank's BIC


@dataclass(frozen=True)
class Honoured:
    paid: bool
    reason: BounceReason | None = None


class Collections:
    def __init__(self, database: Database, *, clock: Clock, cheques: Cheques,
                 movements: Movements) -> None:
        self._database = database
        self._clock = clock
        self._cheques = cheques
        self._movements = movements

    def honour(self, p: Presentment) -> Honoured:
        """Pay the cheque to the payee's bank, or say why not (see the module)."""
        if not p.end_to_end_id.startswith(PREFIX):
            return self._bounce(p, None, BounceReason.ALTERED)
        with self._database.engine.connect() as conn:
            try:
                cheque, row = self._cheques.genuine(conn, p.cheque)
            except (documents.NotACheque, DomainError):
                return self._bounce(p, None, BounceReason.ALTERED)
            earlier = conn.execute(select(bank_transfers.c.state).where(
                bank_transfers.c.id == p.end_to_end_id)).scalar()
        if (cheque.payee_iban != p.payee_iban or cheque.amount_minor != p.amount.amount_minor
                or cheque.currency != p.amount.currency
                or p.end_to_end_id != presentment_id(cheque.drawer_iban, cheque.serial)):
            return self._bounce(p, row["id"], BounceReason.ALTERED)
        if earlier is not None:  # this presentment was answered: as it was
            if earlier in _SETTLING:
                return Honoured(True)
            return self._unsettled(p, row)
        judgement = judge(cheque, ChequeState(row["state"]), presenter_is_payee=True,
                          today=self._cheques.today())
        if not judgement.pay:
            return self._bounce(p, row["id"], judgement.reason or BounceReason.ALTERED,
                                judgement.state)
        try:
            return self._pay(p, row)
        except DomainError as exc:
            if exc.code == "insufficient_funds":
                return self._bounce(p, row["id"], BounceReason.INSUFFICIENT_FUNDS,
                                    ChequeState.BOUNCED)
            if exc.code == "cheque_changed":  # stopped or paid meanwhile: judged again
                return self.honour(p)
            raise

    def _unsettled(self, p: Presentment, row: Any) -> Honoured:
        """Its movement was voided (the network refused the transfer, or a review declined
        it): the cheque bounced, whichever way the void came."""
        if row["state"] == str(ChequeState.PAID) and row["transfer_id"] == p.end_to_end_id:
            statement, values = bounced_by_network(p.end_to_end_id, self._clock.now_ns())
            with self._database.engine.begin() as conn:
                conn.execute(statement, values)
            return Honoured(False, BounceReason.INSUFFICIENT_FUNDS)
        return Honoured(False, BounceReason(row["bounce_reason"] or "insufficient_funds"))

    def _pay(self, p: Presentment, row: Any) -> Honoured:
        actor = f"clearing:{p.presenter}"

        def mark_paid(conn: Connection) -> None:
            now = self._clock.now_ns()
            if conn.execute(update(cheques).where(
                    cheques.c.id == row["id"], cheques.c.state == str(ChequeState.ISSUED),
            ).values(state=str(ChequeState.PAID), presented_by=actor[:32], presented_at=now,
                     transfer_id=p.end_to_end_id, updated_at=now)).rowcount != 1:
                raise DomainError("cheque_changed", "the cheque changed while presented")
            self._record(conn, p, row["id"], None, now)

        self._movements.execute(Movement(
            id=p.end_to_end_id, kind=MovementKind.CHEQUE, user_id=row["drawer_user_id"],
            from_account=row["drawer_account_id"], to_account=None, amount=p.amount,
            reference=f"cheque {row['serial']}", counterparty_iban=p.payee_iban,
            counterparty_name=p.payee_name), precondition=mark_paid, stepped_up=True,
            actor=actor)
        return Honoured(True)

    def _bounce(self, p: Presentment, cheque_id: str | None, reason: BounceReason,
                state: ChequeState | None = None) -> Honoured:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            if cheque_id is not None and state is not None:
                conn.execute(update(cheques).where(
                    cheques.c.id == cheque_id, cheques.c.state == str(ChequeState.ISSUED),
                ).values(state=str(state), bounce_reason=str(reason), updated_at=now))
            self._record(conn, p, cheque_id, reason, now)
        return Honoured(False, reason)

    def _record(self, conn: Connection, p: Presentment, cheque_id: str | None,
                reason: BounceReason | None, now: int) -> None:
        presentation_id = "prs_" + secrets.token_hex(12)
        actor = f"clearing:{p.presenter}"
        conn.execute(insert(cheque_presentations).values(
            id=presentation_id, cheque_id=cheque_id, presenter_user_id=actor[:32],
            account_id=None, outcome="bounced" if reason else "paid",
            reason=None if reason is None else str(reason), text_sha256=digest(p.cheque),
            created_at=now))
        audit.record(conn, at_ns=now, actor=actor,
                     action="cheque.bounce" if reason else "cheque.collected",
                     object_id=cheque_id or presentation_id,
                     detail={"presentment": p.end_to_end_id, "presentation": presentation_id,
                             **({"reason": str(reason)} if reason else {})})


FOLLOW_AFTER_S = 30  # a cheque collecting this long is asked about again
FOLLOW_INTERVAL_S = 10.0  # how often the maintenance chore looks
FOLLOW_BATCH_MAX = 50


class Following:
    """The payee's bank's half, after the presentment: a cheque of another bank still
    collecting ``after_s`` after it was accepted is presented again (the same presentment:
    the drawer's bank answers as it stands). Accepted, it waits on for its money; refused
    (its transfer was refused by the network, say), it bounces here with the drawer's
    bank's reason, recorded as a presentation, without the payee asking."""

    def __init__(self, database: Database, *, clock: Clock, collector: Collector,
                 after_s: int = FOLLOW_AFTER_S) -> None:
        self._database = database
        self._clock = clock
        self._collector = collector  # services/clearing/bank/cheques.ChequeCollector
        self._after_ns = after_s * 1_000_000_000

    def run_due(self) -> int:
        """Ask about each cheque collecting too long; the number that bounced now."""
        now = self._clock.now_ns()
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(cheques).where(
                cheques.c.state == str(ChequeState.ISSUED), cheques.c.drawer_user_id.is_(None),
                cheques.c.transfer_id.like(PREFIX + "%"),
                cheques.c.updated_at <= now - self._after_ns,
            ).order_by(cheques.c.updated_at).limit(FOLLOW_BATCH_MAX)).mappings().all()
        return sum(self._ask(row) for row in rows)

    def _ask(self, row: Any) -> bool:
        with self._database.engine.begin() as conn:  # its money came before it was recorded
            if paid_if_settled(conn, row["id"], row["transfer_id"], self._clock.now_ns()):
                return False
        item = ChequeItem(row["transfer_id"][len(PREFIX):], row["jws"], row["drawer_iban"],
                          row["serial"], row["payee_iban"], row["amount"], row["currency"])
        try:
            answer = self._collector.present_cheque(item)
        except DomainError:  # not reachable now: asked again at the next run
            return False
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            still = (cheques.c.id == row["id"]) & (cheques.c.state == str(ChequeState.ISSUED))
            if answer.accepted:
                conn.execute(update(cheques).where(still).values(updated_at=now))
                return False
            reason = BounceReason(answer.reason) if answer.reason in set(BounceReason) \
                else BounceReason.ALTERED
            state = ChequeState.STOPPED if reason is BounceReason.STOPPED \
                else ChequeState.BOUNCED
            if conn.execute(update(cheques).where(still).values(
                    state=str(state), bounce_reason=str(reason), transfer_id=None,
                    updated_at=now)).rowcount != 1:
                return False  # paid meanwhile
            presentation_id = "prs_" + secrets.token_hex(12)
            conn.execute(insert(cheque_presentations).values(
                id=presentation_id, cheque_id=row["id"], presenter_user_id=row["presented_by"] or audit.SYSTEM,
                account_id=row["payee_account_id"], outcome="bounced", reason=str(reason),
                text_sha256=digest(row["jws"]), created_at=now))
            audit.record(conn, at_ns=now, actor=audit.SYSTEM, action="cheque.bounce",
                         object_id=row["id"], detail={"reason": str(reason),
                                                      "presentation": presentation_id})
        return True

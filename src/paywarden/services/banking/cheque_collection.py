"""A cheque of this bank presented by another bank through the clearing network: the
drawer's bank's half of a cheque between banks (decision 0064).

The payee's bank sends the cheque, exactly as the payee holds it, in a presentment
(services/clearing/bank/cheques.py). :meth:`Collections.honour` answers it:

1. the cheque must be exactly the text this bank issued, its drawer's passkey evidence
   must still prove it, and the presentment must name its payee, amount and currency;
   anything else bounces ``altered``;
2. it is judged as at the counter (stopped, paid before, stale, not yet due);
3. a payable cheque is paid by a movement from the drawer's account to the payee's bank
   (kind ``cheque``, pending: the clearing link sends it as a pacs.008 like any transfer
   to another bank), whose id is the presentment's end-to-end id, with the cheque marked
   paid as its precondition: one transaction, or nothing.

The same presentment asked again (a retry, a lost answer, the payee's bank asking
after a crash) is answered as it was: its movement exists. If the network refuses that
transfer, the clearing link voids it and ``bounced_by_network`` marks the cheque
bounced in the same transaction; the presentment is then answered with the bounce.
Every answer is recorded as a presentation by ``clearing:<BIC>``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import bank_transfers, cheque_presentations, cheques
from ...domain.banking.cheques import BounceReason, ChequeState, judge
from ...domain.errors import DomainError
from ...domain.money import Money
from .. import audit
from . import cheque_documents as documents
from .cheques import Cheques, digest
from .movements import Movement, MovementKind, Movements, MovementState

PREFIX = "chqc:"  # the presentment's end-to-end id, and its movement's id here
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
                or cheque.currency != p.amount.currency):
            return self._bounce(p, row["id"], BounceReason.ALTERED)
        if earlier is not None:  # this presentment was answered: as it was
            if earlier in _SETTLING and row["transfer_id"] == p.end_to_end_id:
                return Honoured(True)
            return Honoured(False, BounceReason(row["bounce_reason"] or "insufficient_funds"))
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

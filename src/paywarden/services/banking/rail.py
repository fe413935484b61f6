"""Money to and from other banks through the rail adapter (adapters/rail).

Outgoing: a movement to another bank is written *pending* (the money reserved in the
clearing account); :meth:`RailLink.run_due` sends each pending one to the rail and posts
it when the rail accepts, or voids it (the money back) with the rail's reason code when
it rejects. The maintenance loop runs it; a crash between send and settle sends again,
and the rail matches the instruction by the movement's id (its end-to-end id).

Incoming: a deposit is a credit from the clearing account to the account the IBAN names,
once per rail reference.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select

from ...adapters.rail import Instruction, Rail
from ...adapters.store import Database
from ...adapters.store.schema import bank_transfers
from ...domain.errors import DomainError
from ...domain.money import Money
from .. import audit
from .accounts import by_iban, get_account
from .ibans import normalise
from .movements import Movement, MovementKind, MovementResult, Movements, MovementState

log = structlog.get_logger(__name__)
RAIL_BATCH_MAX = 100
OUTGOING = (str(MovementKind.EXTERNAL), str(MovementKind.WITHDRAWAL))


class RailLink:
    def __init__(self, database: Database, *, rail: Rail, movements: Movements) -> None:
        self._database = database
        self.rail = rail
        self._movements = movements

    def run_due(self, *, batch_max: int = RAIL_BATCH_MAX) -> int:
        """Send the pending outgoing movements; the number settled."""
        with self._database.engine.connect() as conn:
            rows = conn.execute(select(bank_transfers).where(
                bank_transfers.c.state == str(MovementState.PENDING),
                bank_transfers.c.kind.in_(OUTGOING)).order_by(bank_transfers.c.created_at)
                .limit(batch_max)).mappings().all()
            sources = {r["id"]: get_account(conn, r["from_account"]) for r in rows}
        settled = 0
        for r in rows:
            source = sources[r["id"]]
            answer = self.rail.send(Instruction(
                r["id"], source.iban if source else "", r["counterparty_iban"] or "",
                r["counterparty_name"] or "", r["amount"], r["currency"], r["reference"]))
            done = self._movements.settle(r["id"], post=answer.accepted, reason=answer.reason,
                                          actor="rail")
            settled += done.created
            if not answer.accepted:
                log.info("rail.rejected", movement=r["id"], reason=answer.reason)
        return settled

    def deposit(self, *, rail_id: str, iban: str, amount: Money, debtor_iban: str,
                debtor_name: str, reference: str) -> MovementResult:
        """An incoming credit from another bank, once per ``rail_id``."""
        iban = normalise(iban)
        with self._database.engine.connect() as conn:
            account = by_iban(conn, iban)
        if account is None:
            raise DomainError("not_found", "no account has that IBAN here")
        return self._movements.execute(Movement(
            id="dep_" + rail_id, kind=MovementKind.DEPOSIT, user_id=None, from_account=None,
            to_account=account.id, amount=amount, reference=reference,
            counterparty_iban=normalise(debtor_iban), counterparty_name=debtor_name[:140]),
            actor=audit.SYSTEM)

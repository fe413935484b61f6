"""Sending back a transfer another bank paid to one of our customers: the returning
bank's half of a return (pacs.004, decision 0060).

:meth:`Returns.start`, in one transaction:

- a *pending* debit of the account the transfer was credited to (a ``return`` movement,
  not screened: the money goes back where it came from), and
- the pacs.004 stored in the outbox (``bank_clearing_batches``) with its
  ``bank_clearing_out`` row, exactly like a pacs.008 of our own transfers.

From there :class:`.outgoing.ClearingLink` sends it and settles it by the hub's answer
(ACSC posts the debit, RJCT voids it), re-sending the same bytes until it is final. A
transfer is returned at most once: while one return of it is live or done, starting
another answers that one (a retry after a crash finds it). A rejected return (the
payer's bank did not answer in time, say) can be started again, under a new id.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import insert, select

from ....adapters.clock import Clock
from ....adapters.store import Database
from ....adapters.store.schema import (
    bank_clearing_batches,
    bank_clearing_in,
    bank_clearing_out,
    bank_transfers,
)
from ....domain.clearing.messages import (
    RETURN_REASONS,
    Header,
    Pacs004,
    Return,
    new_return_id,
    return_key,
)
from ....domain.errors import DomainError
from ....domain.money import Money
from ...banking.movements import Movement, MovementKind, MovementResult, Movements
from ..bank_ports import HubUnreachable
from . import stored
from .incoming import SETTLED as IN_SETTLED
from .outgoing import REJECTED, SENT, ClearingLink

log = structlog.get_logger(__name__)
MOVEMENT_PREFIX = "rtn_"


@dataclass(frozen=True)
class Started:
    return_id: str
    uetr: str  # the return's UETR (its id as a UUID)
    original_uetr: str
    amount: Money
    state: str  # sent | settled | rejected
    reason: str | None
    created: bool  # False: the transfer's live return, found

    def public(self) -> dict[str, Any]:
        return {"return_id": self.return_id, "uetr": self.uetr,
                "original_uetr": self.original_uetr, "amount": self.amount.amount_minor,
                "currency": self.amount.currency, "state": self.state, "reason": self.reason,
                "created": self.created}


class Returns:
    def __init__(self, database: Database, *, clock: Clock, movements: Movements,
                 link: ClearingLink, bic: str, hub_bic: str, deadline_s: int) -> None:
        self._database = database
        self._clock = clock
        self._movements = movements
        self._link = link
        self._bic = bic
        self._hub_bic = hub_bic
        self._deadline_s = deadline_s

    def start(self, original_uetr: str, *, reason: str, actor: str,
              amount_minor: int | None = None, return_id: str | None = None,
              send: bool = True) -> Started:
        """Return the settled incoming transfer ``original_uetr`` (all of it unless
        ``amount_minor``), then send it (or leave that to the chore); the return as it
        stands. ``return_id`` (32 hex digits of a UUID v4) makes a retry of one command
        find its own return."""
        if reason not in RETURN_REASONS:
            raise DomainError("return_reason_invalid", "a return reason is one of "
                              + ", ".join(sorted(RETURN_REASONS)))
        return_id = return_id or new_return_id()
        uetr = return_key(return_id)
        if uetr is None:
            raise DomainError("return_id_invalid", "a return id is the hex of a UUID v4")
        found = self.find(original_uetr, uetr=uetr) or self.find(original_uetr)
        if found is not None:
            return found
        with self._database.engine.connect() as conn:
            original = conn.execute(
                select(bank_clearing_in, bank_transfers.c.to_account,
                       bank_transfers.c.amount, bank_transfers.c.currency,
                       bank_transfers.c.counterparty_iban, bank_transfers.c.counterparty_name)
                .join(bank_transfers, bank_transfers.c.id == bank_clearing_in.c.movement_id)
                .where(bank_clearing_in.c.uetr == original_uetr,
                       bank_clearing_in.c.original_uetr.is_(None))).mappings().first()
        if original is None:
            raise DomainError("not_found", "no transfer from another bank with this UETR")
        if original["state"] != IN_SETTLED:
            raise DomainError("return_not_settled", "only a settled transfer is returned; "
                              "one still pending is rejected by its bank instead")
        amount = original["amount"] if amount_minor is None else amount_minor
        if not 0 < amount <= original["amount"]:
            raise DomainError("return_amount_invalid",
                              "a return is more than zero and at most the transfer")
        now = self._clock.now_ns()
        value = Return(return_id, original["msg_id"], original_uetr,
                       original["end_to_end_id"] or "", Money(amount, original["currency"]),
                       reason)
        message = Pacs004(Header("pwr" + secrets.token_hex(16), now, self._bic,
                                 self._hub_bic), (value,))

        def store(conn: Any, result: MovementResult) -> None:
            if not result.created:
                return
            conn.execute(insert(bank_clearing_batches).values(
                msg_id=message.header.msg_id, receiver=self._hub_bic,
                document=stored.dumps(message), created_at=now))
            conn.execute(insert(bank_clearing_out).values(
                movement_id=MOVEMENT_PREFIX + return_id, uetr=uetr,
                end_to_end_id=value.original_end_to_end_id or return_id,
                msg_id=message.header.msg_id, state=SENT, reason=None,
                deadline_ns=now + self._deadline_s * 1_000_000_000,
                original_uetr=original_uetr, created_at=now, updated_at=now))

        self._movements.execute(Movement(
            MOVEMENT_PREFIX + return_id, MovementKind.RETURN, None, original["to_account"],
            None, value.amount, f"Return ({reason}) of {value.original_end_to_end_id}"[:140],
            counterparty_iban=original["counterparty_iban"],
            counterparty_name=original["counterparty_name"]),
            precondition=_no_live_return(original_uetr), finish=store, actor=actor)
        try:
            if send:
                self._link.send(message.header.msg_id)
        except HubUnreachable as down:  # the chore sends it again: it is stored
            log.info("clearing.return_unsent", uetr=uetr, error=str(down)[:200])
        found = self.find(original_uetr, uetr=uetr)
        if found is None:
            raise DomainError("not_found", "the return was not stored")
        return Started(found.return_id, found.uetr, found.original_uetr, found.amount,
                       found.state, found.reason, True)

    def find(self, original_uetr: str, *, uetr: str | None = None) -> Started | None:
        """The transfer's live (or done) return, or the one named ``uetr``."""
        out = bank_clearing_out
        query = (select(out, bank_transfers.c.amount, bank_transfers.c.currency)
                 .join(bank_transfers, bank_transfers.c.id == out.c.movement_id)
                 .where(out.c.original_uetr == original_uetr))
        query = (query.where(out.c.uetr == uetr) if uetr is not None
                 else query.where(out.c.state != REJECTED))
        with self._database.engine.connect() as conn:
            row = conn.execute(query.limit(1)).mappings().first()
        if row is None:
            return None
        return Started(row["movement_id"].removeprefix(MOVEMENT_PREFIX), row["uetr"],
                       original_uetr, Money(row["amount"], row["currency"]), row["state"],
                       row["reason"], False)


def _no_live_return(original_uetr: str) -> Any:
    """In the movement's transaction: no other return of the transfer is live or done."""
    def check(conn: Any) -> None:
        if conn.execute(select(bank_clearing_out.c.uetr).where(
                bank_clearing_out.c.original_uetr == original_uetr,
                bank_clearing_out.c.state != REJECTED)).first() is not None:
            raise DomainError("return_exists", "this transfer is being returned already")
    return check

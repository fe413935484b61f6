"""What an analyst's outcome does to the money a ``review`` decision held.

A case's decision names an operation (``bank.internal``, ``payment.pay`` …); the resolver
registered for the operation's prefix (``bank.``, ``payment.``) carries the outcome out:
release lets the held money go on, decline voids it. Banking's is here; the payments path
registers its own (escrow pay under review) in the same ``dict[str, Resolver]``.

A resolver is called again for a case whose outcome was claimed but not carried out (a
crash in between), so ``resolve`` must answer the first result when asked twice — banking's
``Movements.settle`` does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select

from ...adapters.store import Database
from ...adapters.store.schema import bank_transfers
from ...domain.errors import DomainError
from ..banking.movements import Movements
from ..ledger.currencies import currency

ABSENT = "absent"  # nothing is held under the case's object id (the movement never ran)
# What the movement's own row says (the customer may read it on a statement): a code, never
# the analyst's free text.
SETTLE_REASONS = {True: "review_released", False: "review_declined"}


class Resolver(Protocol):
    def resolve(self, object_id: str, *, release: bool, reason: str, actor: str) -> str:
        """Release or decline the held object, once; its state afterwards."""


@runtime_checkable
class Describer(Protocol):
    def describe(self, object_id: str) -> dict[str, Any] | None:
        """The held object as evidence (amount, accounts, counterparty), or None."""


def amount_words(amount_minor: int, code: str) -> str:
    """``2000.00 EUR``: the ledger's exponent, exact (no float)."""
    exponent = currency(code).exponent
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f} {code}"


class BankResolver:
    """Held banking movements: release posts them (or sends them on to the rail), decline
    voids them (``Movements.settle``)."""

    def __init__(self, database: Database, movements: Movements) -> None:
        self._database = database
        self._movements = movements

    def resolve(self, object_id: str, *, release: bool, reason: str, actor: str) -> str:
        try:
            done = self._movements.settle(object_id, post=release,
                                          reason=SETTLE_REASONS[release], actor=actor)
        except DomainError as exc:
            if exc.code == "not_found":
                return ABSENT
            raise
        return str(done.state)

    def describe(self, object_id: str) -> dict[str, Any] | None:
        with self._database.engine.connect() as conn:
            row = conn.execute(select(bank_transfers).where(
                bank_transfers.c.id == object_id)).mappings().first()
        if row is None:
            return None
        return {"id": row["id"], "kind": row["kind"], "state": row["state"],
                "amount": row["amount"], "currency": row["currency"],
                "amount_text": amount_words(row["amount"], row["currency"]),
                "from_account": row["from_account"], "to_account": row["to_account"],
                "counterparty_iban": row["counterparty_iban"],
                "counterparty_name": row["counterparty_name"], "reference": row["reference"],
                "reason": row["reason"], "created_at": row["created_at"]}

"""Refunds by the id their sender chose: a retry finds the first refund instead of making
a second one.

``refund_id`` is unique per payment. Looked up first in the refund's transaction, under
the ledger lock, before any state or balance check (the order TigerBeetle checks ids in):

    no refund with this id         the refund is applied and recorded with its id
    same id, same amount           the first refund is the answer; nothing moves
    same id, another amount        refund_id_reused (409); nothing moves
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ...adapters.store.schema import payment_refunds
from ...domain.errors import DomainError
from ...domain.money import Money

REFUND_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")


@dataclass(frozen=True)
class RefundRecord:
    payment_id: str
    refund_id: str
    amount: Money
    version: int  # the payment's version this refund made
    created_at_ns: int


def check_refund_id(refund_id: str) -> str:
    if not (type(refund_id) is str and REFUND_ID_PATTERN.fullmatch(refund_id)):
        raise DomainError("refund_id_invalid", "a refund_id is 1 to 64 letters, digits, "
                          "_ . : - (starting with a letter or digit)")
    return refund_id


def find(conn: Connection, payment_id: str, refund_id: str) -> RefundRecord | None:
    row = conn.execute(select(payment_refunds).where(
        payment_refunds.c.payment_id == payment_id,
        payment_refunds.c.refund_id == refund_id)).mappings().first()
    if row is None:
        return None
    return RefundRecord(payment_id, refund_id, Money(row["amount"], row["currency"]),
                        row["version"], row["created_at"])


def check_same(first: RefundRecord, amount: Money) -> RefundRecord:
    """The first refund if ``amount`` is what it refunded; otherwise refused."""
    if first.amount != amount:
        raise DomainError("refund_id_reused", f"refund {first.refund_id!r} of this payment "
                          f"was for {first.amount.amount_minor} {first.amount.currency}; "
                          "use a new refund_id for another refund")
    return first


def row(record: RefundRecord, *, actor: str) -> dict[str, Any]:
    """The payment_refunds row of a new refund (written with its transition's batch)."""
    return {"payment_id": record.payment_id, "refund_id": record.refund_id,
            "amount": record.amount.amount_minor, "currency": record.amount.currency,
            "version": record.version, "actor": actor[:128], "created_at": record.created_at_ns}

"""A merchant's payments, newest first, a page at a time: what the merchant dashboard lists.

Keyset pagination on (created_at, id), both descending, over the index
``ix_payments_merchant_created``: a page never repeats or skips a payment when new ones
arrive while the merchant reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, or_, select

from ...adapters.store.schema import payments

PAGE_SIZE_MAX = 100


def page(conn: Connection, merchant_id: str, *, limit: int,
         before: tuple[int, str] | None = None) -> list[Any]:
    """Up to ``limit`` (≤ PAGE_SIZE_MAX) payment rows of ``merchant_id``, older than
    ``before``; checkouts nobody has paid yet are left out (no buyer)."""
    query = select(payments).where(payments.c.merchant_id == merchant_id,
                                   payments.c.buyer_id.is_not(None))
    if before is not None:
        at, last_id = before
        query = query.where(or_(payments.c.created_at < at,
                                and_(payments.c.created_at == at, payments.c.id < last_id)))
    query = query.order_by(payments.c.created_at.desc(), payments.c.id.desc())
    return list(conn.execute(query.limit(min(limit, PAGE_SIZE_MAX))).mappings())

"""A buyer's payments, newest first, a page at a time: what their payments page lists; and
the payments in dispute, for the staff's disputes queue.

Keyset pagination on (created_at, id), both descending: a page never repeats or skips
a payment when new ones arrive while the buyer reads. ``buyer_id`` is set when a payment
is paid, so a checkout nobody has paid belongs to no buyer and is never listed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, or_, select

from ...adapters.store.schema import payments
from ...domain.escrow import State as EscrowState

PAGE_SIZE_MAX = 100


def page(conn: Connection, buyer_id: str, *, limit: int,
         before: tuple[int, str] | None = None) -> list[Any]:
    """Up to ``limit`` (≤ PAGE_SIZE_MAX) payment rows of ``buyer_id``, older than ``before``."""
    query = select(payments).where(payments.c.buyer_id == buyer_id)
    if before is not None:
        at, last_id = before
        query = query.where(or_(payments.c.created_at < at,
                                and_(payments.c.created_at == at, payments.c.id < last_id)))
    query = query.order_by(payments.c.created_at.desc(), payments.c.id.desc())
    return list(conn.execute(query.limit(min(limit, PAGE_SIZE_MAX))).mappings())


def disputed(conn: Connection, *, limit: int) -> list[Any]:
    """Up to ``limit`` (≤ PAGE_SIZE_MAX) payment rows in dispute, the least recently changed
    (the longest waiting) first. ``state`` has no index: disputes are few and this is a
    staff page, not a hot path (decision 0049)."""
    query = (select(payments).where(payments.c.state == str(EscrowState.DISPUTED))
             .order_by(payments.c.updated_at, payments.c.id))
    return list(conn.execute(query.limit(min(limit, PAGE_SIZE_MAX))).mappings())

"""Checkout sessions: what a merchant asked to be paid for, unique per (merchant, order_ref).

A second create of the same order is a retry when it asks for exactly the same items,
amount, return URL and escrow terms: it is answered with the first session. With other
fields it is refused (``checkout_order_ref_reused``), so an order is never paid twice
under two sessions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ...adapters.store.schema import checkout_sessions
from ...domain.errors import DomainError
from ...domain.money import Money


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

    def row(self, now_ns: int) -> dict[str, Any]:
        """The checkout_sessions row of a new session."""
        return {"id": self.id, "merchant_id": self.merchant_id, "order_ref": self.order_ref,
                "items": items_json(self.items), "amount": self.amount.amount_minor,
                "currency": self.amount.currency, "return_url": self.return_url,
                "days_to_ship": self.days_to_ship,
                "release_after_days": self.release_after_days, "payment_id": self.payment_id,
                "created_at": now_ns, "expires_at": self.expires_at_ns}


def items_json(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, separators=(",", ":"))


_BY_ID = select(checkout_sessions).where(checkout_sessions.c.id == bindparam("id"))
_BY_ORDER = select(checkout_sessions).where(
    checkout_sessions.c.merchant_id == bindparam("merchant_id"),
    checkout_sessions.c.order_ref == bindparam("order_ref"))


def by_id(conn: Connection, session_id: str) -> Checkout | None:
    return _checkout(conn.execute(_BY_ID, {"id": session_id}).mappings().first())


def by_order(conn: Connection, merchant_id: str, order_ref: str) -> Checkout | None:
    return _checkout(conn.execute(_BY_ORDER, {"merchant_id": merchant_id,
                                              "order_ref": order_ref}).mappings().first())


_ORDER_COLUMNS = tuple(c.name for c in checkout_sessions.c)
_ORDERS = f"SELECT {', '.join(_ORDER_COLUMNS)} FROM checkout_sessions WHERE "


def orders_read(orders: Sequence[tuple[str, str]], *, postgres: bool
                ) -> tuple[str, tuple[Any, ...]]:
    """Driver SQL and parameters reading every (merchant, order_ref) of ``orders`` at once
    (see :func:`by_orders`)."""
    if postgres:
        return (_ORDERS + "(merchant_id, order_ref) IN (SELECT * FROM unnest(%s::text[], "
                "%s::text[]))", ([m for m, _ in orders], [o for _, o in orders]))
    # SQLite scans the table for a row value IN a list; an OR of pairs searches the index
    pairs = " OR ".join(["(merchant_id = ? AND order_ref = ?)"] * len(orders))
    return _ORDERS + pairs, tuple(v for pair in orders for v in pair)


def by_orders(rows: list[Any]) -> dict[tuple[str, str], Checkout]:
    """The checkouts ``orders_read`` read, by (merchant, order_ref)."""
    found = {}
    for row in rows:
        made = _checkout(dict(zip(_ORDER_COLUMNS, row, strict=True)))
        if made is not None:
            found[(made.merchant_id, made.order_ref)] = made
    return found


def _checkout(row: Any) -> Checkout | None:
    if row is None:
        return None
    return Checkout(row["id"], row["payment_id"], row["merchant_id"], row["order_ref"],
                    json.loads(row["items"]), Money(row["amount"], row["currency"]),
                    row["return_url"], row["expires_at"], row["days_to_ship"],
                    row["release_after_days"])


def check_same_order(first: Checkout, asked: Checkout) -> None:
    """A second create of an order is a retry only if it asks for exactly the same."""
    def fields(c: Checkout) -> tuple[Any, ...]:
        return (items_json(c.items), c.amount, c.return_url, c.days_to_ship,
                c.release_after_days)

    if fields(first) != fields(asked):
        raise DomainError("checkout_order_ref_reused", f"order_ref {first.order_ref!r} already "
                          f"has checkout session {first.id} with other items, amount, return "
                          "URL or escrow terms; use a new order_ref for another order")

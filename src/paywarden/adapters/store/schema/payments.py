"""Checkout sessions and escrow payments.

A payment's full escrow state (shipment tracking, dispute text) is sealed in
``escrow``; the columns beside it are what queries and timers need, and the
service keeps them equal to the sealed state. ``version`` orders every change:
an update names the version it read, so a racing second change loses.

A checkout session is unique per (merchant, ``order_ref``), and a refund per
(payment, ``refund_id``): the identities a retried request is matched by. A
payment whose timer event was refused is *parked*: ``parked_reason`` says why,
and ``timer_at`` is moved back so that it never blocks the timers behind it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table, Text

from .base import SEALED, metadata

checkout_sessions = Table(
    "checkout_sessions",
    metadata,
    Column("id", String(32), primary_key=True),  # cs_…
    Column("merchant_id", String(32), nullable=False, index=True),
    Column("order_ref", String(128), nullable=False),
    Column("items", Text, nullable=False),  # JSON: [{name, quantity, unit_amount}]
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("return_url", String(2048), nullable=False),
    Column("days_to_ship", Integer, nullable=False),
    Column("release_after_days", Integer, nullable=False),
    Column("payment_id", String(32), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("uq_checkout_sessions_merchant_order", "merchant_id", "order_ref", unique=True),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(32), primary_key=True),  # pay_…
    Column("checkout_session_id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), nullable=False, index=True),
    Column("buyer_id", String(32), index=True),  # set when paid
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(8)),  # wallet | card | bank, when paid
    Column("funding", String(64)),  # the buyer_funding account: kind:owner
    Column("escrow", LargeBinary, info=SEALED, nullable=False),  # sealed codec.dumps(Escrow)
    Column("timer_at", BigInteger),  # the next timer (expiry, ship-by, release), if any
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("parked_reason", String(64)),  # why its due timer event was refused, if it was
    Column("parked_at", BigInteger),  # when it was first refused
    Column("timer_attempts", Integer, nullable=False, server_default="0"),  # refused in a row
    Index("ix_payments_timer_at", "timer_at"),
    Index("ix_payments_parked_at", "parked_at"),
    Index("ix_payments_merchant_created", "merchant_id", "created_at"),  # merchant rates
    Index("ix_payments_created", "created_at"),  # the dashboard's hours (0027, decision 0050)
)

# A refund as its sender named it: a retry with the same refund_id finds it here.
payment_refunds = Table(
    "payment_refunds",
    metadata,
    Column("payment_id", String(32), primary_key=True),
    Column("refund_id", String(64), primary_key=True),  # chosen by the client
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("version", Integer, nullable=False),  # the payment's version the refund made
    Column("actor", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

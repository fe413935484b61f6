"""Transfers to other parties: payees, the customer's limits, what counted against them,
standing orders and their occurrences.

A payee (``pye_…``) is someone the customer pays by IBAN, ours or another bank's. It is
confirmed with a passkey step-up (``evidence_id``) and then cools off until
``cooling_until``: until then it receives at most a small amount. A deleted payee keeps
its row (``deleted_at``) so the transfers and standing orders that named it stay readable.

``bank_limits`` holds a customer's limit per currency and kind; a raise waits in
``pending_amount`` until ``pending_from``. ``transfer_limit_uses`` is one row per transfer
to another party, written in the movement's transaction before its money, so the next
transfer in the same group commit already counts it (a ``bank_transfers`` row is written
only at the batch's end).

A standing order (``sto_…``) pays a payee once on a date, weekly or monthly up to an end
date; ``standing_order_runs`` has one row per occurrence, keyed by its date, naming the
movement (whose id is derived from the order's id and that date) or why it failed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table

from .base import metadata

bank_payees = Table(
    "bank_payees",
    metadata,
    Column("id", String(32), primary_key=True),  # pye_…
    Column("user_id", String(32), nullable=False),
    Column("name", String(70), nullable=False),
    Column("iban", String(34), nullable=False),  # electronic form
    Column("cop", String(16), nullable=False),  # match | close_match | no_match | unavailable
    Column("evidence_id", String(32), nullable=False),  # the step-up that confirmed it
    Column("cooling_until", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger),
    Index("ix_bank_payees_user", "user_id", "created_at"),
    Index("ix_bank_payees_iban", "iban"),  # customers per payee (risk)
)

bank_limits = Table(
    "bank_limits",
    metadata,
    Column("user_id", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(16), nullable=False),  # per_transfer | per_day | per_payee
    Column("amount", BigInteger, nullable=False),  # in force, minor units
    Column("pending_amount", BigInteger),  # a raise, in force from pending_from
    Column("pending_from", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    # This customer's own maximum, above the bank's, set by an approved limit override
    # (migration 0024, decision 0044); NULL: the bank's maximum.
    Column("override_max", BigInteger),
    PrimaryKeyConstraint("user_id", "currency", "kind"),
)

transfer_limit_uses = Table(
    "transfer_limit_uses",
    metadata,
    Column("movement_id", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("counterparty_iban", String(34), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_transfer_limit_uses_user", "user_id", "currency", "created_at"),
    Index("ix_transfer_limit_uses_payee", "user_id", "counterparty_iban", "created_at"),
)

standing_orders = Table(
    "standing_orders",
    metadata,
    Column("id", String(32), primary_key=True),  # sto_…
    Column("user_id", String(32), nullable=False),
    Column("from_account", String(32), nullable=False),
    Column("payee_id", String(32), nullable=False),
    Column("payee_iban", String(34), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(70), nullable=False),
    Column("frequency", String(8), nullable=False),  # once | weekly | monthly
    Column("start_on", String(10), nullable=False),  # YYYY-MM-DD
    Column("end_on", String(10), nullable=False),
    Column("next_index", Integer, nullable=False),  # the next occurrence's number
    Column("next_on", String(10)),  # its date; None once the order has ended
    Column("state", String(16), nullable=False),  # active | ended | cancelled
    Column("reason", String(64)),  # why it ended or was cancelled
    Column("evidence_id", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_standing_orders_due", "state", "next_on"),
    Index("ix_standing_orders_user", "user_id", "created_at"),
)

standing_order_runs = Table(
    "standing_order_runs",
    metadata,
    Column("order_id", String(32), nullable=False),
    Column("on_date", String(10), nullable=False),
    Column("movement_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # the movement's state then, or failed
    Column("reason", String(64)),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("order_id", "on_date"),
)

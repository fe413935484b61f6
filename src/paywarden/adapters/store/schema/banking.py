"""Bank accounts and the bank's money movements.

A bank account (``acc_…``) is a product a customer holds: a current or savings account,
or the PayWarden wallet (e-money). Its money lives in the ledger, in the account
``ledger_account_id`` names; this row says whose it is, its IBAN and its state.

Every movement the bank makes (a transfer, a deposit or withdrawal through the rail, a
top-up, a cheque paid, interest) is one ``bank_transfers`` row, keyed by the movement's
id: the identity a retry is matched by, written in the same transaction as the money.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from .base import metadata

bank_accounts = Table(
    "bank_accounts",
    metadata,
    Column("id", String(32), primary_key=True),  # acc_…
    Column("user_id", String(32), nullable=False, index=True),
    Column("product", String(16), nullable=False),  # current | savings | wallet
    Column("currency", String(3), nullable=False),
    Column("iban", String(34), nullable=False, unique=True),
    Column("name", String(64), nullable=False),  # the customer's label
    Column("state", String(16), nullable=False),  # open | frozen | closed
    Column("ledger_account_id", BigInteger, nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

bank_transfers = Table(
    "bank_transfers",
    metadata,
    Column("id", String(64), primary_key=True),  # the movement's id: exactly once
    Column("kind", String(16), nullable=False),  # services.banking.movements.MovementKind
    Column("user_id", String(32)),  # who asked for it (None: the bank itself, the rail)
    Column("from_account", String(32)),  # acc_…, or None: money from outside
    Column("to_account", String(32)),  # acc_…, or None: money leaving through the rail
    Column("counterparty_iban", String(34)),
    Column("counterparty_name", String(140)),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(140), nullable=False),
    Column("state", String(16), nullable=False),  # posted | pending | held | voided | failed
    Column("reason", String(64)),  # why it is held, voided or failed
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_bank_transfers_from", "from_account", "created_at"),
    Index("ix_bank_transfers_to", "to_account", "created_at"),
    Index("ix_bank_transfers_state", "state", "kind"),
)

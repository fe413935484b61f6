"""The ledger's tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from .base import metadata

# On SQLite only a column declared exactly INTEGER PRIMARY KEY is the table's
# rowid; BIGINT would add a second B-tree that every insert and lookup pays for.
# (SQLite's INTEGER is 64-bit, so nothing is lost.)
RowId = BigInteger().with_variant(Integer, "sqlite")

ledgers = Table(
    "ledgers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # ISO 4217 numeric code
    Column("currency", String(3), nullable=False, unique=True),
    Column("exponent", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=False),
    Column("ledger", Integer, ForeignKey("ledgers.id"), nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("user_data", String(128)),
    Column("timestamp", BigInteger, nullable=False),
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    # Head of the account's chain of transfers (see docs/decisions/0002).
    Column("last_transfer", BigInteger, nullable=False),
)

transfers = Table(
    "transfers",
    metadata,
    Column("timestamp", RowId, primary_key=True, autoincrement=False),
    Column("id", String(65), nullable=False, unique=True),
    # No foreign keys to accounts: only the engine writes here, from accounts it
    # has loaded, and the check cost a fifth of the insert rate (decision 0003);
    # `paywarden verify` checks every reference.
    Column("debit_account_id", BigInteger, nullable=False),
    Column("credit_account_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("pending_id", String(64)),
    Column("timeout_s", BigInteger, nullable=False),
    Column("user_data", String(128)),
    Column("debit_prev", BigInteger, nullable=False),
    Column("credit_prev", BigInteger, nullable=False),
    Column("debit_debits_pending", BigInteger, nullable=False),
    Column("debit_debits_posted", BigInteger, nullable=False),
    Column("debit_credits_pending", BigInteger, nullable=False),
    Column("debit_credits_posted", BigInteger, nullable=False),
    Column("credit_debits_pending", BigInteger, nullable=False),
    Column("credit_debits_posted", BigInteger, nullable=False),
    Column("credit_credits_pending", BigInteger, nullable=False),
    Column("credit_credits_posted", BigInteger, nullable=False),
)

# Transfers refused with a failure a retry could otherwise turn into a success
# (domain/ledger/results.py, RECORDED_FAILURES). No balance ever counts them; they
# keep the id failed. The id namespace is shared with ``transfers``: an id is in at
# most one of the two tables (`paywarden verify` checks). The timestamp is the one
# the event had in its batch, so the batch's audit entry covers the row.
transfers_failed = Table(
    "transfers_failed",
    metadata,
    Column("timestamp", RowId, primary_key=True, autoincrement=False),
    Column("id", String(65), nullable=False, unique=True),
    Column("debit_account_id", BigInteger, nullable=False),
    Column("credit_account_id", BigInteger, nullable=False),
    Column("amount", BigInteger),  # a post or void may leave it out
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("pending_id", String(64)),
    Column("timeout_s", BigInteger, nullable=False),
    Column("user_data", String(128)),
    Column("result", String(40), nullable=False),
)

pending_transfers = Table(
    "pending_transfers",
    metadata,
    Column(
        "timestamp",
        RowId,
        ForeignKey("transfers.timestamp"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("debit_account_id", BigInteger, nullable=False),
    Column("credit_account_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("state", Integer, nullable=False),
    Index(
        "ix_pending_transfers_open_expiry",
        "expires_at",
        sqlite_where=text("state = 0 AND expires_at IS NOT NULL"),
        postgresql_where=text("state = 0 AND expires_at IS NOT NULL"),
    ),
)

# One row: the ledger's write version (every committed batch bumps it, so an
# engine can tell whether its cache of accounts is still current) and the
# last timestamp handed out (timestamps are unique and strictly increasing).
ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("last_timestamp", BigInteger, nullable=False),
)

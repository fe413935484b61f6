"""The ledger: ledgers, accounts, transfers, pending transfers, state, operator tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# INTEGER PRIMARY KEY is SQLite's rowid (see schema/ledger.py); BIGINT elsewhere.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _balance(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger, nullable=False)


def upgrade() -> None:
    op.create_table(
        "ledgers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("currency", sa.String(3), nullable=False, unique=True),
        sa.Column("exponent", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("ledger", sa.Integer, sa.ForeignKey("ledgers.id"), nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("user_data", sa.String(128)),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        *[_balance(n) for n in ("debits_pending", "debits_posted", "credits_pending",
                                "credits_posted", "last_transfer")],
    )
    op.create_table(
        "transfers",
        sa.Column("timestamp", ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(65), nullable=False, unique=True),
        sa.Column("debit_account_id", sa.BigInteger, nullable=False),
        sa.Column("credit_account_id", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("ledger", sa.Integer, nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("pending_id", sa.String(64)),
        sa.Column("timeout_s", sa.BigInteger, nullable=False),
        sa.Column("user_data", sa.String(128)),
        *[_balance(n) for n in ("debit_prev", "credit_prev")],
        *[_balance(f"{side}_{kind}") for side in ("debit", "credit")
          for kind in ("debits_pending", "debits_posted", "credits_pending", "credits_posted")],
    )
    op.create_table(
        "pending_transfers",
        sa.Column("timestamp", ROW_ID, sa.ForeignKey("transfers.timestamp"),
                  primary_key=True, autoincrement=False),
        sa.Column("debit_account_id", sa.BigInteger, nullable=False),
        sa.Column("credit_account_id", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("state", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_pending_transfers_open_expiry",
        "pending_transfers",
        ["expires_at"],
        sqlite_where=sa.text("state = 0 AND expires_at IS NOT NULL"),
        postgresql_where=sa.text("state = 0 AND expires_at IS NOT NULL"),
    )
    ledger_state = op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("last_timestamp", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(ledger_state, [{"id": 1, "version": 0, "last_timestamp": 0}])
    op.create_table(
        "operator_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
    )


def downgrade() -> None:
    for table in ("operator_tokens", "ledger_state", "pending_transfers", "transfers",
                  "accounts", "ledgers"):
        op.drop_table(table)

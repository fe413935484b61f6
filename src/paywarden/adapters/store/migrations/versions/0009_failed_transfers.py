"""Failed transfers: ids whose outcome is settled as a failure (issue 9).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# INTEGER PRIMARY KEY is SQLite's rowid (see schema/ledger.py); BIGINT elsewhere.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "transfers_failed",
        sa.Column("timestamp", ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(65), nullable=False, unique=True),
        sa.Column("debit_account_id", sa.BigInteger, nullable=False),
        sa.Column("credit_account_id", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger),
        sa.Column("ledger", sa.Integer, nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("pending_id", sa.String(64)),
        sa.Column("timeout_s", sa.BigInteger, nullable=False),
        sa.Column("user_data", sa.String(128)),
        sa.Column("result", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("transfers_failed")

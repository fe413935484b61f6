"""Four-eyes approvals: one table for every command one person must not carry out alone
(decision 0041).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("command_hash", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=False),
        sa.Column("submitted_actor", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("evidence_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("executed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approvals_state", "approvals", ["state", "submitted_at"])
    op.create_index("ix_approvals_kind", "approvals", ["kind", "submitted_at"])
    op.create_index("ix_approvals_hash", "approvals", ["command_hash"])


def downgrade() -> None:
    op.drop_index("ix_approvals_hash", table_name="approvals")
    op.drop_index("ix_approvals_kind", table_name="approvals")
    op.drop_index("ix_approvals_state", table_name="approvals")
    op.drop_table("approvals")

"""Recalls (camt.056 / camt.029) through the clearing network: one row per case a node
requested, relayed or received (decision 0061).

Revision ID: 0036
Revises: 0035
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearing_recalls",
        sa.Column("case_id", sa.String(length=35), primary_key=True),
        sa.Column("original_uetr", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("from_bic", sa.String(length=11), nullable=True),
        sa.Column("to_bic", sa.String(length=11), nullable=True),
        sa.Column("original_msg_id", sa.String(length=35), nullable=False),
        sa.Column("original_end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=4), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answer_reason", sa.String(length=4), nullable=True),
        sa.Column("return_id", sa.String(length=32), nullable=True),
        sa.Column("owed", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_clearing_recalls_original", "clearing_recalls", ["original_uetr"])
    op.create_index("ix_clearing_recalls_owed", "clearing_recalls",
                    ["owed", "next_at_ns"])


def downgrade() -> None:
    op.drop_index("ix_clearing_recalls_owed", table_name="clearing_recalls")
    op.drop_index("ix_clearing_recalls_original", table_name="clearing_recalls")
    op.drop_table("clearing_recalls")

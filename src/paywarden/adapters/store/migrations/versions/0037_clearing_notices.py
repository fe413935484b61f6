"""Settlement-account notifications (camt.054): what a hub owes each participant, and
what a node was told of its own accounts (decision 0062).

Revision ID: 0037
Revises: 0036
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearing_notices_out",
        sa.Column("receiver", sa.String(length=11), nullable=False),
        sa.Column("reference", sa.String(length=36), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit", sa.Integer(), nullable=False),
        sa.Column("booked_ns", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("receiver", "reference"),
    )
    op.create_index("ix_clearing_notices_out_due", "clearing_notices_out",
                    ["state", "next_at_ns"])
    op.create_table(
        "clearing_notices_in",
        sa.Column("sender", sa.String(length=11), nullable=False),
        sa.Column("reference", sa.String(length=36), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit", sa.Integer(), nullable=False),
        sa.Column("booked_ns", sa.BigInteger(), nullable=False),
        sa.Column("msg_id", sa.String(length=35), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sender", "reference"),
    )
    op.create_index("ix_clearing_notices_in_received", "clearing_notices_in",
                    ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_clearing_notices_in_received", table_name="clearing_notices_in")
    op.drop_table("clearing_notices_in")
    op.drop_index("ix_clearing_notices_out_due", table_name="clearing_notices_out")
    op.drop_table("clearing_notices_out")

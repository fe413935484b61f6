"""Deferred net settlement on a hub: windows, positions, their totals (decision 0057).

Revision ID: 0033
Revises: 0030 (the integrator re-chains it after 0031 and 0032, written at the same time)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "net_windows",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("opened_ns", sa.BigInteger(), nullable=False),
        sa.Column("closed_ns", sa.BigInteger()),
        sa.Column("settled_ns", sa.BigInteger()),
    )
    op.create_index("ux_net_windows_number", "net_windows", ["currency", "number"], unique=True)
    op.create_index("ix_net_windows_state", "net_windows", ["currency", "state"])
    op.create_table(
        "net_positions",
        sa.Column("uetr", sa.String(36), primary_key=True),
        sa.Column("window_id", sa.String(24)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payer", sa.String(11), nullable=False),
        sa.Column("payee", sa.String(11), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(9), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_net_positions_window", "net_positions", ["window_id"])
    op.create_table(
        "net_totals",
        sa.Column("window_id", sa.String(24), nullable=False),
        sa.Column("participant", sa.String(11), nullable=False),
        sa.Column("debits", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("window_id", "participant"),
    )
    op.create_table(
        "net_reserved",
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("participant", sa.String(11), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("currency", "participant"),
    )


def downgrade() -> None:
    op.drop_table("net_reserved")
    op.drop_table("net_totals")
    op.drop_index("ix_net_positions_window", table_name="net_positions")
    op.drop_table("net_positions")
    op.drop_index("ix_net_windows_state", table_name="net_windows")
    op.drop_index("ux_net_windows_number", table_name="net_windows")
    op.drop_table("net_windows")

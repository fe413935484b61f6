"""Transfers to other parties: payees, limits, what counted against them, standing orders.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_payees",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=70), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("cop", sa.String(length=16), nullable=False),
        sa.Column("evidence_id", sa.String(length=32), nullable=False),
        sa.Column("cooling_until", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bank_payees_user", "bank_payees", ["user_id", "created_at"])
    op.create_table(
        "bank_limits",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("pending_amount", sa.BigInteger(), nullable=True),
        sa.Column("pending_from", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "currency", "kind"),
    )
    op.create_table(
        "transfer_limit_uses",
        sa.Column("movement_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("counterparty_iban", sa.String(length=34), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("movement_id"),
    )
    op.create_index("ix_transfer_limit_uses_user", "transfer_limit_uses",
                    ["user_id", "currency", "created_at"])
    op.create_index("ix_transfer_limit_uses_payee", "transfer_limit_uses",
                    ["user_id", "counterparty_iban", "created_at"])
    op.create_table(
        "standing_orders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("from_account", sa.String(length=32), nullable=False),
        sa.Column("payee_id", sa.String(length=32), nullable=False),
        sa.Column("payee_iban", sa.String(length=34), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=70), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("start_on", sa.String(length=10), nullable=False),
        sa.Column("end_on", sa.String(length=10), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("next_on", sa.String(length=10), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("evidence_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_standing_orders_due", "standing_orders", ["state", "next_on"])
    op.create_index("ix_standing_orders_user", "standing_orders", ["user_id", "created_at"])
    op.create_table(
        "standing_order_runs",
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("on_date", sa.String(length=10), nullable=False),
        sa.Column("movement_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "on_date"),
    )


def downgrade() -> None:
    op.drop_table("standing_order_runs")
    op.drop_table("standing_orders")
    op.drop_table("transfer_limit_uses")
    op.drop_table("bank_limits")
    op.drop_table("bank_payees")

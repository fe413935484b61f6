"""Screening everywhere: rule back-tests, and indexes to find a decision by its object and
to page through the last days of decisions (decision 0036).

Revision ID: 0020
Revises: 0017 (0019 on main)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_backtests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("evaluated", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("run_by", sa.String(length=128), nullable=False),
        sa.Column("run_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_risk_backtests_version", "risk_backtests", ["version", "run_at"])
    op.create_index("ix_risk_decisions_object", "risk_decisions", ["object_id", "operation"])
    op.create_index("ix_risk_decisions_at", "risk_decisions", ["at", "id"])


def downgrade() -> None:
    op.drop_index("ix_risk_decisions_at", table_name="risk_decisions")
    op.drop_index("ix_risk_decisions_object", table_name="risk_decisions")
    op.drop_index("ix_risk_backtests_version", table_name="risk_backtests")
    op.drop_table("risk_backtests")

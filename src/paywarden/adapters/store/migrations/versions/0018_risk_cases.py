"""The analysts' queue: case outcomes, analysts' labels, reviews indexed by age.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_case_outcomes",
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    op.create_table(
        "risk_labels",
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("labelled_by", sa.String(length=128), nullable=False),
        sa.Column("labelled_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    op.create_index("ix_risk_labels_at", "risk_labels", ["labelled_at"])
    op.create_index("ix_risk_decisions_review", "risk_decisions", ["decision", "at"])


def downgrade() -> None:
    op.drop_index("ix_risk_decisions_review", table_name="risk_decisions")
    op.drop_index("ix_risk_labels_at", table_name="risk_labels")
    op.drop_table("risk_labels")
    op.drop_table("risk_case_outcomes")

"""A risk decision's subject holds both people of a four-eyes move (``usr_…+usr_…``), so
that neither of them answers its case (decision 0042): 64 characters, not 32.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk_decisions") as batch:
        batch.alter_column("subject", type_=sa.String(length=64),
                           existing_type=sa.String(length=32), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_decisions") as batch:
        batch.alter_column("subject", type_=sa.String(length=32),
                           existing_type=sa.String(length=64), existing_nullable=False)

"""Limit overrides: a customer's own maximum for a transfer limit, set above the bank's
by two members of staff (decision 0044).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_limits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override_max", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_limits", schema=None) as batch_op:
        batch_op.drop_column("override_max")

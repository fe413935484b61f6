"""A machine principal posts ledger transfers within its own limit: the largest transfer
its token may post, fixed when two security admins approved the credential (decision 0043).

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("amount_max", sa.BigInteger(), nullable=True))
    op.add_column("service_credential_grants",
                  sa.Column("amount_max", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_credential_grants") as batch:
        batch.drop_column("amount_max")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("amount_max")

"""Staff lifecycle: service credentials agreed by two people, redeemed once by their
submitter (decision 0043).

Revision ID: 0023
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_credential_grants",
        sa.Column("approval_id", sa.String(length=32), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("ttl_s", sa.BigInteger(), nullable=False),
        sa.Column("approved_at", sa.BigInteger(), nullable=False),
        sa.Column("redeem_by", sa.BigInteger(), nullable=False),
        sa.Column("redeemed_at", sa.BigInteger(), nullable=True),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("approval_id"),
    )


def downgrade() -> None:
    op.drop_table("service_credential_grants")

"""A merchant's people: invitations, the merchant's settings, and the merchant an
approval of a merchant kind belongs to (decision 0051).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_invitations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("email_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("invited_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index("ix_merchant_invitations_merchant_id", "merchant_invitations",
                    ["merchant_id"])
    op.create_table(
        "merchant_settings",
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("refund_approval_min", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.PrimaryKeyConstraint("merchant_id"),
    )
    op.add_column("approvals", sa.Column("merchant_id", sa.String(length=32), nullable=True))
    op.create_index("ix_approvals_merchant", "approvals", ["merchant_id", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_approvals_merchant", table_name="approvals")
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("merchant_id")
    op.drop_table("merchant_settings")
    op.drop_index("ix_merchant_invitations_merchant_id", table_name="merchant_invitations")
    op.drop_table("merchant_invitations")

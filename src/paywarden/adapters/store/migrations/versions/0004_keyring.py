"""The keyring: key_versions, one row per version of each platform key.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_versions",
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("master_key_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_secret", sa.LargeBinary(), nullable=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
        sa.Column("destroyed_at", sa.BigInteger(), nullable=True),
        sa.Column("not_after", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("purpose", "version"),
        sa.UniqueConstraint("kid"),
    )
    with op.batch_alter_table("key_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_key_versions_one_active", ["purpose"], unique=True,
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("key_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_key_versions_one_active")
    op.drop_table("key_versions")

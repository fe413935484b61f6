"""The credit registry of dishonest parties (decision 0031).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("evidence_ref", sa.String(length=128), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_entry_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_registry_entries_source", "registry_entries", ["source", "state"])
    op.create_table(
        "registry_identifiers",
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["registry_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_id", "kind", "digest"),
    )
    op.create_index("ix_registry_identifiers_digest", "registry_identifiers", ["digest"])
    op.create_table(
        "registry_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_registry_requests_state", "registry_requests",
                    ["state", "requested_at"])
    op.create_table(
        "registry_appeals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["registry_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_registry_appeals_due", "registry_appeals", ["state", "due_at"])
    op.create_table(
        "registry_sources",
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("trusted_by", sa.String(length=128), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=False),
        sa.Column("trusted_at", sa.BigInteger(), nullable=False),
        sa.Column("imported_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("issuer"),
    )
    op.create_table(
        "registry_exports",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("entries_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sequence"),
    )


def downgrade() -> None:
    op.drop_table("registry_exports")
    op.drop_table("registry_sources")
    op.drop_table("registry_appeals")
    op.drop_table("registry_requests")
    op.drop_table("registry_identifiers")
    op.drop_table("registry_entries")

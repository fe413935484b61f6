"""The audit entries of one object, found by index: a supervision report cites each
listed object's latest audit entry (decision 0047).

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_entries_object", "audit_entries", ["object", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_object", table_name="audit_entries")

"""The back office dashboard's hourly figures read an index range, not the table
(decision 0050): payments by creation time, payment events by type and time.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_payments_created", "payments", ["created_at"])
    op.create_index("ix_webhook_events_type_created", "webhook_events", ["type", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_events_type_created", table_name="webhook_events")
    op.drop_index("ix_payments_created", table_name="payments")

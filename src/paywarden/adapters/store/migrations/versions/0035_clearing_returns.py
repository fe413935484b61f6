"""Returns (pacs.004) through the clearing network: each row names the transfer it
returns, and a status owed to a bank names the message type it reports on (decision
0060).

Revision ID: 0035
Revises: 0034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

_RETURNED = ("hub_transfers", "bank_clearing_out", "bank_clearing_in")


def upgrade() -> None:
    for table in _RETURNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("original_uetr", sa.String(length=36), nullable=True))
    with op.batch_alter_table("clearing_outbox") as batch:
        batch.add_column(sa.Column("original_type", sa.String(length=32), nullable=True))
    for table in _RETURNED:  # "is this transfer being returned?" is asked by UETR
        op.create_index(f"ix_{table}_original", table, ["original_uetr"])


def downgrade() -> None:
    for table in _RETURNED:
        op.drop_index(f"ix_{table}_original", table_name=table)
    with op.batch_alter_table("clearing_outbox") as batch:
        batch.drop_column("original_type")
    for table in _RETURNED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("original_uetr")

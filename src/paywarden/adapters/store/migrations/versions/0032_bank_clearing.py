"""A participant bank's side of the clearing network: the pacs.008 messages it sent,
its outgoing transfers' UETRs and states, and the incoming transactions it accepted or
rejected (decision 0056).

Revision ID: 0032
Revises: 0031 (set to 0030 in the wt-bank branch, where 0031 does not exist yet: the
integrator re-chains it onto 0031)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_clearing_batches",
        sa.Column("msg_id", sa.String(35), primary_key=True),
        sa.Column("receiver", sa.String(11), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "bank_clearing_out",
        sa.Column("movement_id", sa.String(64), primary_key=True),
        sa.Column("uetr", sa.String(36), nullable=False, unique=True),
        sa.Column("end_to_end_id", sa.String(35), nullable=False),
        sa.Column("msg_id", sa.String(35), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("deadline_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_bank_clearing_out_state", "bank_clearing_out", ["state", "msg_id"])
    op.create_table(
        "bank_clearing_in",
        sa.Column("uetr", sa.String(36), primary_key=True),
        sa.Column("movement_id", sa.String(64)),
        sa.Column("end_to_end_id", sa.String(35)),
        sa.Column("tx_id", sa.String(35)),
        sa.Column("msg_id", sa.String(35)),
        sa.Column("fields_sha", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bank_clearing_in")
    op.drop_index("ix_bank_clearing_out_state", table_name="bank_clearing_out")
    op.drop_table("bank_clearing_out")
    op.drop_table("bank_clearing_batches")

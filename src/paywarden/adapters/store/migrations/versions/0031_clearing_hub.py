"""A clearing hub: its peers, the archive of ISO 20022 messages, the inter-bank transfers
it reserves and decides, and the final statuses it owes payee banks (decision 0055).

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearing_peers",
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("name", sa.String(length=140), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=4), nullable=False),
        sa.Column("net_debit_cap", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("via", sa.String(length=11), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bic"),
    )
    op.create_table(
        "clearing_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("msg_id", sa.String(length=35), nullable=False),
        sa.Column("sender", sa.String(length=11), nullable=False),
        sa.Column("receiver", sa.String(length=11), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("answer_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("direction", "sender", "msg_id", name="uq_clearing_messages_msg_id"),
    )
    op.create_index("ix_clearing_messages_at", "clearing_messages", ["at_ns"])
    op.create_table(
        "hub_transfers",
        sa.Column("uetr", sa.String(length=36), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("tx_id", sa.String(length=35), nullable=False),
        sa.Column("msg_id", sa.String(length=35), nullable=False),
        sa.Column("payer", sa.String(length=11), nullable=False),
        sa.Column("payee", sa.String(length=11), nullable=True),
        sa.Column("debtor_agent", sa.String(length=11), nullable=False),
        sa.Column("creditor_agent", sa.String(length=11), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=4), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=4), nullable=True),
        sa.Column("deadline_ns", sa.BigInteger(), nullable=False),
        sa.Column("fields_sha", sa.String(length=64), nullable=False),
        sa.Column("forward_msg_id", sa.String(length=35), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("uetr"),
    )
    op.create_index("ix_hub_transfers_state", "hub_transfers", ["state", "deadline_ns"])
    op.create_table(
        "clearing_outbox",
        sa.Column("uetr", sa.String(length=36), nullable=False),
        sa.Column("receiver", sa.String(length=11), nullable=False),
        sa.Column("original_msg_id", sa.String(length=35), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("tx_id", sa.String(length=35), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.String(length=4), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("uetr", "receiver"),
    )
    op.create_index("ix_clearing_outbox_due", "clearing_outbox", ["state", "next_at_ns"])


def downgrade() -> None:
    op.drop_table("clearing_outbox")
    op.drop_table("hub_transfers")
    op.drop_table("clearing_messages")
    op.drop_table("clearing_peers")

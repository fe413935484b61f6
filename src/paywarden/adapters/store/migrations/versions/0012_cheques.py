"""Electronic cheques and their presentations (decision 0026).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cheques",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("drawer_iban", sa.String(length=34), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("drawer_account_id", sa.String(length=32), nullable=True),
        sa.Column("drawer_user_id", sa.String(length=32), nullable=True),
        sa.Column("payee_iban", sa.String(length=34), nullable=False),
        sa.Column("payee_account_id", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("expires_on", sa.String(length=10), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("bounce_reason", sa.String(length=32), nullable=True),
        sa.Column("presented_by", sa.String(length=32), nullable=True),
        sa.Column("presented_at", sa.BigInteger(), nullable=True),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("drawer_iban", "serial", name="uq_cheques_drawer_serial"),
    )
    op.create_index("ix_cheques_drawer_account", "cheques", ["drawer_account_id", "created_at"])
    op.create_index("ix_cheques_payee_account", "cheques", ["payee_account_id", "created_at"])
    op.create_table(
        "cheque_presentations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("cheque_id", sa.String(length=32), nullable=True),
        sa.Column("presenter_user_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cheque_presentations_cheque", "cheque_presentations",
                    ["cheque_id", "created_at"])
    op.create_index("ix_cheque_presentations_presenter", "cheque_presentations",
                    ["presenter_user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cheque_presentations_presenter", table_name="cheque_presentations")
    op.drop_index("ix_cheque_presentations_cheque", table_name="cheque_presentations")
    op.drop_table("cheque_presentations")
    op.drop_index("ix_cheques_payee_account", table_name="cheques")
    op.drop_index("ix_cheques_drawer_account", table_name="cheques")
    op.drop_table("cheques")

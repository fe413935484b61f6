"""Indexes the risk engine's feature providers read by (decision 0035): the customers
on one device, the customers holding one payee, a merchant's payments of the last days.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sign_in_origins_digest", "sign_in_origins", ["kind", "digest"])
    op.create_index("ix_bank_payees_iban", "bank_payees", ["iban"])
    op.create_index("ix_payments_merchant_created", "payments", ["merchant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_payments_merchant_created", table_name="payments")
    op.drop_index("ix_bank_payees_iban", table_name="bank_payees")
    op.drop_index("ix_sign_in_origins_digest", table_name="sign_in_origins")

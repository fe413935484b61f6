"""Merchant certification: applications (sealed), domains, the platform CA, certificates.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_applications",
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("legal_name_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("registration_number_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("address_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("contact_email_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.PrimaryKeyConstraint("merchant_id"),
    )
    op.create_table(
        "merchant_domains",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", sa.BigInteger(), nullable=True),
        sa.Column("check_error", sa.String(length=32), nullable=True),
        sa.Column("verified_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("merchant_id", "domain", name="uq_merchant_domains_merchant_domain"),
    )
    op.create_index("ix_merchant_domains_merchant_id", "merchant_domains", ["merchant_id"])
    op.create_table(
        "ca_certificates",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
        sa.UniqueConstraint("serial"),
    )
    op.create_table(
        "merchant_certificates",
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_key_id", sa.String(length=64), nullable=False),
        sa.Column("ca_key_id", sa.String(length=64), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suspended_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["ca_key_id"], ["ca_certificates.key_id"]),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_index("ix_merchant_certificates_merchant_id", "merchant_certificates",
                    ["merchant_id"])


def downgrade() -> None:
    op.drop_index("ix_merchant_certificates_merchant_id", table_name="merchant_certificates")
    op.drop_table("merchant_certificates")
    op.drop_table("ca_certificates")
    op.drop_index("ix_merchant_domains_merchant_id", table_name="merchant_domains")
    op.drop_table("merchant_domains")
    op.drop_table("merchant_applications")

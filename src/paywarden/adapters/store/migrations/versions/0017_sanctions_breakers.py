"""Sanctions lists and reviews; circuit breakers, their counts and manual resets.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sanctions_lists",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("loaded_by", sa.String(length=128), nullable=False),
        sa.Column("loaded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sanctions_lists_loaded", "sanctions_lists", ["loaded_at"])
    op.create_table(
        "sanctions_entities",
        sa.Column("list_id", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("schema", sa.String(length=32), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("birth_dates", sa.Text(), nullable=False),
        sa.Column("countries", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["sanctions_lists.id"]),
        sa.PrimaryKeyConstraint("list_id", "entity_id", name="pk_sanctions_entities"),
    )
    op.create_table(
        "sanctions_reviews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_ref", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("screened_name", sa.String(length=256), nullable=False),
        sa.Column("list_id", sa.String(length=32), nullable=False),
        sa.Column("hits", sa.Text(), nullable=False),
        sa.Column("score_max", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sanctions_reviews_subject", "sanctions_reviews",
                    ["subject_ref", "created_at"])
    op.create_table(
        "risk_breakers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("tripped_on", sa.String(length=16), nullable=True),
        sa.Column("rate_ppm", sa.Integer(), nullable=True),
        sa.Column("movements", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.BigInteger(), nullable=True),
        sa.Column("half_open_at", sa.BigInteger(), nullable=True),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("probes_bad", sa.Integer(), nullable=False),
        sa.Column("counts_since", sa.BigInteger(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope"),
    )
    op.create_table(
        "risk_breaker_counts",
        sa.Column("scope", sa.String(length=160), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "bucket", "outcome", name="pk_risk_breaker_counts"),
    )
    op.create_table(
        "risk_breaker_resets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("breaker_id", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["breaker_id"], ["risk_breakers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_risk_breaker_resets_breaker", "risk_breaker_resets",
                    ["breaker_id", "state"])


def downgrade() -> None:
    op.drop_table("risk_breaker_resets")
    op.drop_table("risk_breaker_counts")
    op.drop_table("risk_breakers")
    op.drop_table("sanctions_reviews")
    op.drop_table("sanctions_entities")
    op.drop_table("sanctions_lists")

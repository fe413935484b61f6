"""Payment identities and parked timers: checkout sessions unique per (merchant,
order_ref), refunds by client-chosen refund_id, a parked reason and back-off count.

Sessions created before this revision may share an order_ref; all but the oldest of
each such group get theirs suffixed with ``~<session id>`` (still unique, the original
kept as prefix) so that the unique index can be built.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ORDER_REF_PREFIX_CHARS = 100  # + "~" + a 27-character session id fits String(128)


def upgrade() -> None:
    _suffix_duplicate_order_refs()
    op.create_index("uq_checkout_sessions_merchant_order", "checkout_sessions",
                    ["merchant_id", "order_ref"], unique=True)
    op.add_column("payments", sa.Column("parked_reason", sa.String(length=64), nullable=True))
    op.add_column("payments", sa.Column("parked_at", sa.BigInteger(), nullable=True))
    op.add_column("payments", sa.Column("timer_attempts", sa.Integer(), nullable=False,
                                        server_default="0"))
    op.create_index("ix_payments_parked_at", "payments", ["parked_at"])
    op.create_table(
        "payment_refunds",
        sa.Column("payment_id", sa.String(length=32), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", "refund_id"),
    )


def _suffix_duplicate_order_refs() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, merchant_id, order_ref FROM checkout_sessions "
        "ORDER BY merchant_id, order_ref, created_at, id")).all()
    seen: set[tuple[str, str]] = set()
    for session_id, merchant_id, order_ref in rows:
        if (merchant_id, order_ref) not in seen:
            seen.add((merchant_id, order_ref))
            continue
        conn.execute(sa.text("UPDATE checkout_sessions SET order_ref = :ref WHERE id = :id"),
                     {"ref": f"{order_ref[:ORDER_REF_PREFIX_CHARS]}~{session_id}",
                      "id": session_id})


def downgrade() -> None:
    op.drop_table("payment_refunds")
    op.drop_index("ix_payments_parked_at", table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("timer_attempts")
        batch.drop_column("parked_at")
        batch.drop_column("parked_reason")
    op.drop_index("uq_checkout_sessions_merchant_order", table_name="checkout_sessions")

"""Sealed fields: personal data and TOTP secrets move to sealed columns; the card vault.

A migration cannot reach the master key, so it cannot seal. It moves every
clear-text value into ``sealing_backlog`` and drops the clear-text columns; the
first start-up afterwards (``services.sealed.seal_legacy``) seals the backlog
into the new ``*_sealed`` columns and empties it. Until then an old row's
sealed columns are NULL and its username index is ``legacy:<id>``.

The clear-text columns are dropped with ALTER TABLE … DROP COLUMN (SQLite 3.35+
and PostgreSQL alike) rather than by copying tables: ``users`` is referenced by
foreign keys, which a copy-and-rename under ``foreign_keys=ON`` cannot drop.

Downgrade cannot open sealed values either: it refuses while any table holds a
sealed value, rather than lose personal data.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# table -> (key SQL, [(clear-text column, sealed column, clear-text type)])
_MOVED: dict[str, tuple[str, list[tuple[str, str, sa.types.TypeEngine[Any]]]]] = {
    "users": ("id", [("username", "username_sealed", sa.String(64)),
                     ("display_name", "display_name_sealed", sa.String(128)),
                     ("email", "email_sealed", sa.String(254)),
                     ("anti_phishing_phrase", "anti_phishing_phrase_sealed", sa.String(64))]),
    "totp_factors": ("user_id", [("secret", "secret_sealed", sa.String(64))]),
    "sessions": ("id", [("label", "label_sealed", sa.String(128)),
                        ("user_agent", "user_agent_sealed", sa.String(256)),
                        ("address", "address_sealed", sa.String(64))]),
    "notifications": ("id", [("subject", "subject_sealed", sa.String(200)),
                             ("body", "body_sealed", sa.Text())]),
    "idempotency_keys": ("", [("response_body", "response_body_sealed", sa.LargeBinary())]),
}
_BINARY = {"response_body"}


def _bytes(dialect: str, column: str) -> str:
    if column in _BINARY:
        return column
    return f"CAST({column} AS BLOB)" if dialect == "sqlite" else f"convert_to({column}, 'UTF8')"


def _row_key(dialect: str, table: str, key: str) -> str:
    if table == "idempotency_keys":  # a JSON array of the composite key, as row_id() makes it
        return ("json_array(principal, key)" if dialect == "sqlite"
                else "json_build_array(principal, key)::text")
    return key


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "sealing_backlog",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "column_name", "row_key"),
    )
    for table, (key, moved) in _MOVED.items():
        for clear, sealed, _ in moved:
            op.execute(
                "INSERT INTO sealing_backlog (table_name, column_name, row_key, value) "
                f"SELECT '{table}', '{sealed}', {_row_key(dialect, table, key)}, "
                f"{_bytes(dialect, clear)} FROM {table} WHERE {clear} IS NOT NULL")
    # The unique username column becomes the unique blind-index column.
    op.execute("ALTER TABLE users RENAME COLUMN username TO username_index")
    op.execute("UPDATE users SET username_index = 'legacy:' || id")
    for table, (_, moved) in _MOVED.items():
        for clear, sealed, _ in moved:
            if clear != "username":
                op.execute(f"ALTER TABLE {table} DROP COLUMN {clear}")
            op.add_column(table, sa.Column(sealed, sa.LargeBinary(), nullable=True))
    op.create_table(
        "cards",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=16), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("number_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("holder_name_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "fingerprint", name="uq_cards_owner_fingerprint"),
    )


def downgrade() -> None:
    conn = op.get_bind()
    held = [t for t in [*_MOVED, "cards", "sealing_backlog"]
            if conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()]
    if held:
        raise RuntimeError("downgrade below 0005 would lose sealed personal data: tables "
                           f"{', '.join(held)} are not empty")
    op.drop_table("cards")
    for table, (_, moved) in _MOVED.items():
        for clear, sealed, kind in moved:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {sealed}")
            if clear != "username":
                op.add_column(table, sa.Column(clear, kind, nullable=True))
    op.execute("ALTER TABLE users RENAME COLUMN username_index TO username")
    op.drop_table("sealing_backlog")

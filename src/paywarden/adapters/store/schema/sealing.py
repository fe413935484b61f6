"""Plaintext written before sealing existed, waiting to be sealed.

Migration 0005 moves every personal value of the old clear-text columns here,
because a migration cannot reach the master key. The first start-up after it
(``services.sealed.seal_legacy``) seals each value into its ``*_sealed`` column
and deletes the row; SQLite runs with ``secure_delete`` so the freed bytes are
overwritten. In a running platform this table is empty.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, PrimaryKeyConstraint, String, Table, Text

from .base import metadata

sealing_backlog = Table(
    "sealing_backlog",
    metadata,
    Column("table_name", String(64), nullable=False),
    Column("column_name", String(64), nullable=False),  # the *_sealed column it goes to
    Column("row_key", Text, nullable=False),  # the primary key: a value, or a JSON array
    Column("value", LargeBinary, nullable=False),  # UTF-8 text, or the bytes as they were
    PrimaryKeyConstraint("table_name", "column_name", "row_key"),
)

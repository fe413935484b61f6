"""What people did: every staff action and every refused access decision.

Issue 4 turns these rows into the leaves of a Merkle tree; until then they are
a plain append-only record.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from .base import metadata

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(128), nullable=False),  # usr_… / mer_… / cli:<login> / system
    Column("action", String(64), nullable=False),  # e.g. merchant.create, access.denied
    Column("object", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | denied | failed
    Column("detail", Text, nullable=False),  # JSON, never a secret
)

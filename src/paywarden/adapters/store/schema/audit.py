"""The audit log: append-only entries, their Merkle tree and its signed heads.

``audit_entries.leaf`` holds the exact RFC 8785 bytes hashed into the tree; the
other columns repeat its fields so that they can be queried, and
``paywarden audit verify`` checks that they agree. ``audit_nodes`` stores every
perfect subtree hash (level, idx) so proofs read O(log n) rows. Database
triggers refuse UPDATE, DELETE and TRUNCATE on these three tables (migration
0003). ``audit_head`` is the one mutable row: the tree size, whose row lock
orders appends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)

from .base import metadata
from .ledger import RowId

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=False),  # the leaf index, from 0
    Column("at", BigInteger, nullable=False),  # ns since the epoch
    Column("actor", String(128), nullable=False),  # usr_… / mer_… / cli:<login> / system
    Column("action", String(64), nullable=False),  # e.g. merchant.create, access.denied
    Column("object", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | denied | failed
    Column("detail", Text, nullable=False),  # canonical JSON, never a secret or personal data
    Column("leaf", LargeBinary, nullable=False),
    # A supervision report cites each object's latest entry (decision 0047, migration 0026).
    Index("ix_audit_entries_object", "object", "seq"),
)

audit_nodes = Table(
    "audit_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

audit_tree_heads = Table(
    "audit_tree_heads",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("timestamp", BigInteger, nullable=False),  # ms since the epoch
    Column("key_id", String(64), nullable=False),
    Column("signature", LargeBinary, nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("size", BigInteger, nullable=False),
)

APPEND_ONLY = ("audit_entries", "audit_nodes", "audit_tree_heads")

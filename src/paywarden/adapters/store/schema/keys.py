"""The keyring: every version of every platform key, its secret wrapped by the master key.

One row per (purpose, version). ``wrapped_secret`` is the secret wrapped by the
master key with the context ``key_versions/<purpose>/<version>``; it is NULL once
the version is destroyed. Signing purposes also keep their Ed25519 public key,
which outlives the secret. At most one version per purpose is active: a partial
unique index says so on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)

from .base import metadata

key_versions = Table(
    "key_versions",
    metadata,
    Column("purpose", String(16), nullable=False),  # data | blind_index | tree_heads | …
    Column("version", Integer, nullable=False),  # 1, 2, … per purpose
    Column("kid", String(64), nullable=False, unique=True),
    Column("state", String(16), nullable=False),  # active | retired | destroyed
    Column("master_key_id", String(64), nullable=False),  # which master key wrapped it
    Column("wrapped_secret", LargeBinary, nullable=True),  # NULL once destroyed
    Column("public_key", LargeBinary, nullable=True),  # raw Ed25519, signing purposes
    Column("created_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger, nullable=True),
    Column("destroyed_at", BigInteger, nullable=True),
    Column("not_after", BigInteger, nullable=True),  # end of its cryptoperiod; NULL: none
    PrimaryKeyConstraint("purpose", "version"),
    Index("ix_key_versions_one_active", "purpose", unique=True,
          sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
)

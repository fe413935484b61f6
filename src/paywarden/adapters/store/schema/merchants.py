"""Merchants and the Ed25519 public keys that sign their requests.

Only public keys are stored: a copy of this table cannot sign as anyone.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, Table

from .base import metadata

merchants = Table(
    "merchants",
    metadata,
    Column("id", String(32), primary_key=True),  # mer_…
    Column("name", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # active | suspended | revoked
    Column("created_at", BigInteger, nullable=False),
)

merchant_keys = Table(
    "merchant_keys",
    metadata,
    Column("id", String(64), primary_key=True),  # key_…: the RFC 9421 keyid
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("public_key", LargeBinary, nullable=False),  # raw 32-byte Ed25519 key
    Column("label", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

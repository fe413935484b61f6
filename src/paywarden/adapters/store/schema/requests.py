"""Per-request bookkeeping: seen signature nonces and stored idempotent responses."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table, Text

from .base import SEALED, metadata

# A nonce is refused if seen for the same key within the replay window.
request_nonces = Table(
    "request_nonces",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(64), primary_key=True),  # who sent it: keys are per principal
    Column("key", String(255), primary_key=True),
    Column("request_sha256", String(64), nullable=False),  # method, path and body
    Column("state", String(8), nullable=False),  # running | done
    Column("status_code", Integer),
    Column("response_headers", Text),  # JSON
    Column("response_body_sealed", LargeBinary, info=SEALED),  # may echo personal data: sealed
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

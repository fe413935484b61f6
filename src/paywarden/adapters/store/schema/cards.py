"""The card vault: card numbers sealed, found again by a keyed fingerprint.

The number and the holder's name are sealed (AES-256-GCM envelope, bound to
``cards``/column/token); brand, last four and expiry are kept in clear so that
lists and receipts can show them. ``fingerprint`` is a keyed blind index of
(owner, number): the same card stored twice by one owner finds its first token,
and without the blind-index key it tells nothing about the number.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from .base import SEALED, metadata

cards = Table(
    "cards",
    metadata,
    Column("id", String(32), primary_key=True),  # the token: card_…
    Column("owner", String(32), nullable=False),  # the customer (or merchant) it belongs to
    Column("fingerprint", String(64), nullable=False),  # blind index of owner + number
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("number_sealed", LargeBinary, info=SEALED, nullable=False),
    Column("holder_name_sealed", LargeBinary, info=SEALED, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("owner", "fingerprint", name="uq_cards_owner_fingerprint"),
)

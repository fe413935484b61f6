"""Staff activity counts per person, kind and hour, for insider analytics (migration
0025, decision 0046). Counts only: what was looked at is in the audit log."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, PrimaryKeyConstraint, String, Table

from .base import metadata

staff_activity = Table(
    "staff_activity",
    metadata,
    Column("actor", String(128), nullable=False),  # the person: usr_… or cli:…
    Column("kind", String(16), nullable=False),  # view | reveal | export | write
    Column("hour", BigInteger, nullable=False),  # the hour's start, ns since the epoch
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("actor", "kind", "hour"),
)

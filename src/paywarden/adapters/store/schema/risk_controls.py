"""Sanctions lists and reviews, and circuit breakers (migration 0017, decision 0032).

``sanctions_lists`` keeps every list ever loaded (its SHA-256, source file name, count,
who loaded it); ``sanctions_entities`` holds the entities of the current list only (a
load replaces them in one transaction). ``sanctions_reviews`` is a hit waiting for an
analyst, until the risk engine's case queue takes these over.

``risk_breakers`` holds one row per scope that has ever tripped (a scope without a row
is closed); ``risk_breaker_counts`` the outcomes per scope in time buckets, summed over
the scope's sliding window; ``risk_breaker_resets`` the manual resets, each requested
by one member of staff and approved by another.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from .base import metadata

sanctions_lists = Table(
    "sanctions_lists",
    metadata,
    Column("id", String(32), primary_key=True),  # sl_…
    Column("sha256", String(64), nullable=False),
    Column("source", String(200), nullable=False),  # the file's name, not its path
    Column("entity_count", Integer, nullable=False),
    Column("loaded_by", String(128), nullable=False),
    Column("loaded_at", BigInteger, nullable=False),
    Index("ix_sanctions_lists_loaded", "loaded_at"),
)

sanctions_entities = Table(
    "sanctions_entities",
    metadata,
    Column("list_id", String(32), ForeignKey("sanctions_lists.id"), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("schema", String(32), nullable=False),  # Person, Organization, …
    Column("names", Text, nullable=False),  # JSON list: name, aliases, previous names
    Column("birth_dates", Text, nullable=False),  # JSON list
    Column("countries", Text, nullable=False),  # JSON list of ISO codes, lower case
    PrimaryKeyConstraint("list_id", "entity_id", name="pk_sanctions_entities"),
)

sanctions_reviews = Table(
    "sanctions_reviews",
    metadata,
    Column("id", String(32), primary_key=True),  # sr_…
    Column("subject_ref", String(128), nullable=False),  # payee, merchant or customer id
    Column("kind", String(16), nullable=False),  # person | organization | any
    Column("screened_name", String(256), nullable=False),  # read by the risk role only
    Column("list_id", String(32), nullable=False),
    Column("hits", Text, nullable=False),  # JSON: [{entity_id, score, matched_name}]
    Column("score_max", Integer, nullable=False),  # percent
    Column("state", String(16), nullable=False),  # open (decided by the engine's cases)
    Column("created_at", BigInteger, nullable=False),
    Index("ix_sanctions_reviews_subject", "subject_ref", "created_at"),
)

risk_breakers = Table(
    "risk_breakers",
    metadata,
    Column("id", String(32), primary_key=True),  # brk_…
    Column("scope", String(160), nullable=False, unique=True),  # e.g. card_bin:411111
    Column("state", String(16), nullable=False),  # closed | open | half_open
    Column("tripped_on", String(16)),  # the watched rate that tripped it
    Column("rate_ppm", Integer),  # its rate then, parts per million
    Column("movements", Integer),  # the movements in the window then
    Column("opened_at", BigInteger),
    Column("half_open_at", BigInteger),
    Column("probes", Integer, nullable=False),  # movements let through while half-open
    Column("probes_bad", Integer, nullable=False),
    Column("counts_since", BigInteger, nullable=False),  # outcomes before a close are past
    Column("trips", Integer, nullable=False),
    Column("version", Integer, nullable=False),  # compare-and-set on every change
    Column("updated_at", BigInteger, nullable=False),
)

risk_breaker_counts = Table(
    "risk_breaker_counts",
    metadata,
    Column("scope", String(160), nullable=False),
    Column("bucket", BigInteger, nullable=False),  # bucket start, ns
    Column("outcome", String(16), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("scope", "bucket", "outcome", name="pk_risk_breaker_counts"),
)

risk_breaker_resets = Table(
    "risk_breaker_resets",
    metadata,
    Column("id", String(32), primary_key=True),  # brr_…
    Column("breaker_id", String(32), ForeignKey("risk_breakers.id"), nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("approved_by", String(128)),
    Column("approved_at", BigInteger),
    Column("state", String(16), nullable=False),  # pending | approved | superseded
    Index("ix_risk_breaker_resets_breaker", "breaker_id", "state"),
)

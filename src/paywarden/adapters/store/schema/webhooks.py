"""Webhooks (endpoints, the outbox of events, the delivery log) and signed receipts.

An event's payload holds ids, amounts and states only, never personal data: it
is sent to the merchant and kept for the delivery log. The endpoint URL is
sealed (``url_sealed``, row id the merchant id): merchants often put a secret
path or token in it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .base import SEALED, metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("merchant_id", String(32), ForeignKey("merchants.id"), primary_key=True),
    Column("url_sealed", LargeBinary, info=SEALED, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(32), primary_key=True),  # evt_…
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("type", String(64), nullable=False),  # payment.held, …
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("created_at", BigInteger, nullable=False),
    Column("audit_index", BigInteger),
    Column("state", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger),  # when pending
    Column("retry_from", BigInteger, nullable=False),  # the retry horizon runs from here
    Index("ix_webhook_events_due", "state", "next_attempt_at"),
    Index("ix_webhook_events_merchant", "merchant_id", "created_at", "id"),
    Index("ix_webhook_events_type_created", "type", "created_at"),  # the dashboard (0027)
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("event_id", String(32), ForeignKey("webhook_events.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("error", String(64)),  # timeout | connect | redirect | no_endpoint | …; never a body
    Column("duration_ms", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # the event's state after this attempt
    Column("next_attempt_at", BigInteger),
    PrimaryKeyConstraint("event_id", "attempt"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", String(32), primary_key=True),  # rct_…
    Column("payment_id", String(32), nullable=False, index=True),
    Column("audience", String(16), nullable=False),  # buyer | merchant
    Column("jws", Text, nullable=False),
    Column("audit_index", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("payment_id", "audience", "audit_index"),
)

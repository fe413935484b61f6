"""The credit registry of dishonest parties (services/registry, decision 0031).

No column holds an identifier in plaintext: ``registry_identifiers.digest`` is the
keyed hash of a normalised identifier (HMAC-SHA-256 under the ``registry_index`` key).

``registry_entries``      one subject: a reason category, an evidence reference (ours
                          only; never shown to the subject nor exported), who asked and
                          who approved, an expiry, and its source: ``local`` or the
                          issuer of the feed it came from (then ``source_entry_id``)
``registry_identifiers``  the hashed identifiers of an entry, looked up by digest
``registry_requests``     a change asked by one member of staff, applied when another
                          approves it; ``body`` is JSON of digests and categories
``registry_appeals``      a subject's appeal: a case with a state and a due date
``registry_sources``      other institutions whose feeds we import: their JWKS and the
                          last sequence imported (replays and gaps are refused)
``registry_exports``      each feed we signed, by sequence number
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from .base import metadata

registry_entries = Table(
    "registry_entries",
    metadata,
    Column("id", String(32), primary_key=True),  # reg_<24 hex>
    Column("reason", String(32), nullable=False),
    Column("evidence_ref", String(128), nullable=True),  # None for imported entries
    Column("source", String(200), nullable=False),  # "local" or a feed's issuer
    Column("source_entry_id", String(64), nullable=True),
    Column("state", String(16), nullable=False),  # live | removed
    Column("requested_by", String(128), nullable=False),
    Column("approved_by", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Index("ix_registry_entries_source", "source", "state"),
)

registry_identifiers = Table(
    "registry_identifiers",
    metadata,
    Column("entry_id", String(32), ForeignKey("registry_entries.id", ondelete="CASCADE"),
           primary_key=True),
    Column("kind", String(24), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Index("ix_registry_identifiers_digest", "digest"),
)

registry_requests = Table(
    "registry_requests",
    metadata,
    Column("id", String(32), primary_key=True),  # rrq_<24 hex>
    Column("action", String(16), nullable=False),
    Column("entry_id", String(32), nullable=True),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending | approved | withdrawn
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("decided_by", String(128), nullable=True),
    Column("decided_at", BigInteger, nullable=True),
    Index("ix_registry_requests_state", "state", "requested_at"),
)

registry_appeals = Table(
    "registry_appeals",
    metadata,
    Column("id", String(32), primary_key=True),  # rap_<24 hex>
    Column("entry_id", String(32), ForeignKey("registry_entries.id"), nullable=False),
    Column("state", String(16), nullable=False),  # open | upheld | overturned
    Column("opened_by", String(128), nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Index("ix_registry_appeals_due", "state", "due_at"),
)

registry_sources = Table(
    "registry_sources",
    metadata,
    Column("issuer", String(200), primary_key=True),
    Column("jwks", Text, nullable=False),
    Column("last_sequence", BigInteger, nullable=False),  # 0: nothing imported yet
    Column("trusted_by", String(128), nullable=False),
    Column("approved_by", String(128), nullable=False),
    Column("trusted_at", BigInteger, nullable=False),
    Column("imported_at", BigInteger, nullable=True),
)

registry_exports = Table(
    "registry_exports",
    metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("issued_by", String(128), nullable=False),
    Column("entries_count", BigInteger, nullable=False),
)

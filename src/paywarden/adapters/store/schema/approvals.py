"""Four-eyes approvals (migration 0021, decision 0041).

``approvals`` holds each submitted command as its canonical text and hash, who
submitted and who decided it, the step-up evidence the decision was signed with, and
what executing it did. Rows are never deleted; a state change is a compare-and-set
on ``state``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from .base import metadata

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(32), primary_key=True),  # apr_…
    Column("kind", String(32), nullable=False),
    Column("command", Text, nullable=False),  # canonical JSON (domain/approvals.py)
    Column("command_hash", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),  # minor units; 0 when it moves no money
    Column("currency", String(3), nullable=False),  # XXX when it moves no money
    Column("summary", String(300), nullable=False),  # one line for the inbox
    Column("submitted_by", String(128), nullable=False),  # the person: usr_… or cli:…
    Column("submitted_actor", String(200), nullable=False),  # with the session, for audit
    Column("submitted_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", BigInteger),
    Column("evidence_id", String(32)),  # the approver's or rejecter's step-up evidence
    Column("reason", String(500)),  # a rejection's, a withdrawal's or a failure's
    Column("result", Text),  # JSON: what the execution did
    Column("executed_at", BigInteger),
    Column("merchant_id", String(32)),  # a merchant kind's merchant (0051); NULL for staff's
    Index("ix_approvals_state", "state", "submitted_at"),
    Index("ix_approvals_kind", "kind", "submitted_at"),
    Index("ix_approvals_hash", "command_hash"),
    Index("ix_approvals_merchant", "merchant_id", "submitted_at"),
)

"""The analysts' queue: outcomes of reviewed decisions, and analysts' labels.

A case is a ``risk_decisions`` row whose decision is ``review`` (no table of its own: the
queue is derived, so the engine's recording path is not touched). ``risk_case_outcomes``
holds one row per case answered — its primary key is the decision's id, so a case is
answered once whatever two analysts do at the same moment; ``result`` is the held
object's state once the resolver ran (null: claimed, not yet carried out).
``risk_labels`` holds an analyst's label of a decision (``fraud`` | ``false_positive``),
the retrain's feedback.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from .base import metadata
from .risk import risk_decisions

risk_case_outcomes = Table(
    "risk_case_outcomes",
    metadata,
    Column("decision_id", String(32), primary_key=True),  # rsk_…: the case
    Column("outcome", String(16), nullable=False),  # release | decline
    Column("reason", String(200), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("result", String(16)),  # the held object's state after; null: not carried out
)

risk_labels = Table(
    "risk_labels",
    metadata,
    Column("decision_id", String(32), primary_key=True),
    Column("label", String(16), nullable=False),  # fraud | false_positive
    Column("labelled_by", String(128), nullable=False),
    Column("labelled_at", BigInteger, nullable=False),
    Index("ix_risk_labels_at", "labelled_at"),
)

# The queue reads open reviews by age: without this it scans every decision ever made.
Index("ix_risk_decisions_review", risk_decisions.c.decision, risk_decisions.c.at)

"""Risk screening: every decision with what it saw, the rule sets, rule requests, and the
events the velocity features count.

``risk_decisions`` holds one row per screening (``rsk_…``): the canonical features, the
rule set and model versions, the score, the reasons and the decision applied (``engine``
says whether the engine answered or the movement kind's fallback did). Each row is also
an audit leaf whose ``after`` digest covers the row, so a changed row no longer matches.
``risk_events`` is one row per velocity key per screening (``customer:usr_…``,
``payee:<keyed digest>``, ``device:<digest>``…): a sliding window is a range count on
``(key, at)``. ``risk_rule_sets`` keeps every version ever published;
``risk_rule_requests`` the requests to change a rule's state and who approved them;
``risk_backtests`` the back-tests run of a version (one is needed before an approval).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from .base import metadata

risk_decisions = Table(
    "risk_decisions",
    metadata,
    Column("id", String(32), primary_key=True),  # rsk_…
    Column("subject", String(64), nullable=False),  # usr_…, mer_…, or usr_…+usr_… (four eyes)
    Column("operation", String(64), nullable=False),  # bank.internal, payment.pay …
    Column("object_id", String(64), nullable=False),  # the movement's or payment's id
    Column("features", Text, nullable=False),  # canonical JSON (domain.risk.Features)
    Column("rules_version", Integer, nullable=False),
    Column("model_version", String(64)),
    Column("score", Float),
    Column("reasons", Text, nullable=False),  # JSON array
    Column("detail", Text, nullable=False),  # JSON: shadow rules matched, score reasons
    Column("decision", String(16), nullable=False),  # allow | step_up | review | decline
    Column("engine", String(16), nullable=False),  # ok | timeout | error (fallback applied)
    Column("elapsed_us", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_risk_decisions_subject", "subject", "at"),
    Index("ix_risk_decisions_object", "object_id", "operation"),  # a refused id stays so
    Index("ix_risk_decisions_at", "at", "id"),  # back-tests page through the last N days
)

risk_events = Table(
    "risk_events",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("decision_id", String(32), primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Index("ix_risk_events_key_at", "key", "at"),
)

risk_rule_sets = Table(
    "risk_rule_sets",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("rules", Text, nullable=False),  # canonical JSON (domain.risk.RuleSet)
    Column("created_by", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

risk_rule_requests = Table(
    "risk_rule_requests",
    metadata,
    Column("id", String(32), primary_key=True),  # rrq_…
    Column("version", Integer, nullable=False),  # the version the request was made against
    Column("rule_id", String(48), nullable=False),
    Column("to_state", String(16), nullable=False),  # active | shadow
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("approved_by", String(128)),
    Column("approved_at", BigInteger),
    Column("result_version", Integer),  # the version the approval published
)

risk_backtests = Table(
    "risk_backtests",
    metadata,
    Column("id", String(32), primary_key=True),  # rbt_…
    Column("version", Integer, nullable=False),  # the rule set version tested
    Column("days", Integer, nullable=False),
    Column("evaluated", Integer, nullable=False),  # decisions the rules ran on
    Column("report", Text, nullable=False),  # JSON: per rule matched, by recorded, changed
    Column("run_by", String(128), nullable=False),
    Column("run_at", BigInteger, nullable=False),
    Index("ix_risk_backtests_version", "version", "run_at"),
)

"""Interest accruals and staff alerts.

``interest_accruals`` holds one row per savings account and UTC day: the balance the
day earned on, the rate, and the interest in micro-units (a millionth of a minor unit,
domain/banking/interest.py). The primary key (account, day) is what makes the daily
run idempotent: a day accrued is never accrued again, and a run killed half-way
resumes at the first day without a row. The monthly posting is derived from these rows
and made exactly once by its movement id (``int_<account>_<YYYYMM>``).

``staff_alerts`` is a small, general store of alerts for staff (the safeguarding
reconciliation now; risk and the back office later). ``detail`` is JSON of ids and
figures only, never personal data: alerts are read by many staff roles. ``dedupe_key``
(unique when set) lets a job raise the same alert once however often it runs.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from .base import metadata

interest_accruals = Table(
    "interest_accruals",
    metadata,
    Column("account_id", String(32), nullable=False),  # acc_…
    Column("day", String(10), nullable=False),  # YYYY-MM-DD, UTC
    Column("month", Integer, nullable=False),  # YYYYMM: a posting sums one month
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger, nullable=False),  # the day's closing booked balance
    Column("rate_bps", Integer, nullable=False),
    Column("accrued_micro", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "day", name="pk_interest_accruals"),
    Index("ix_interest_accruals_month", "account_id", "month"),
)

staff_alerts = Table(
    "staff_alerts",
    metadata,
    Column("id", String(32), primary_key=True),  # alr_…
    Column("kind", String(64), nullable=False),  # e.g. safeguarding.shortfall
    Column("severity", String(16), nullable=False),  # info | warning | critical
    Column("subject", String(200), nullable=False),
    Column("detail", Text, nullable=False),  # JSON: ids and figures, no personal data
    Column("dedupe_key", String(128), unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("acknowledged_by", String(128)),
    Column("acknowledged_at", BigInteger),
    Index("ix_staff_alerts_created", "created_at", "id"),
)

"""Deferred net settlement on a hub (decision 0057): windows, positions and their totals.

``net_windows``: one row per window (``EUR-7``), open → closed → settled.
``net_positions``: one row per transfer on the net channel, by UETR: reserved, then
committed into a window or released. ``net_totals``: per window and participant, the
committed debits and credits (the window's obligations are credits − debits), and
``net_reserved`` per currency and participant the amount reserved and not yet committed:
both are kept up to date by increments, so a batch reads a participant's exposure in a
few rows, however many transfers the unsettled windows hold.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table

from .base import metadata

net_windows = Table(
    "net_windows",
    metadata,
    Column("id", String(24), primary_key=True),  # <currency>-<number>
    Column("currency", String(3), nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", String(8), nullable=False),  # open | closed | settled
    Column("opened_ns", BigInteger, nullable=False),
    Column("closed_ns", BigInteger),
    Column("settled_ns", BigInteger),
    Index("ux_net_windows_number", "currency", "number", unique=True),
    Index("ix_net_windows_state", "currency", "state"),
)

net_positions = Table(
    "net_positions",
    metadata,
    Column("uetr", String(36), primary_key=True),
    Column("window_id", String(24)),  # set when committed
    Column("currency", String(3), nullable=False),
    Column("payer", String(11), nullable=False),
    Column("payee", String(11), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("state", String(9), nullable=False),  # reserved | committed | released
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
    Index("ix_net_positions_window", "window_id"),
)

net_totals = Table(
    "net_totals",
    metadata,
    Column("window_id", String(24), nullable=False),
    Column("participant", String(11), nullable=False),
    Column("debits", BigInteger, nullable=False),
    Column("credits", BigInteger, nullable=False),
    PrimaryKeyConstraint("window_id", "participant"),
)

net_reserved = Table(
    "net_reserved",
    metadata,
    Column("currency", String(3), nullable=False),
    Column("participant", String(11), nullable=False),
    Column("amount", BigInteger, nullable=False),
    PrimaryKeyConstraint("currency", "participant"),
)

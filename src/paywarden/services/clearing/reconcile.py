"""`paywarden clearing reconcile`: this node's view against its counterparties' statements.

A bank compares its settled transfers with its hub's camt.053 of its settlement account:
every transfer out is a debit there, every transfer in a credit, once each. A hub
compares, for each peer hub, its own record of what crossed between them with the
peer's statement of this hub's account there (hub A's view of B against B's view of A):
what A settled towards B is a debit on A's account at B, what came from B a credit.

Each UETR is then one of: matching; in flight (final on one side, still pending on the
other: the final status is on its way); or a **difference** (final on both sides with
other amounts or directions, or settled on one side and rejected or unknown on the
other), each named.

The bookings the hub notified as they happened (camt.054, ``notices.py``) are checked
the same way: a notified booking this node holds otherwise, or not at all, is a
difference too (``"source": "camt.054"``), found before the day's statement is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from ...adapters.store import Database
from ...adapters.store.schema import (
    bank_clearing_in,
    bank_clearing_out,
    bank_transfers,
    hub_transfers,
)
from ...domain.clearing.messages import Statement
from . import notices
from .peers import Peers, Role
from .statements import Statements

PENDING_BANK = ("sent", "accepted")
PENDING_HUB = ("reserved", "forwarded")


@dataclass
class Report:
    node: str
    checked: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    counterparties: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {"node": self.node, "counterparties": self.counterparties,
                "checked": self.checked, "differences": self.differences,
                "in_flight": self.in_flight}


def compare(report: Report, counterparty: str, ours: dict[str, int], pending: set[str],
            theirs: dict[str, int], their_pending: set[str], *,
            source: str = "camt.053") -> None:
    """``ours`` and ``theirs``: settled amounts by UETR, signed as seen on the same
    account (a debit negative); ``pending``: UETRs still open on that side. Notified
    bookings (``source`` camt.054) are some of the account's, so only theirs are
    checked."""
    if counterparty not in report.counterparties:
        report.counterparties.append(counterparty)
    notified = source == "camt.054"
    for uetr in sorted(set(theirs) if notified else set(ours) | set(theirs)):
        report.checked += not notified  # a UETR is counted once, on the statement
        mine, other = ours.get(uetr), theirs.get(uetr)
        if mine == other:
            continue
        if (mine is None and uetr in pending) or (other is None and uetr in their_pending):
            if uetr not in report.in_flight:
                report.in_flight.append(uetr)
            continue
        report.differences.append({"uetr": uetr, "counterparty": counterparty,
                                   "ours": mine, "theirs": other, "source": source})


def _notified(conn: Connection, sender: str) -> dict[str, int]:
    return {n["reference"]: n["amount"] * (1 if n["credit"] else -1)
            for n in notices.received(conn, sender=sender)}


def _entries(statement: Statement) -> dict[str, int]:
    return {e.reference: e.amount.amount_minor * (1 if e.credit else -1)
            for e in statement.entries}


class Reconciler:
    def __init__(self, database: Database, *, statements: Statements, peers: Peers,
                 bic: str) -> None:
        self._database = database
        self._statements = statements
        self._peers = peers
        self._bic = bic

    def bank(self, hub: str) -> Report:
        report = Report(self._bic)
        statement = self._statements.fetch(hub)
        with self._database.engine.connect() as conn:
            out = conn.execute(select(bank_clearing_out.c.uetr, bank_clearing_out.c.state,
                                      bank_transfers.c.amount).join(
                bank_transfers, bank_transfers.c.id == bank_clearing_out.c.movement_id)).all()
            into = conn.execute(select(bank_clearing_in.c.uetr, bank_clearing_in.c.state,
                                       bank_transfers.c.amount).join(
                bank_transfers, bank_transfers.c.id == bank_clearing_in.c.movement_id)).all()
            notified = _notified(conn, hub)
        ours = {u: -a for u, s, a in out if s == "settled"}
        ours |= {u: a for u, s, a in into if s == "settled"}
        pending = {u for u, s, _ in [*out, *into] if s in PENDING_BANK}
        compare(report, hub, ours, pending, _entries(statement), set())
        compare(report, hub, ours, pending, notified, set(), source="camt.054")
        return report

    def hub(self) -> Report:
        report = Report(self._bic)
        for peer in self._peers.list():
            if peer.role is not Role.HUB:
                continue
            statement = self._statements.fetch(peer.bic)
            with self._database.engine.connect() as conn:
                rows = conn.execute(select(hub_transfers.c.uetr, hub_transfers.c.state,
                                           hub_transfers.c.amount, hub_transfers.c.payee)
                                    .where((hub_transfers.c.payee == peer.bic)
                                           | (hub_transfers.c.payer == peer.bic))).all()
                notified = _notified(conn, peer.bic)
            # On this hub, what went towards the peer credits the peer's account here;
            # on the peer, the same transfer debits this hub's account there.
            ours = {u: (-a if payee == peer.bic else a) for u, s, a, payee in rows
                    if s == "settled"}
            pending = {u for u, s, _a, _p in rows if s in PENDING_HUB}
            compare(report, peer.bic, ours, pending, _entries(statement), set())
            compare(report, peer.bic, ours, pending, notified, set(), source="camt.054")
        return report

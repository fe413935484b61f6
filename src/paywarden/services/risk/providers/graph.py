"""Graph features: one device or payee shared across many customers, and mule chains.

``device_customers`` (customers who ever signed in from the screening's device) and
``payee_customers`` (customers holding this payee) are two indexed counts in one round
trip (indexes of migration 0019). The customer base is small around one device or payee,
so a count is the whole neighbourhood; no graph library is needed for a degree.

``chain_depth`` walks quick in-then-out transfers backwards from the sender: depth 1 if
money reached the sender's account within :data:`CHAIN_GAP_S_MAX` before this movement
(it came in and goes straight on), 2 if the account that sent it had itself received
money within that gap before sending, and so on, up to :data:`CHAIN_DEPTH_MAX`. Each hop
is one query on ``ix_bank_transfers_to`` over at most :data:`CHAIN_FANOUT_MAX` senders;
an ordinary customer with no recent inflow costs one query, which finds nothing.
Transfers between a customer's own accounts and interest are not hops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy import ScalarSelect, and_, func, or_, select

from ....adapters.store.schema import bank_payees, bank_transfers, sign_in_origins
from ....domain.risk import Value
from ...risk_model.features import CHAIN_GAP_S_MAX
from ..features import Context

NS = 1_000_000_000
CHAIN_DEPTH_MAX = 4
CHAIN_FANOUT_MAX = 8  # senders followed per hop
_HOPS = ("internal", "external", "deposit", "cheque", "standing_order", "withdrawal")
_ARRIVED = ("posted", "pending")


class Graph:
    provides: ClassVar[Mapping[str, str]] = {
        "device_customers": "number", "payee_customers": "number", "chain_depth": "number"}

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        s = ctx.subject
        device = ctx.notes.get("device")
        counts: list[ScalarSelect[int]] = []
        if device is not None:
            counts.append(select(func.count(func.distinct(sign_in_origins.c.user_id))).where(
                sign_in_origins.c.kind == "device",
                sign_in_origins.c.digest == device).scalar_subquery())
        if s.counterparty is not None:
            counts.append(select(func.count(func.distinct(bank_payees.c.user_id))).where(
                bank_payees.c.iban == s.counterparty,
                bank_payees.c.deleted_at.is_(None)).scalar_subquery())
        found = list(ctx.conn.execute(select(*counts)).one()) if counts else []
        device_n = int(found.pop(0)) if device is not None else 0
        payee_n = int(found.pop(0)) if s.counterparty is not None else 0
        return {"device_customers": device_n, "payee_customers": payee_n,
                "chain_depth": self._chain(ctx)}

    def _chain(self, ctx: Context) -> int:
        if ctx.subject.account_id is None:
            return 0
        t = bank_transfers.c
        gap_ns = CHAIN_GAP_S_MAX * NS
        frontier = [(ctx.subject.account_id, ctx.now_ns)]
        depth = 0
        for _ in range(CHAIN_DEPTH_MAX):
            rows = ctx.conn.execute(select(t.from_account, t.created_at).where(
                or_(*[and_(t.to_account == account, t.created_at > at - gap_ns,
                           t.created_at <= at) for account, at in frontier]),
                t.kind.in_(_HOPS), t.state.in_(_ARRIVED)).order_by(
                t.created_at.desc()).limit(CHAIN_FANOUT_MAX)).all()
            if not rows:
                break
            depth += 1
            frontier = [(r[0], r[1]) for r in rows if r[0] is not None]
            if not frontier:
                break
        return depth

"""Graph features: one device or payee shared across many customers, and mule chains.

``device_customers`` (customers who ever signed in from the screening's device) and
``payee_customers`` (customers holding this payee) are two indexed counts in one round
trip (indexes of migration 0019). Every statement is built once (per frontier width for
the chain's hops) and run through the engine's compiled reads. The customer base is small around one device or payee,
so a count is the whole neighbourhood; no graph library is needed for a degree.

``chain_depth`` walks quick in-then-out transfers backwards from the sender: depth 1 if
money reached the sender's account within :data:`CHAIN_GAP_S_MAX` before this movement
(it came in and goes straight on), 2 if the account that sent it had itself received
money within that gap before sending, and so on, up to :data:`CHAIN_DEPTH_MAX`. Each hop
is one query on ``ix_bank_transfers_to`` over at most :data:`CHAIN_FANOUT_MAX` senders;
an ordinary customer with no recent inflow costs one query, which finds nothing.
Transfers between a customer's own accounts and interest are not hops.

``inflow_age_s`` comes from the same first hop: seconds since money last reached the
sending account, when that was within the chain's gap; otherwise the model's cap
(:data:`INFLOW_AGE_S_MAX`, "none lately") — an inflow older than the gap reads as none,
the approximation named in decision 0038.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import Select, and_, bindparam, func, or_, select

from ....adapters.store.schema import bank_payees, bank_transfers, sign_in_origins
from ....domain.risk import Value
from ...risk_model.features import CHAIN_GAP_S_MAX, INFLOW_AGE_S_MAX
from ..features import Context
from ..reads import one_of

NS = 1_000_000_000
CHAIN_DEPTH_MAX = 4
CHAIN_FANOUT_MAX = 8  # senders followed per hop
_HOPS = ("internal", "external", "deposit", "cheque", "standing_order", "withdrawal")
_ARRIVED = ("posted", "pending")


def _degree() -> Select[Any]:
    """Customers on the device and holding the payee, in one round trip (a NULL digest
    or IBAN counts nobody)."""
    return select(
        select(func.count(func.distinct(sign_in_origins.c.user_id))).where(
            sign_in_origins.c.kind == "device",
            sign_in_origins.c.digest == bindparam("device")).scalar_subquery(),
        select(func.count(func.distinct(bank_payees.c.user_id))).where(
            bank_payees.c.iban == bindparam("iban"),
            bank_payees.c.deleted_at.is_(None)).scalar_subquery())


@lru_cache(maxsize=CHAIN_FANOUT_MAX)
def _hop(width: int) -> Select[Any]:
    """Transfers that arrived at any of ``width`` accounts within the gap before each
    account's own moment (bind parameters ``a<i>``, ``at<i>``, ``since<i>``)."""
    t = bank_transfers.c
    return select(t.from_account, t.created_at).where(
        or_(*[and_(t.to_account == bindparam(f"a{i}"), t.created_at > bindparam(f"since{i}"),
                   t.created_at <= bindparam(f"at{i}")) for i in range(width)]),
        t.kind.in_(one_of(_HOPS)), t.state.in_(one_of(_ARRIVED))).order_by(
        t.created_at.desc()).limit(CHAIN_FANOUT_MAX)


class Graph:
    provides: ClassVar[Mapping[str, str]] = {
        "device_customers": "number", "payee_customers": "number", "chain_depth": "number",
        "inflow_age_s": "number"}

    DEGREE = _degree()

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        s = ctx.subject
        device = ctx.notes.get("device")
        device_n = payee_n = 0
        if device is not None or s.counterparty is not None:
            device_n, payee_n = ctx.reads.rows(self.DEGREE, {"device": device,
                                                             "iban": s.counterparty})[0]
        depth, inflow_at = self._chain(ctx)
        age_s = INFLOW_AGE_S_MAX if inflow_at is None else (ctx.now_ns - inflow_at) // NS
        return {"device_customers": int(device_n or 0), "payee_customers": int(payee_n or 0),
                "chain_depth": depth, "inflow_age_s": age_s}

    def _chain(self, ctx: Context) -> tuple[int, int | None]:
        """The chain's depth, and when money last reached the sender (None: not within
        the gap)."""
        if ctx.subject.account_id is None:
            return 0, None
        gap_ns = CHAIN_GAP_S_MAX * NS
        frontier = [(ctx.subject.account_id, ctx.now_ns)]
        depth, inflow_at = 0, None
        for _ in range(CHAIN_DEPTH_MAX):
            params: dict[str, Any] = {}
            for i, (account, at) in enumerate(frontier):
                params.update({f"a{i}": account, f"at{i}": at, f"since{i}": at - gap_ns})
            rows = ctx.reads.rows(_hop(len(frontier)), params)
            if not rows:
                break
            if depth == 0:
                inflow_at = max(int(r[1]) for r in rows)
            depth += 1
            frontier = [(r[0], r[1]) for r in rows if r[0] is not None]
            if not frontier:
                break
        return depth, inflow_at

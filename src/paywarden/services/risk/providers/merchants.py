"""The merchant's dispute and refund rates over 30 days, for a movement with a merchant.

One query per merchant per ``cache_s`` (conditional counts over the merchant's payments
of the last 30 days, on ``ix_payments_merchant_created`` of migration 0019), then held in
memory: a 30-day rate moves slowly, and a busy merchant's screenings must not each count
its month of payments. Bounded: the least recently used merchant goes first.

A payment counts when it was paid (not created, cancelled, expired unpaid or declined by an
analyst after review); a dispute is a payment in ``disputed`` or settled by ``split``; a
refund is a payment with a refund.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy import bindparam, case, exists, func, select

from ....adapters.store.schema import payment_refunds, payments
from ....domain.risk import Value
from ..features import Context
from ..reads import one_of

NS = 1_000_000_000
WINDOW_NS = 30 * 86_400 * NS
MERCHANTS_CACHED_MAX = 10_000
_UNPAID = ("created", "cancelled", "expired", "declined")  # declined: never paid on
_DISPUTED = ("disputed", "split")


class MerchantRates:
    provides: ClassVar[Mapping[str, str]] = {
        "merchant_refund_rate_30d": "number", "merchant_dispute_rate_30d": "number",
        "merchant_payments_30d": "number"}

    RATES = select(
        func.count(), func.sum(case((payments.c.state.in_(one_of(_DISPUTED)), 1), else_=0)),
        func.sum(case((exists().where(payment_refunds.c.payment_id == payments.c.id), 1),
                      else_=0))).where(
        payments.c.merchant_id == bindparam("merchant"),
        payments.c.created_at >= bindparam("since"), payments.c.state.not_in(one_of(_UNPAID)))

    def __init__(self, *, cache_s: int) -> None:
        self._cache_ns = cache_s * NS
        self._lock = threading.Lock()
        self._held: OrderedDict[str, tuple[int, dict[str, Value]]] = OrderedDict()

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        merchant = ctx.subject.merchant_id
        if merchant is None:
            return {name: 0 for name in self.provides}
        with self._lock:
            held = self._held.get(merchant)
            if held is not None and ctx.now_ns - held[0] < self._cache_ns:
                return held[1]
        paid, disputed, refunds = ctx.reads.rows(self.RATES, {
            "merchant": merchant, "since": ctx.now_ns - WINDOW_NS})[0]
        n = int(paid or 0)
        rates: dict[str, Value] = {
            "merchant_refund_rate_30d": int(refunds or 0) / n if n else 0.0,
            "merchant_dispute_rate_30d": int(disputed or 0) / n if n else 0.0,
            "merchant_payments_30d": n}
        with self._lock:
            self._held[merchant] = (ctx.now_ns, rates)
            while len(self._held) > MERCHANTS_CACHED_MAX:
                self._held.popitem(last=False)
        return rates

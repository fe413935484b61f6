"""The features of :mod:`paywarden.services.risk_model.features`, computed in time order
from what was known before each movement: the reference the risk engine's live
computation is held to (same names, same units)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict, deque
from dataclasses import dataclass, field

import numpy as np

from ..services.risk_model.features import (
    CHAIN_GAP_S_MAX,
    FEATURES,
    INFLOW_AGE_S_MAX,
    PAYEE_AGE_H_MAX,
    RATIO_MAX,
)
from .events import CARD, DISPUTE, REFUND, STAFF, TRANSFER, Txn

HOUR_S = 3_600.0
DAY_S = 86_400.0
HISTORY_MAX = 50  # amounts kept per customer for the median


class _Window:
    """Timestamps (and values) of the last ``span_s`` seconds for one key."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self.items: deque[tuple[float, float, str]] = deque()

    def add(self, ts: float, value: float = 1.0, tag: str = "") -> None:
        self.items.append((ts, value, tag))

    def trim(self, now: float) -> None:
        while self.items and self.items[0][0] <= now - self.span_s:
            self.items.popleft()

    def count(self, now: float, within_s: float) -> int:
        self.trim(now)
        if within_s >= self.span_s:
            return len(self.items)
        n = 0
        for ts, _, _ in reversed(self.items):  # newest first: stop at the window's edge
            if ts <= now - within_s:
                break
            n += 1
        return n

    def total(self, now: float, within_s: float) -> float:
        self.trim(now)
        return sum(v for ts, v, _ in self.items if ts > now - within_s)


@dataclass
class _State:
    windows: dict[str, _Window] = field(default_factory=dict)
    amounts: defaultdict[int, deque[int]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=HISTORY_MAX)))
    hours: defaultdict[int, list[float]] = field(
        default_factory=lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    seen: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    payee_first: dict[tuple[int, str], float] = field(default_factory=dict)
    last_in: dict[int, tuple[float, int]] = field(default_factory=dict)  # (ts, chain depth)


def featurize(txns: list[Txn], opened_s: dict[int, float] | None = None,
              ) -> tuple[np.ndarray, np.ndarray, list[Txn]]:
    """(X, y, movements): one row of FEATURES per movement (disputes only update state)."""
    state, rows, labels, kept = _State(), [], [], []
    for t in txns:
        if t.op == DISPUTE:
            _w(state, f"mdisp:{t.merchant}").add(t.ts_s)
            continue
        rows.append(_row(state, t, (opened_s or {}).get(t.customer, -365 * DAY_S)))
        labels.append(1 if t.fraud else 0)
        kept.append(t)
        _record(state, t)
    x = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
    return x, np.asarray(labels, dtype=np.int8), kept


def _bin(card: str) -> str:
    """The card's BIN: a simulated fingerprint is ``<BIN>-<customer>``."""
    return card.split("-", 1)[0]


LONG = ("mpay:", "mref:", "mdisp:", "buy:", "refund:", "cmbuy:", "cmref:")  # 30-day windows; the rest 24 h


def _w(state: _State, key: str) -> _Window:
    found = state.windows.get(key)
    if found is None:
        found = state.windows[key] = _Window(30 * DAY_S if key.startswith(LONG) else DAY_S)
    return found


def _row(s: _State, t: Txn, opened_s: float) -> list[float]:
    now, c = t.ts_s, t.customer
    history = s.amounts[c]
    median = statistics.median(history) if history else 0.0
    hour = (now % DAY_S) / HOUR_S
    sin_sum, cos_sum, n_hours = s.hours[c]
    if n_hours:
        habit = (math.degrees(math.atan2(sin_sum, cos_sum)) % 360.0) / 15.0
        gap = abs(hour - habit) % 24.0
        hour_gap = min(gap, 24.0 - gap)
    else:
        hour_gap = 0.0
    first = s.payee_first.get((c, t.payee)) if t.payee else None
    payee_age_h = PAYEE_AGE_H_MAX if not t.payee else (
        0.0 if first is None else min(PAYEE_AGE_H_MAX, (now - first) / HOUR_S))
    pays = _w(s, f"mpay:{t.merchant}").count(now, 30 * DAY_S) if t.merchant >= 0 else 0
    refunds_m = _w(s, f"mref:{t.merchant}").count(now, 30 * DAY_S) if t.merchant >= 0 else 0
    disputes_m = _w(s, f"mdisp:{t.merchant}").count(now, 30 * DAY_S) if t.merchant >= 0 else 0
    bought = _w(s, f"buy:{c}").total(now, 30 * DAY_S)
    refunded = _w(s, f"refund:{c}").total(now, 30 * DAY_S)
    inflow = s.last_in.get(c)
    inflow_age = INFLOW_AGE_S_MAX if inflow is None else min(INFLOW_AGE_S_MAX, now - inflow[0])
    refund = t.op == REFUND
    pair = f"{c}:{t.merchant}"
    pair_refunds = _w(s, f"cmref:{pair}").total(now, 30 * DAY_S) if refund else 0.0
    pair_bought = _w(s, f"cmbuy:{pair}").total(now, 30 * DAY_S) if refund else 0.0
    received = _w(s, f"in:{c}").total(now, DAY_S) if t.op == TRANSFER else 0.0
    card_devices = {tag for ts, _, tag in _w(s, f"carddev:{t.card}").items
                    if ts > now - DAY_S} if t.card else set()
    values = {
        "op_card": float(t.op == CARD), "op_transfer": float(t.op == TRANSFER),
        "op_refund": float(t.op == REFUND), "op_staff": float(t.op == STAFF),
        "amount_log": math.log1p(t.amount_minor),
        "amount_vs_median": t.amount_minor / median if median else 1.0,
        "velocity_customer_1h": _w(s, f"cust:{c}").count(now, HOUR_S),
        "velocity_customer_24h": _w(s, f"cust:{c}").count(now, DAY_S),
        "velocity_device_1h": _w(s, f"dev:{t.device}").count(now, HOUR_S),
        "velocity_card_1h": _w(s, f"card:{t.card}").count(now, HOUR_S) if t.card else 0,
        "velocity_address_24h": _w(s, f"addr:{t.address}").count(now, DAY_S),
        "velocity_payee_24h": _w(s, f"payee:{t.payee}").count(now, DAY_S) if t.payee else 0,
        "velocity_bin_1h": _w(s, f"bin:{_bin(t.card)}").count(now, HOUR_S) if t.card else 0,
        "declines_card_1h": _w(s, f"dcard:{t.card}").count(now, HOUR_S) if t.card else 0,
        "declines_address_1h": _w(s, f"daddr:{t.address}").count(now, HOUR_S),
        "new_device": float(t.op != REFUND and t.device not in s.seen[f"cdev:{c}"]),
        "new_address": float(t.op != REFUND and t.address not in s.seen[f"caddr:{c}"]),
        "new_payee": float(bool(t.payee) and payee_age_h < 24.0),
        "payee_age_h": payee_age_h,
        "account_age_d": (now - opened_s) / DAY_S,
        "hour_of_day": float(int(hour)), "hour_vs_habit_h": hour_gap,
        "merchant_refund_rate_30d": refunds_m / pays if pays else 0.0,
        "merchant_dispute_rate_30d": disputes_m / pays if pays else 0.0,
        "customer_refunds_30d": _w(s, f"refund:{c}").count(now, 30 * DAY_S),
        "customer_refund_ratio_30d": min(RATIO_MAX, refunded / bought) if bought else (
            RATIO_MAX if refunded else 0.0),
        "merchant_refunds_to_customer_30d":
            _w(s, f"cmref:{pair}").count(now, 30 * DAY_S) if refund else 0,
        "refund_vs_purchases_30d": 0.0 if not refund else (
            min(RATIO_MAX, (pair_refunds + t.amount_minor) / pair_bought) if pair_bought
            else RATIO_MAX),
        "device_customers": len(s.seen[f"devc:{t.device}"]),
        "address_customers": len(s.seen[f"addrc:{t.address}"]),
        "card_devices_24h": len(card_devices),
        "payee_customers": len(s.seen[f"payeec:{t.payee}"]) if t.payee else 0,
        "inflow_age_s": inflow_age,
        "passthrough_ratio_24h": min(RATIO_MAX, t.amount_minor / received) if received else 0.0,
        "chain_depth": float(inflow[1]) if inflow and now - inflow[0] < CHAIN_GAP_S_MAX else 0.0,
        "staff_moves_24h": _w(s, f"staff:{t.staff}").count(now, DAY_S) if t.op == STAFF else 0,
    }
    return [float(values[name]) for name in FEATURES]


def _record(s: _State, t: Txn) -> None:
    now, c = t.ts_s, t.customer
    _w(s, f"cust:{c}").add(now)
    _w(s, f"dev:{t.device}").add(now)
    _w(s, f"addr:{t.address}").add(now)
    if t.card:
        _w(s, f"card:{t.card}").add(now)
        _w(s, f"carddev:{t.card}").add(now, tag=t.device)
        _w(s, f"bin:{_bin(t.card)}").add(now)
        if t.declined:
            _w(s, f"dcard:{t.card}").add(now)
    if t.declined:
        _w(s, f"daddr:{t.address}").add(now)
        return
    if t.op == REFUND:
        _w(s, f"refund:{c}").add(now, t.amount_minor)
        _w(s, f"mref:{t.merchant}").add(now)
        _w(s, f"cmref:{c}:{t.merchant}").add(now, t.amount_minor)
        return
    s.amounts[c].append(t.amount_minor)
    angle = math.radians(((now % DAY_S) / HOUR_S) * 15.0)
    s.hours[c][0] += math.sin(angle)
    s.hours[c][1] += math.cos(angle)
    s.hours[c][2] += 1
    if t.op != STAFF:
        s.seen[f"cdev:{c}"].add(t.device)
        s.seen[f"caddr:{c}"].add(t.address)
        s.seen[f"devc:{t.device}"].add(str(c))
        s.seen[f"addrc:{t.address}"].add(str(c))
    else:
        _w(s, f"staff:{t.staff}").add(now)
    if t.op == CARD:
        _w(s, f"buy:{c}").add(now, t.amount_minor)
        _w(s, f"mpay:{t.merchant}").add(now)
        _w(s, f"cmbuy:{c}:{t.merchant}").add(now, t.amount_minor)
    if t.payee:
        _w(s, f"payee:{t.payee}").add(now)
        s.payee_first.setdefault((c, t.payee), now)
        s.seen[f"payeec:{t.payee}"].add(str(c))
        if t.payee.startswith("c") and t.payee[1:].isdigit():
            depth_in = s.last_in.get(c)
            depth = depth_in[1] if depth_in and now - depth_in[0] < CHAIN_GAP_S_MAX else 0
            receiver = int(t.payee[1:])
            s.last_in[receiver] = (now, depth + 1)
            _w(s, f"in:{receiver}").add(now, t.amount_minor)

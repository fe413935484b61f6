"""The engine's features as the learned model's: one mapping for scoring a live movement and
for retraining on recorded decisions, so the model never sees one thing in training and
another in service.

The engine's features (services/risk/features.py and the providers) are those its rules
are written against, not the model's 36 (:data:`.features.FEATURES`). :func:`derived` maps
what is present; a model feature whose inputs are absent is left out. Scoring a live
movement fills those with 0 — what the simulator gives a movement without that fact (a
bank transfer has no card) — and the retrain with ``None``, *missing*, which LightGBM
routes down each split's learned default branch: an old decision recorded fewer features,
and a zero would claim a fact nobody saw. Approximations, named in decisions 0034 and
0035: ``hour_of_day`` is UTC, ``payee_age_h`` counts from when the payee was added, not
first paid, ``amount_vs_median`` is against the engine's floored 90-day median, and
``inflow_age_s`` reads an inflow older than the chain gap as none, ``hour_vs_habit_h`` is
against the account's outgoing movements of 90 days, ``staff_moves_24h`` is the staff
member's own screened moves (their velocity as the subject), and the refund-history
features are not computed yet. A movement without a counterparty (``payee_present`` false: a card pay, a
top-up) has no payee, as in the simulator, not a brand-new one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .features import FEATURES, INFLOW_AGE_S_MAX, PAYEE_AGE_H_MAX

CARD_KINDS = frozenset({"pay", "card_top_up"})
REFUND_KINDS = frozenset({"refund"})
STAFF_KINDS = frozenset({"staff"})  # a staff member's move (a dispute decision)
HOUR_S, DAY_S = 3600, 86_400
COPIED = ("velocity_customer_1h", "velocity_customer_24h", "velocity_device_1h",
          "velocity_card_1h", "velocity_bin_1h", "velocity_address_24h", "velocity_payee_24h",
          "new_device", "new_address", "merchant_refund_rate_30d", "merchant_dispute_rate_30d",
          "device_customers", "payee_customers", "chain_depth", "inflow_age_s",
          "hour_vs_habit_h")


def _number(features: Mapping[str, object], name: str) -> float | None:
    value = features.get(name)
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else None


def derived(features: Mapping[str, object]) -> dict[str, float]:
    """The model features that follow from the engine's (the rest are absent)."""
    out: dict[str, float] = {}
    kind = features.get("kind")
    if isinstance(kind, str):
        out["op_card"] = float(kind in CARD_KINDS)
        out["op_refund"] = float(kind in REFUND_KINDS)
        out["op_staff"] = float(kind in STAFF_KINDS)
        out["op_transfer"] = float(kind not in CARD_KINDS | REFUND_KINDS | STAFF_KINDS)
        moves = _number(features, "velocity_customer_24h")
        if kind in STAFF_KINDS and moves is not None:  # the staff member is the subject
            out["staff_moves_24h"] = moves
    amount = _number(features, "amount_minor")
    if amount is not None:
        out["amount_log"] = math.log1p(amount)
    ratio, history = _number(features, "amount_ratio_90d"), _number(features, "history_n_90d")
    median = _number(features, "median_90d_minor")
    if ratio is not None and history is not None:
        out["amount_vs_median"] = ratio if history else 1.0
    elif amount is not None and median is not None:  # decisions recorded before the ratio
        out["amount_vs_median"] = amount / median if median > 0 else 1.0
    for name in COPIED:
        value = _number(features, name)
        if value is not None:
            out[name] = value
    known, cooling = features.get("payee_known"), features.get("payee_cooling")
    age_s = _number(features, "payee_age_s")
    if features.get("payee_present") is False:  # no counterparty: the simulator's no-payee
        out["new_payee"], out["payee_age_h"] = 0.0, PAYEE_AGE_H_MAX
    elif isinstance(known, bool) and age_s is not None:
        out["new_payee"] = float(not known or bool(cooling) or age_s < DAY_S)
        out["payee_age_h"] = min(age_s / HOUR_S, PAYEE_AGE_H_MAX) if known else 0.0
    account_age_s = _number(features, "account_age_s")
    if account_age_s is not None:
        out["account_age_d"] = account_age_s / DAY_S
    hour = _number(features, "hour_utc")
    if hour is not None:
        out["hour_of_day"] = hour
    return out


def model_row(features: Mapping[str, object]) -> list[float | None]:
    """The model's feature vector in :data:`FEATURES` order, ``None`` where not recorded."""
    found = derived(features)
    return [found.get(name) for name in FEATURES]


# What a live movement's model feature is when the engine did not compute it: the
# simulator's value for the fact being absent. Mostly 0 (no card, no refund history), but
# an inflow's age is the largest one: 0 would say money arrived this very second — a
# mule's sign — on every movement without an account (a card pay), and on decisions
# recorded before the graph provider gave it, and the model flagged them for it.
LIVE_ABSENT = {"inflow_age_s": INFLOW_AGE_S_MAX}


def live_row(features: Mapping[str, object]) -> dict[str, float]:
    """A live movement's model features: what the engine did not compute is the
    simulator's absent value (:data:`LIVE_ABSENT`, else 0)."""
    found = derived(features)
    return {name: found.get(name, LIVE_ABSENT.get(name, 0.0)) for name in FEATURES}

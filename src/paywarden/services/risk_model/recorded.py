"""A recorded decision's features, as the learned model's features (for the retrain).

The engine records the features its rules were written against (services/risk/features.py),
not the model's 36 (:data:`.features.FEATURES`). Where a model feature follows from what was
recorded it is derived here; where it does not (24-hour windows, card, BIN and graph
features, merchant rates, refunds) it is ``None`` — missing, which LightGBM routes down
each split's learned default branch, not zero, which would claim a fact nobody saw. A few
derivations are approximate and are named in decision 0034: ``hour_of_day`` is UTC (no time
zone was recorded) and ``payee_age_h`` counts from when the payee was added, not first paid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .features import FEATURES, PAYEE_AGE_H_MAX

TRANSFER_KINDS = frozenset({"internal", "external", "withdrawal", "cheque", "standing_order",
                            "own"})
HOUR_S, DAY_S = 3600, 86_400


def _number(features: Mapping[str, object], name: str) -> float | None:
    value = features.get(name)
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else None


def derived(operation: str, features: Mapping[str, object]) -> dict[str, float]:
    """The model features that follow from the recorded ones (the rest are missing)."""
    out: dict[str, float] = {}
    kind = features.get("kind")
    if operation.startswith("bank.") and isinstance(kind, str):
        out["op_card"] = 0.0
        out["op_transfer"] = float(kind in TRANSFER_KINDS)
        out["op_refund"] = 0.0
        out["op_staff"] = 0.0
    amount = _number(features, "amount_minor")
    if amount is not None:
        out["amount_log"] = math.log1p(amount)
        median = _number(features, "median_90d_minor")
        if median is not None:
            out["amount_vs_median"] = amount / median if median > 0 else 1.0
    for name in ("velocity_customer_1h", "velocity_device_1h", "new_device", "new_address"):
        value = _number(features, name)
        if value is not None:
            out[name] = value
    known, cooling = features.get("payee_known"), features.get("payee_cooling")
    age_s = _number(features, "payee_age_s")
    if isinstance(known, bool) and age_s is not None:
        out["new_payee"] = float(not known or bool(cooling) or age_s < DAY_S)
        out["payee_age_h"] = min(age_s / HOUR_S, PAYEE_AGE_H_MAX) if known else 0.0
    account_age_s = _number(features, "account_age_s")
    if account_age_s is not None:
        out["account_age_d"] = account_age_s / DAY_S
    hour = _number(features, "hour_utc")
    if hour is not None:
        out["hour_of_day"] = hour
    return out


def model_row(operation: str, features: Mapping[str, object]) -> list[float | None]:
    """The model's feature vector in :data:`FEATURES` order, ``None`` where not recorded."""
    found = derived(operation, features)
    return [found.get(name) for name in FEATURES]

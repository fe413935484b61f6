"""The learned score in the engine: the model's features from the engine's, then
``Model.score``.

The scorer receives every feature the providers computed and maps them onto the model's
36 (services/risk_model/features.py). Most are the engine's own features in the model's
units (seconds to hours or days, a ratio, booleans to 0/1); the velocity provider gives
the 24-hour windows and the card's and BIN's counts in its one query. What a banking movement does not have — a card, a refund, a staff
member's moves — is 0, as the simulator gives a movement without one. Approximations,
written down (decision 0035): ``amount_vs_median`` is the engine's 90-day median ratio,
``new_payee`` is a payee known under a day, ``hour_vs_habit_h`` is 0 (no habit kept yet),
and the address and device counts are the sign-in origins'.

A model file is loaded only if its signature verifies under the configured public key
(services/risk_model/artifact.py); without a file the engine runs with ``NoModel``.
"""

from __future__ import annotations

import math
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ....domain.risk import Features
from ...risk_model import artifact
from ...risk_model.artifact import ModelRefused
from ...risk_model.features import FEATURES, PAYEE_AGE_H_MAX
from ...risk_model.scorer import Model
from ..engine import NoModel, Score, Scorer

_CARD_KINDS = ("pay", "top_up")


def _num(features: Features, name: str) -> float:
    value = features.get(name, 0)
    return float(value) if isinstance(value, int | float) else 0.0


def model_features(f: Features) -> dict[str, float]:
    """The model's 36 features from the engine's (see the module docstring)."""
    kind = str(f.get("kind", ""))
    payee_age_s = _num(f, "payee_age_s")
    known = bool(f.get("payee_known", False))
    out = dict.fromkeys(FEATURES, 0.0)
    out.update({
        "op_card": float(kind in _CARD_KINDS), "op_transfer": float(kind not in _CARD_KINDS),
        "amount_log": math.log1p(_num(f, "amount_minor")),
        "amount_vs_median": _num(f, "amount_ratio_90d") if _num(f, "history_n_90d") else 1.0,
        "velocity_customer_1h": _num(f, "velocity_customer_1h"),
        "velocity_customer_24h": _num(f, "velocity_customer_24h"),
        "velocity_device_1h": _num(f, "velocity_device_1h"),
        "velocity_card_1h": _num(f, "velocity_card_1h"),
        "velocity_bin_1h": _num(f, "velocity_bin_1h"),
        "velocity_address_24h": _num(f, "velocity_address_24h"),
        "velocity_payee_24h": _num(f, "velocity_payee_24h"),
        "new_device": float(bool(f.get("new_device"))),
        "new_address": float(bool(f.get("new_address"))),
        "new_payee": float(not known or payee_age_s < 86_400),
        "payee_age_h": min(payee_age_s / 3600, PAYEE_AGE_H_MAX) if known else 0.0,
        "account_age_d": _num(f, "account_age_s") / 86_400,
        "hour_of_day": _num(f, "hour_utc"),
        "merchant_refund_rate_30d": _num(f, "merchant_refund_rate_30d"),
        "merchant_dispute_rate_30d": _num(f, "merchant_dispute_rate_30d"),
        "device_customers": _num(f, "device_customers"),
        "payee_customers": _num(f, "payee_customers"),
        "chain_depth": _num(f, "chain_depth"),
    })
    return out


class LearnedScorer:
    """The engine's :class:`Scorer` over a verified model; reasons ``model:<feature>``."""

    def __init__(self, model: Model) -> None:
        self._model = model
        self.version: str | None = model.version

    def score(self, features: Features) -> Score:
        scored = self._model.score(model_features(features))
        return Score(scored.score, tuple(f"model:{r.feature}" for r in scored.reasons))


def load_scorer(path: Path | None, public_key_path: Path | None) -> Scorer:
    """The model at ``path`` verified with the key at ``public_key_path``; ``NoModel``
    when no path is set. A file that does not verify stops start-up (ModelRefused): a
    platform configured to score must not run silently without its model."""
    if path is None:
        return NoModel()
    if public_key_path is None:
        raise ModelRefused("a model file needs risk_model_public_key_path to verify it")
    key = load_pem_public_key(public_key_path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ModelRefused("the model's public key is not an Ed25519 key")
    return LearnedScorer(Model(artifact.load(path, lambda _kid: key)))

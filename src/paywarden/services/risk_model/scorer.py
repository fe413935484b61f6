"""The learned score as the risk engine calls it: features in, score and reasons out.

Reasons are the features that pushed the score up most for *this* movement: LightGBM's
``pred_contrib`` (exact TreeSHAP values for a tree ensemble), largest positive first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from .artifact import Artifact, ModelRefused
from .features import FEATURES

REASONS_MAX = 3


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    contribution: float  # log-odds this feature added


@dataclass(frozen=True)
class Scored:
    score: float  # probability of fraud, 0..1
    flagged: bool  # at or over the model's operating point
    reasons: tuple[Reason, ...]
    model_version: str


class Model:
    """A verified model, ready to score (build it with :func:`artifact.load`)."""

    def __init__(self, artifact: Artifact) -> None:
        self.booster = lgb.Booster(model_str=artifact.booster_text)
        if tuple(self.booster.feature_name()) != FEATURES:
            raise ModelRefused("the booster's features are not the engine's")
        self.version = artifact.version
        self.threshold = float(artifact.metadata["threshold"])

    def score_rows(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(x))

    def score(self, features: Mapping[str, float]) -> Scored:
        """Missing features are refused, not defaulted: a silent 0 would score wrong."""
        missing = [name for name in FEATURES if name not in features]
        if missing:
            raise KeyError(f"features missing: {', '.join(missing)}")
        row = np.asarray([[float(features[name]) for name in FEATURES]], dtype=np.float64)
        contrib = np.asarray(self.booster.predict(row, pred_contrib=True))[0]
        logit = float(contrib.sum())
        score = float(1.0 / (1.0 + np.exp(-logit)))
        top = np.argsort(-contrib[:-1], kind="mergesort")[:REASONS_MAX]
        reasons = tuple(Reason(FEATURES[i], float(row[0, i]), float(contrib[i]))
                        for i in top if contrib[i] > 0)
        return Scored(score=score, flagged=score >= self.threshold, reasons=reasons,
                      model_version=self.version)

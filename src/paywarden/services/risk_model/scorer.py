"""The learned score as the risk engine calls it: features in, score and reasons out.

Reasons are the features that pushed the score up most for *this* movement: LightGBM's
``pred_contrib`` (exact TreeSHAP values for a tree ensemble), largest positive first.

Cost, CPU per call on this machine (300 trees): the score alone ~0.06 ms; with reasons
~2 ms. So reasons are computed for a movement scoring at least ``EXPLAIN_FROM`` times
the operating point (or when asked), not for the great mass of plain allows. Prediction
runs on one thread: LightGBM's OpenMP start-up alone costs ~0.9 ms a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .artifact import Artifact, ModelRefused
from .features import FEATURES

if TYPE_CHECKING:
    import lightgbm as lgb

REASONS_MAX = 3
EXPLAIN_FROM = 0.5  # reasons for scores at or above this fraction of the threshold


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
        import lightgbm  # here, not at import: a node without a model never loads it

        self.booster: lgb.Booster = lightgbm.Booster(model_str=artifact.booster_text)
        if tuple(self.booster.feature_name()) != FEATURES:
            raise ModelRefused("the booster's features are not the engine's")
        self.version = artifact.version
        self.threshold = float(artifact.metadata["threshold"])

    def score_rows(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(x))

    def score(self, features: Mapping[str, float], *, explain: bool = False) -> Scored:
        """Missing features are refused, not defaulted: a silent 0 would score wrong."""
        missing = [name for name in FEATURES if name not in features]
        if missing:
            raise KeyError(f"features missing: {', '.join(missing)}")
        row = np.asarray([[float(features[name]) for name in FEATURES]], dtype=np.float64)
        score = float(np.asarray(self.booster.predict(row, num_threads=1))[0])
        flagged = score >= self.threshold
        if not (explain or score >= self.threshold * EXPLAIN_FROM):
            return Scored(score=score, flagged=flagged, reasons=(),
                          model_version=self.version)
        contrib = np.asarray(self.booster.predict(row, pred_contrib=True, num_threads=1))[0]
        top = np.argsort(-contrib[:-1], kind="mergesort")[:REASONS_MAX]
        reasons = tuple(Reason(FEATURES[i], float(row[0, i]), float(contrib[i]))
                        for i in top if contrib[i] > 0)
        return Scored(score=score, flagged=flagged, reasons=reasons, model_version=self.version)

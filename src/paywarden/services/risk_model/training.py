"""Training the learned score: LightGBM on featurized, labelled movements.

The held-out split is **by customer**: a customer's movements are all in training or all
in the test, so the model is graded on people it never saw (a random row split would let
it memorise a victim's device from a sibling row). The operating point is chosen on a
validation slice of the *training* customers, never on the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from .features import FEATURES
from .metrics import Quality, at, operating_point

PRECISION_FLOOR = 0.65  # the operating point keeps validation precision above this
PARAMS: dict[str, object] = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 31,
    "min_data_in_leaf": 20, "feature_fraction": 0.9, "bagging_fraction": 0.9,
    "bagging_freq": 1, "scale_pos_weight": 5.0, "verbose": -1, "num_threads": 1,
    "deterministic": True, "force_row_wise": True,
}
ROUNDS = 300


@dataclass(frozen=True)
class Trained:
    booster: lgb.Booster
    threshold: float
    validation: Quality
    test: Quality


def customer_split(groups: np.ndarray, seed: int, fraction: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Row masks (kept, held out): ``fraction`` of the distinct customers held out."""
    ids = np.unique(groups)
    rng = np.random.default_rng(seed)
    held = rng.choice(ids, size=max(1, int(len(ids) * fraction)), replace=False)
    out = np.isin(groups, held)
    return ~out, out


def fit(x: np.ndarray, y: np.ndarray, seed: int, weights: np.ndarray | None = None
        ) -> lgb.Booster:
    data = lgb.Dataset(x, label=y, weight=weights, feature_name=list(FEATURES),
                       free_raw_data=False)
    return lgb.train({**PARAMS, "seed": seed}, data, num_boost_round=ROUNDS)


def train(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int,
          weights: np.ndarray | None = None) -> Trained:
    """Fit on 80 % of the training customers (70 % of all), choose the operating point on
    the other 20 % of them, and grade that same booster on the held-out 30 %. No refit on
    the validation slice: a refit booster's scores would not match the threshold."""
    kept, test = customer_split(groups, seed, 0.3)
    w = np.ones(len(y)) if weights is None else weights
    fit_rows, val_rows = customer_split(np.where(kept, groups, -1), seed + 1, 0.2)
    fit_rows &= kept
    val_rows &= kept
    first = fit(x[fit_rows], y[fit_rows], seed, w[fit_rows])
    val_score = np.asarray(first.predict(x[val_rows]))
    threshold = operating_point(y[val_rows], val_score, PRECISION_FLOOR)
    validation = at(y[val_rows], val_score, threshold)
    test_quality = at(y[test], np.asarray(first.predict(x[test])), threshold)
    return Trained(booster=first, threshold=threshold, validation=validation,
                   test=test_quality)

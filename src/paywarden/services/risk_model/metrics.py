"""Precision, recall, AUC and the operating point, in numpy (no scikit-learn needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Quality:
    threshold: float
    precision: float
    recall: float
    auc: float
    false_positive_rate: float
    positives: int
    negatives: int

    def as_json(self) -> dict[str, float | int]:
        return {"threshold": round(self.threshold, 6), "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "auc": round(self.auc, 4),
                "false_positive_rate": round(self.false_positive_rate, 5),
                "positives": self.positives, "negatives": self.negatives}


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties given their mean rank."""
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = score[order]
    i = 0
    while i < len(score):
        j = i
        while j + 1 < len(score) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def at(y: np.ndarray, score: np.ndarray, threshold: float) -> Quality:
    flagged = score >= threshold
    tp = int((flagged & (y == 1)).sum())
    fp = int((flagged & (y == 0)).sum())
    pos, neg = int(y.sum()), int((y == 0).sum())
    return Quality(threshold=threshold, precision=tp / (tp + fp) if tp + fp else 0.0,
                   recall=tp / pos if pos else 0.0, auc=auc(y, score),
                   false_positive_rate=fp / neg if neg else 0.0, positives=pos,
                   negatives=neg)


def operating_point(y: np.ndarray, score: np.ndarray, precision_min: float) -> float:
    """The lowest threshold (most recall) whose precision is still ``precision_min``."""
    order = np.argsort(-score, kind="mergesort")
    tp = np.cumsum(y[order] == 1)
    flagged = np.arange(1, len(order) + 1)
    ok = np.nonzero(tp / flagged >= precision_min)[0]
    if len(ok) == 0:
        return float(score.max()) + 1e-9
    return float(score[order][ok[-1]])

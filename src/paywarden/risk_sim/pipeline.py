"""From a seed to a model artifact: simulate, featurize, train, measure; and the retrain
that folds analysts' labels in. Used by ``paywarden risk model`` and the benchmark."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np

from ..services.risk_model.artifact import Artifact
from ..services.risk_model.features import FEATURES
from ..services.risk_model.training import PRECISION_FLOOR, train
from .featurize import featurize
from .simulate import simulate

CUSTOMERS = 3000  # the default world: ~110,000 movements, ~900 of them fraud
LABELS = {"fraud": 1, "confirmed_fraud": 1, "false_positive": 0, "legitimate": 0}
FEEDBACK_WEIGHT = 5.0  # an analyst's label counts as this many simulated rows


@dataclass(frozen=True)
class Data:
    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray  # the customer of each row: the held-out split is by customer
    tx_ids: np.ndarray


def simulated(seed: int, customers: int = CUSTOMERS) -> Data:
    sim = simulate(seed, customers=customers)
    x, y, kept = featurize(sim.txns, sim.opened_s)
    return Data(x, y, np.asarray([t.customer for t in kept]),
                np.asarray([t.tx_id for t in kept]))


def read_feedback(path: Path) -> dict[int, int]:
    """``tx_id,label`` rows (label ``fraud`` or ``false_positive``) -> {tx_id: 0|1}."""
    out: dict[int, int] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            label = LABELS.get((row.get("label") or "").strip().lower())
            if label is None or not (row.get("tx_id") or "").strip().isdigit():
                raise ValueError(f"line {line}: need tx_id and fraud|false_positive")
            out[int(row["tx_id"])] = label
    return out


def read_decisions(path: Path) -> Decided:
    """``paywarden risk labels export``'s CSV: real decisions' recorded features as the
    model's (an empty cell is a feature the decision did not record: missing, NaN) and the
    analyst's label. Rows of one subject share a group, so the split keeps them together."""
    rows: list[list[float]] = []
    labels: list[int] = []
    subjects: list[str] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        absent = [n for n in FEATURES if n not in (reader.fieldnames or ())]
        if absent or "label" not in (reader.fieldnames or ()):
            raise ValueError(f"not a labels export: columns missing {absent or ['label']}")
        for line, row in enumerate(reader, start=2):
            label = LABELS.get((row.get("label") or "").strip().lower())
            if label is None:
                raise ValueError(f"line {line}: need fraud|false_positive")
            try:
                rows.append([float(row[n]) if row[n] != "" else math.nan for n in FEATURES])
            except ValueError:
                raise ValueError(f"line {line}: a feature is not a number") from None
            labels.append(label)
            subjects.append(row.get("subject") or f"line{line}")
    return Decided(np.asarray(rows, dtype=float).reshape(len(rows), len(FEATURES)),
                   np.asarray(labels, dtype=float), subjects)


@dataclass(frozen=True)
class Decided:
    x: np.ndarray  # NaN where the decision recorded no such feature
    y: np.ndarray
    subjects: list[str]


def build(seed: int, version: str, *, customers: int = CUSTOMERS,
          feedback: dict[int, int] | None = None, parent: str | None = None,
          decided: Decided | None = None) -> Artifact:
    data = simulated(seed, customers)
    x, y, groups = data.x, data.y.copy(), data.groups
    weights = np.ones(len(data.y))
    if feedback:
        for i, tx_id in enumerate(data.tx_ids):
            label = feedback.get(int(tx_id))
            if label is not None:
                y[i], weights[i] = label, FEEDBACK_WEIGHT
    if decided is not None and len(decided.y):
        first = int(groups.max()) + 1  # each real subject a group of its own
        ids = {s: first + i for i, s in enumerate(dict.fromkeys(decided.subjects))}
        x = np.vstack([x, decided.x])
        y = np.concatenate([y, decided.y])
        groups = np.concatenate([groups, np.asarray([ids[s] for s in decided.subjects])])
        weights = np.concatenate([weights, np.full(len(decided.y), FEEDBACK_WEIGHT)])
    trained = train(x, y, groups, seed, weights)
    metadata = {
        "version": version, "features": list(FEATURES), "seed": seed,
        "customers": customers, "threshold": trained.threshold,
        "lightgbm": lgb.__version__, "split": "by customer: 30% held out",
        "operating_point": f"validation precision >= {PRECISION_FLOOR}",
        "metrics": {"test": trained.test.as_json(), "validation":
                    trained.validation.as_json()},
        "feedback_labels": len(feedback or {}), "parent": parent,
        "decision_labels": 0 if decided is None else len(decided.y),
        "status": "for_review" if parent else "trained",
    }
    return Artifact(metadata=metadata, booster_text=str(trained.booster.model_to_string()))

"""A seeded transaction simulator: normal customers, merchants and staff, with injected
fraud patterns, each transaction labelled. It trains and grades the learned risk score
(decision 0033). Pure Python and numpy; the same seed gives the same transactions."""

from __future__ import annotations

from .events import PATTERNS, Txn
from .featurize import featurize
from .simulate import Simulation, simulate

__all__ = ["PATTERNS", "Simulation", "Txn", "featurize", "simulate"]

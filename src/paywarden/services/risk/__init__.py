"""Risk screening (issue 12, decision 0030): features, rules, the engine and its records;
sanctions (:mod:`.sanctions`) and circuit breakers (:mod:`.breakers`, decision 0032)."""

from .decisions import Decisions, Rerun
from .engine import FALLBACKS, NoModel, Recorded, RiskEngine, Score, Scorer, fallback
from .features import Context, FeatureProvider, Subject, built_in, catalogue
from .rules import BUILT_IN, compile_rule, compile_set
from .store import RuleStore

__all__ = ["BUILT_IN", "FALLBACKS", "Context", "Decisions", "FeatureProvider", "NoModel",
           "Recorded", "Rerun", "RiskEngine", "RuleStore", "Score", "Scorer",
           "Subject", "built_in", "catalogue", "compile_rule", "compile_set", "fallback"]

"""Risk screening's pure parts: decisions and how they combine, features, rule sets;
sanctions name matching (:mod:`.names`) and circuit breakers (:mod:`.breakers`)."""

from .features import Features, Value
from .rules import Rule, RuleSet, RuleState, check_successor
from .verdict import Decision, Proposal, Thresholds, Verdict, combine

__all__ = ["Decision", "Features", "Proposal", "Rule", "RuleSet", "RuleState", "Thresholds",
           "Value", "Verdict", "check_successor", "combine"]

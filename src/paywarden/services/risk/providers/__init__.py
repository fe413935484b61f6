"""Feature providers beyond the built-in ones (decision 0035): the credit registry and
sanctions (:mod:`.lists`), circuit breakers and their feed (:mod:`.breakers`), graph
features (:mod:`.graph`), merchant rates (:mod:`.merchants`) and the learned score's
inputs and scorer (:mod:`.model`). ``bootstrap.build_risk`` wires them after the built-in
providers, whose notes (the device digest) and velocity keys they read."""

from .breakers import BREAKER_REASON, BreakerCheck, BreakerFeed, scopes_of
from .graph import Graph
from .lists import RegistryHits, SanctionsHits
from .merchants import MerchantRates
from .model import LearnedScorer, load_scorer, model_features

__all__ = ["BREAKER_REASON", "BreakerCheck", "BreakerFeed", "Graph",
           "LearnedScorer", "MerchantRates", "RegistryHits", "SanctionsHits",
           "load_scorer", "model_features", "scopes_of"]

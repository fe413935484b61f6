"""The learned score in the engine: the model's features from the engine's, then
``Model.score``.

The scorer receives every feature the providers computed and maps them onto the model's
36 with the one mapping the retrain uses too (services/risk_model/recorded.py, where its
approximations are written down); what a movement does not have — a card, a refund, a
staff member's moves — is 0, as the simulator gives a movement without one.

A model file is loaded only if its signature verifies under the configured public key
(services/risk_model/artifact.py); without a file the engine runs with ``NoModel``.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ....domain.risk import Features
from ...risk_model import artifact
from ...risk_model.artifact import ModelRefused
from ...risk_model.recorded import live_row
from ...risk_model.scorer import Model
from ..engine import NoModel, Score, Scorer


def model_features(f: Features) -> dict[str, float]:
    """The model's 36 features from the engine's: the one mapping the retrain uses too
    (services/risk_model/recorded.py)."""
    return live_row(f)


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

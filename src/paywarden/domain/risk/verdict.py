"""What a screening decides, and how the rules' actions and the score combine.

A decision is one of four, ordered from mild to severe::

    allow < step_up < review < decline

**Worst wins.** Every active rule that matches proposes its action; the score proposes
the action of the highest threshold it reaches; the verdict is the most severe of all
the proposals (``allow`` when nothing proposes anything). The reasons are those of every
proposal at the verdict's level and above, so a decline never hides behind a step-up
reason. Shadow rules propose nothing: they are only recorded (``shadow``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import DomainError


class Decision(enum.StrEnum):
    ALLOW = "allow"
    STEP_UP = "step_up"  # a fresh passkey assertion over the operation
    REVIEW = "review"  # reserved as a pending transfer, waits for an analyst
    DECLINE = "decline"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Decision.ALLOW: 0, Decision.STEP_UP: 1, Decision.REVIEW: 2, Decision.DECLINE: 3}


@dataclass(frozen=True)
class Proposal:
    """One rule's (or the score's) proposed action, and why."""

    action: Decision
    reason: str


@dataclass(frozen=True)
class Thresholds:
    """Scores in [0, 1] at or above which the score proposes each action."""

    step_up: float = 0.5
    review: float = 0.8
    decline: float = 0.97

    def __post_init__(self) -> None:
        if not 0.0 <= self.step_up <= self.review <= self.decline <= 1.0:
            raise DomainError("risk_thresholds_invalid",
                              "thresholds rise: 0 <= step_up <= review <= decline <= 1")

    def proposal(self, score: float | None) -> Proposal | None:
        if score is None:
            return None
        for action, at in ((Decision.DECLINE, self.decline), (Decision.REVIEW, self.review),
                           (Decision.STEP_UP, self.step_up)):
            if score >= at:
                return Proposal(action, f"score>={at:g}")
        return None


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    score: float | None
    reasons: tuple[str, ...]
    rules_version: int
    model_version: str | None
    shadow: tuple[str, ...] = field(default=())  # shadow rules that matched: recorded only


def combine(proposals: Sequence[Proposal], *, score: float | None, thresholds: Thresholds,
            rules_version: int, model_version: str | None,
            shadow: Sequence[str] = ()) -> Verdict:
    """The verdict of ``proposals`` and ``score``: worst wins (see the module docstring)."""
    every = list(proposals)
    scored = thresholds.proposal(score)
    if scored is not None:
        every.append(scored)
    decision = max((p.action for p in every), key=lambda d: d.severity, default=Decision.ALLOW)
    reasons = tuple(dict.fromkeys(p.reason for p in every
                                  if p.action.severity >= max(decision.severity, 1)))
    return Verdict(decision, score, reasons, rules_version, model_version, tuple(shadow))

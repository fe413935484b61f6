"""The risk engine: the banking hook (``Screening``) and the payments path's screening.

``decide(subject)`` computes the features (:mod:`.features`), evaluates the current rule
set and the score, combines them (worst wins, domain/risk/verdict.py) and records the
decision — a ``risk_decisions`` row, its velocity events and an audit leaf whose
``after`` digest covers the row — in one transaction.

**The deadline.** Features, rules and score run on a small worker pool; the caller waits
at most ``deadline_ms``. When the work raises or is late, the movement kind's written
fallback (:data:`FALLBACKS`, decision 0030) is applied and recorded with ``engine`` =
``error`` or ``timeout``; the late work's answer is dropped. Recording is not optional:
if the decision cannot be written the screening raises and the movement does not run (a
decision nobody can inspect is not a decision).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import insert

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_decisions, risk_events
from ...domain.errors import DomainError, InvariantViolation
from ...domain.ledger.chart import AccountKind
from ...domain.risk import (
    Decision,
    Features,
    Proposal,
    Thresholds,
    Value,
    Verdict,
    combine,
)
from .. import audit
from ..banking.movements import Movement
from ..banking.screening import Decision as BankDecision
from ..banking.screening import Screen
from .features import Context, FeatureProvider, Subject
from .store import RuleStore

log = logging.getLogger(__name__)

# The written fallback per kind of movement (decisions 0030, 0036): money that stays with
# the customer fails open; money that reaches someone else fails closed — reserved for
# review (banking) or declined (a checkout cannot wait for an analyst). A refund returns
# at most what was paid to where it came from, and a payee receives nothing until a
# (screened) transfer: both fail open. A card's money into a wallet may be a stolen
# card's: closed. Unknown kinds: closed.
FALLBACKS: dict[str, Decision] = {
    "own": Decision.ALLOW, "top_up": Decision.ALLOW, "deposit": Decision.ALLOW,
    "interest": Decision.ALLOW, "refund": Decision.ALLOW, "payee": Decision.ALLOW,
    "internal": Decision.REVIEW, "external": Decision.REVIEW, "withdrawal": Decision.REVIEW,
    "cheque": Decision.REVIEW, "standing_order": Decision.REVIEW,
    "pay": Decision.DECLINE, "card_top_up": Decision.DECLINE,
}
FALLBACK_UNKNOWN = Decision.REVIEW
_BANK = {Decision.ALLOW: BankDecision.ALLOW, Decision.STEP_UP: BankDecision.STEP_UP,
         Decision.REVIEW: BankDecision.HOLD, Decision.DECLINE: BankDecision.DECLINE}


@dataclass(frozen=True)
class Score:
    value: float | None  # in [0, 1]; None: no model
    reasons: tuple[str, ...] = ()  # the top contributing features, as reason codes


class Scorer(Protocol):
    """The learned model (the model helper's part). ``version`` names the model file."""

    version: str | None

    def score(self, features: Features) -> Score: ...


class NoModel:
    version: str | None = None

    def score(self, features: Features) -> Score:
        return Score(None)


@dataclass(frozen=True)
class Recorded:
    id: str
    verdict: Verdict
    features: Features
    engine: str  # ok | timeout | error


@dataclass(frozen=True)
class _Work:
    verdict: Verdict
    features: Features
    keys: tuple[str, ...]
    score_reasons: tuple[str, ...]


def fallback(kind: str) -> Decision:
    return FALLBACKS.get(kind, FALLBACK_UNKNOWN)


def subject_of(movement: Movement) -> Subject:
    """A banking movement as screened; a top-up from a card is its own kind
    (``card_top_up``): it brings outside money in, and fails closed."""
    kind = str(movement.kind)
    if movement.from_account is None and movement.outside is AccountKind.CARD_ISSUER:
        kind = "card_top_up"
    return Subject(operation=f"bank.{kind}", object_id=movement.id,
                   kind=kind, user_id=movement.user_id,
                   amount_minor=movement.amount.amount_minor,
                   currency=movement.amount.currency, account_id=movement.from_account,
                   counterparty=movement.counterparty_iban)


def verdict_of(features: Features, proposals: Sequence[Proposal], score: Score, *,
               thresholds: Thresholds, rules_version: int, model_version: str | None,
               shadow: Sequence[str]) -> Verdict:
    """Rules' proposals and the score combined; the model's reasons stand beside the
    score's own when the score proposes anything."""
    scored = thresholds.proposal(score.value)
    extra = [Proposal(scored.action, r) for r in score.reasons] if scored else []
    return combine([*proposals, *extra], score=score.value, thresholds=thresholds,
                   rules_version=rules_version, model_version=model_version, shadow=shadow)


class RiskEngine:
    def __init__(self, database: Database, *, clock: Clock, rules: RuleStore,
                 providers: Sequence[FeatureProvider], scorer: Scorer | None = None,
                 thresholds: Thresholds | None = None, deadline_ms: int,
                 workers_max: int = 4) -> None:
        self._database = database
        self._clock = clock
        self.rules = rules
        self.providers = list(providers)
        self.scorer: Scorer = scorer or NoModel()
        self.thresholds = thresholds or Thresholds()
        self._deadline_s = deadline_ms / 1000
        self._pool = ThreadPoolExecutor(max_workers=workers_max,
                                        thread_name_prefix="risk")

    def screen(self, movement: Movement) -> Screen:
        """The banking hook: review is a hold."""
        done = self.decide(subject_of(movement))
        return Screen(_BANK[done.verdict.decision], done.verdict.reasons)

    def decide(self, subject: Subject, *, actor: str | None = None) -> Recorded:
        started = time.perf_counter_ns()
        now = self._clock.now_ns()
        future = self._pool.submit(self._work, subject, now)
        engine = "ok"
        try:
            work = future.result(timeout=self._deadline_s)
        except InvariantViolation:
            raise
        except FutureTimeout:
            future.cancel()
            engine, work = "timeout", self._fallback(subject, "risk_engine_timeout")
        except Exception:
            log.exception("risk engine failed on %s", subject.operation)
            engine, work = "error", self._fallback(subject, "risk_engine_error")
        elapsed_us = (time.perf_counter_ns() - started) // 1000
        return self._record(subject, work, engine, now, elapsed_us, actor)

    def _work(self, subject: Subject, now: int) -> _Work:
        compiled = self.rules.compiled()
        with self._database.engine.connect() as conn:
            ctx = Context(conn, subject, now)
            values: dict[str, Value] = {}
            for provider in self.providers:
                given = provider.compute(ctx)
                if values.keys() & given.keys():
                    raise DomainError("risk_feature_invalid", "features given twice: "
                                      f"{sorted(values.keys() & given.keys())}")
                values.update(given)
            features = Features(values)
        proposals, shadow = compiled.evaluate(features)
        score = self.scorer.score(features)
        verdict = verdict_of(features, proposals, score, thresholds=self.thresholds,
                             rules_version=compiled.version,
                             model_version=self.scorer.version, shadow=shadow)
        return _Work(verdict, features, tuple(ctx.keys), score.reasons)

    def _fallback(self, subject: Subject, reason: str) -> _Work:
        keys = (f"customer:{subject.user_id}",) if subject.user_id else ()
        verdict = Verdict(fallback(subject.kind), None, (reason,), 0, None)
        return _Work(verdict, Features({"amount_minor": subject.amount_minor,
                                        "kind": subject.kind}), keys, ())

    def _record(self, subject: Subject, work: _Work, engine: str, now: int,
                elapsed_us: int, actor: str | None) -> Recorded:
        v = work.verdict
        made = Recorded("rsk_" + secrets.token_hex(12), v, work.features, engine)
        row = {"id": made.id, "subject": subject.subject[:32],
               "operation": subject.operation[:64], "object_id": subject.object_id[:64],
               "features": work.features.canonical(), "rules_version": v.rules_version,
               "model_version": v.model_version, "score": v.score,
               "reasons": json.dumps(list(v.reasons)),
               "detail": json.dumps({"shadow": list(v.shadow),
                                     "score_reasons": list(work.score_reasons)},
                                    sort_keys=True),
               "decision": str(v.decision), "engine": engine,
               "elapsed_us": min(elapsed_us, 2**31 - 1), "at": now}
        with self._database.engine.begin() as conn:
            conn.execute(insert(risk_decisions), row)
            if work.keys:
                conn.execute(insert(risk_events), [
                    {"key": k, "decision_id": made.id, "at": now,
                     "amount": subject.amount_minor} for k in work.keys])
            audit.record(conn, at_ns=now, actor=actor or subject.user_id or audit.SYSTEM,
                         action="risk.decision", object_id=made.id,
                         detail={"operation": row["operation"], "object": row["object_id"],
                                 "decision": row["decision"], "engine": engine,
                                 "rules_version": v.rules_version,
                                 "model_version": v.model_version},
                         after={k: row[k] for k in DIGESTED})
        return made

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# What the audit leaf's ``after`` digest covers: everything but the timing.
DIGESTED = ("id", "subject", "operation", "object_id", "features", "rules_version",
            "model_version", "score", "reasons", "detail", "decision", "engine", "at")

"""The risk engine: the banking hook (``Screening``) and the payments path's screening.

``evaluate(subject)`` computes the features (:mod:`.features`), evaluates the current
rule set and the score and combines them (worst wins, domain/risk/verdict.py) into a
:class:`Pending` decision: its ``risk_decisions`` row, its velocity events and an audit
entry whose ``after`` digest covers the row, not yet written. ``decide(subject)`` writes
it as a unit of the group-commit write path (a ``Records`` unit) and waits for the
commit. The banking hook does better: the decision rides in the movement's own unit, so
it commits with the money and the movement waits for one commit, not two
(``Screen.record``, services/banking/movements.py); a declined or refused movement's
decision is written on its own.

**The deadline.** Features, rules and score run on the caller's thread. When the work
raises, or finishes after ``deadline_ms``, the movement kind's written fallback
(:data:`FALLBACKS`, decision 0030) is applied and recorded with ``engine`` = ``error`` or
``timeout``; the late work's answer is dropped. What bounds the wait is the reads' own
timeout (PostgreSQL ``statement_timeout`` = the deadline; SQLite readers never wait
under WAL): a hand-off to a worker pool per screening cost more CPU than the features
themselves and doubled the thread switches under load (decision 0030). Recording is not optional:
if the decision cannot be written the movement does not run (a decision nobody can
inspect is not a decision).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import insert

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import risk_decisions, risk_events
from ...domain.audit.leaves import Event
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
from ..writepath import Batch, GroupWriter, Records
from .features import Context, Earlier, FeatureProvider, Subject, Unwritten
from .reads import Reads
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
    # A staff move (a dispute decision) waits: an insider's move is what screening is for.
    "staff": Decision.REVIEW,
}
FALLBACK_UNKNOWN = Decision.REVIEW
# A risk decision as banking's hook answers it: review is a hold.
BANK_DECISION = {Decision.ALLOW: BankDecision.ALLOW, Decision.STEP_UP: BankDecision.STEP_UP,
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
                   counterparty=movement.counterparty_iban,
                   counterparty_name=movement.counterparty_name)


def verdict_of(features: Features, proposals: Sequence[Proposal], score: Score, *,
               thresholds: Thresholds, rules_version: int, model_version: str | None,
               shadow: Sequence[str]) -> Verdict:
    """Rules' proposals and the score combined; the model's reasons stand beside the
    score's own when the score proposes anything."""
    scored = thresholds.proposal(score.value)
    extra = [Proposal(scored.action, r) for r in score.reasons] if scored else []
    return combine([*proposals, *extra], score=score.value, thresholds=thresholds,
                   rules_version=rules_version, model_version=model_version, shadow=shadow)


def _unwritten(earlier: Sequence[Screen]) -> Unwritten:
    """The index of ``earlier``'s decisions (a batch's screenings so far, in order): the
    last one's index, grown by that one; rebuilt when it is not of this sequence."""
    records = [s.record for s in earlier if isinstance(s.record, Pending)]
    if not records:
        return Unwritten()
    last = records[-1]
    index = last.before
    if index.size == len(records) - 1 and index.tail is not last:
        index.add(last.earlier())
        index.tail = last
    elif index.size != len(records) or index.tail is not last:
        index = Unwritten(r.earlier() for r in records)
        index.tail = last
    return index


INSERT_DECISION = insert(risk_decisions)
INSERT_EVENT = insert(risk_events)


@dataclass(frozen=True)
class Pending:
    """A decision made and not yet written: what ``write`` queues in a batch."""

    recorded: Recorded
    row: dict[str, object]
    events: tuple[dict[str, object], ...]
    entry: Event
    subject: Subject
    # The batch's index as this decision's screening read it, grown by the next one
    # (RiskEngine._unwritten); shared down the batch, never read across batches.
    before: Unwritten = field(default_factory=Unwritten, compare=False, repr=False)

    def earlier(self) -> Earlier:
        """What this decision will count for a later screening of the same batch."""
        return Earlier(tuple(str(e["key"]) for e in self.events), self.subject.account_id,
                       self.subject.amount_minor, int(str(self.row["at"])))

    def write(self, batch: Batch) -> None:
        batch.later(INSERT_DECISION, self.row)
        for event in self.events:
            batch.later(INSERT_EVENT, event)
        batch.audit(self.entry)


class RiskEngine:
    def __init__(self, database: Database, *, clock: Clock, writer: GroupWriter,
                 rules: RuleStore,
                 providers: Sequence[FeatureProvider], scorer: Scorer | None = None,
                 thresholds: Thresholds | None = None, deadline_ms: int) -> None:
        self._database = database
        self._clock = clock
        self._writer = writer
        self.rules = rules
        self.providers = list(providers)
        self.scorer: Scorer = scorer or NoModel()
        self.thresholds = thresholds or Thresholds()
        self._deadline_ns = deadline_ms * 1_000_000
        # Told of every decision once it is made (the breaker feed's counts); an observer
        # must be cheap and must not raise.
        self.observers: list[Callable[[Subject, Recorded], None]] = []
        self.reads = Reads(database, deadline_ms=deadline_ms)

    def screen(self, movement: Movement, *, earlier: Sequence[Screen] = ()) -> Screen:
        """The banking hook: review is a hold; the decision is written by the movement.
        ``earlier``: this batch's screenings before it, not committed yet (their counts
        are added to what the database holds, :class:`.features.Earlier`)."""
        pending = self.evaluate(subject_of(movement), earlier=_unwritten(earlier))
        verdict = pending.recorded.verdict
        return Screen(BANK_DECISION[verdict.decision], verdict.reasons, record=pending)

    def decide(self, subject: Subject, *, actor: str | None = None) -> Recorded:
        """Evaluate and write the decision; the answer once it has committed."""
        pending = self.evaluate(subject, actor=actor)
        self._writer.execute(Records(pending.write))
        return pending.recorded

    def evaluate(self, subject: Subject, *, actor: str | None = None,
                 earlier: Unwritten | None = None) -> Pending:
        started = time.perf_counter_ns()
        now = self._clock.now_ns()
        engine = "ok"
        earlier = Unwritten() if earlier is None else earlier
        try:
            work = self._work(subject, now, earlier)
        except InvariantViolation:
            raise
        except Exception:
            log.exception("risk engine failed on %s", subject.operation)
            engine, work = "error", self._fallback(subject, "risk_engine_error")
        if engine == "ok" and time.perf_counter_ns() - started > self._deadline_ns:
            engine, work = "timeout", self._fallback(subject, "risk_engine_timeout")
        elapsed_us = (time.perf_counter_ns() - started) // 1000
        pending = self._pending(subject, work, engine, now, elapsed_us, actor, earlier)
        for observe in self.observers:
            observe(subject, pending.recorded)
        return pending

    def _work(self, subject: Subject, now: int, earlier: Unwritten) -> _Work:
        compiled = self.rules.compiled()
        ctx = Context(self.reads, subject, now, self._database, earlier=earlier)
        try:
            with self.reads.lent():
                values: dict[str, Value] = {}
                for provider in self.providers:
                    given = provider.compute(ctx)
                    if values.keys() & given.keys():
                        raise DomainError("risk_feature_invalid", "features given twice: "
                                          f"{sorted(values.keys() & given.keys())}")
                    values.update(given)
            features = Features(values)
        finally:
            ctx.close()
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

    def _pending(self, subject: Subject, work: _Work, engine: str, now: int,
                 elapsed_us: int, actor: str | None, before: Unwritten) -> Pending:
        v = work.verdict
        made = Recorded("rsk_" + secrets.token_hex(12), v, work.features, engine)
        row: dict[str, object] = {
            "id": made.id, "subject": subject.subject[:64],
            "operation": subject.operation[:64], "object_id": subject.object_id[:64],
            "features": work.features.canonical(), "rules_version": v.rules_version,
            "model_version": v.model_version, "score": v.score,
            "reasons": json.dumps(list(v.reasons)),
            "detail": json.dumps({"shadow": list(v.shadow),
                                  "score_reasons": list(work.score_reasons)}, sort_keys=True),
            "decision": str(v.decision), "engine": engine,
            "elapsed_us": min(elapsed_us, 2**31 - 1), "at": now}
        events = tuple({"key": k, "decision_id": made.id, "at": now,
                        "amount": subject.amount_minor} for k in work.keys)
        entry = audit.entry(at_ns=now, actor=actor or subject.user_id or audit.SYSTEM,
                            action="risk.decision", object_id=made.id,
                            detail={"operation": row["operation"], "object": row["object_id"],
                                    "decision": row["decision"], "engine": engine,
                                    "rules_version": v.rules_version,
                                    "model_version": v.model_version},
                            after=digested(row))
        return Pending(made, row, events, entry, subject, before)

    def close(self) -> None:
        self.reads.close()


# What the audit leaf's ``after`` digest covers: everything but the timing.
DIGESTED = ("id", "subject", "operation", "object_id", "features", "rules_version",
            "model_version", "score", "reasons", "detail", "decision", "engine", "at")


def digested(row: Mapping[str, object]) -> dict[str, object]:
    """A decision row as its audit leaf's ``after`` digest covers it (recompute it from the
    stored row to check one). The score is its shortest decimal text (``repr``): a float
    would send the whole state through the RFC 8785 library's number formatting, 20 times
    slower than the standard encoder that every other value here takes
    (domain/audit/leaves.py), and a stored double reads back as the same text."""
    out = {k: row[k] for k in DIGESTED}
    score = out["score"]
    out["score"] = None if score is None else repr(float(score))  # type: ignore[arg-type]
    return out

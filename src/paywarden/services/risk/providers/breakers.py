"""Circuit breakers in the screening: the scopes' state as features, and the outcomes fed
back in batches.

:class:`BreakerCheck` names the movement's scopes (:func:`scopes_of`: the platform, the
merchant, the card BIN, the payee's bank and the currency corridor) and reads their
breakers in one indexed query on the engine's connection (``Breakers.check``). It gives
``breaker_action`` — the most severe of the scopes' actions (``pass``, ``probe``,
``review``, ``decline``) — and the built-in rules turn an open breaker's action into a
proposal (decision 0035), so a re-run from the recorded features repeats it.

:class:`BreakerFeed` counts each decision's outcome per scope in memory and writes the
counts, one record per (scope, outcome), in one transaction when flushed
(``Breakers.record_all``): by the maintenance chore every ``interval_s``, or inline by the
screening that fills the batch to ``batch_size_max``. A screening pays a few dictionary
increments, not a transaction per scope, and a flush takes the write lock once: a
transaction per scope held a paying caller for a commit each, beside the group commit. Outcomes (decision 0035): ``allow`` and ``step_up`` are
``approved``; ``review`` is ``approved`` and ``anomaly``; ``decline`` is ``declined``. A
decision the breaker itself made is not fed back (an open breaker's own reviews would keep
it open for ever), nor is money that stays the customer's.

The feed is one of the engine's observers (``RiskEngine.observers``): every screening,
banking's and the payments path's, reaches it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from typing import ClassVar

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from ....domain.errors import DomainError
from ....domain.risk import Decision, Value
from ....domain.risk.breakers import PLATFORM, Action, Outcome, Scope, ScopeKind
from ..breakers import Breakers
from ..engine import Recorded
from ..features import Context, Subject

SEVERITY = {Action.PASS: 0, Action.PROBE: 0, Action.REVIEW: 1, Action.DECLINE: 2}
RECORDS_PER_FLUSH_TRANSACTION = 200  # a long flush commits in parts, not holding the lock
OWN_KINDS = frozenset({"own", "top_up", "deposit", "interest"})
BREAKER_REASON = "breaker_open"  # the built-in rules' reason for an open breaker
_OUTCOMES = {Decision.ALLOW: (Outcome.APPROVED,), Decision.STEP_UP: (Outcome.APPROVED,),
             Decision.REVIEW: (Outcome.APPROVED, Outcome.ANOMALY),
             Decision.DECLINE: (Outcome.DECLINED,)}


@lru_cache(maxsize=4_096)
def _bank_of(iban: str) -> tuple[str, str] | None:
    """(country, bank code) of an IBAN; None if it is none (cached: schwifty parses)."""
    try:
        parsed = IBAN(iban)
    except (SchwiftyException, ValueError):
        return None
    return parsed.country_code, parsed.bank_code or parsed.country_code


def scopes_of(subject: Subject) -> list[Scope]:
    """The breaker scopes a movement falls in; a key that is no valid scope key is left
    out (it cannot have a breaker)."""
    keys: list[tuple[ScopeKind, str | None]] = [
        (ScopeKind.MERCHANT, subject.merchant_id), (ScopeKind.CARD_BIN, subject.card_bin)]
    bank = _bank_of(subject.counterparty) if subject.counterparty else None
    if bank is not None:
        keys += [(ScopeKind.PAYEE_BANK, f"{bank[0]}{bank[1]}"),
                 (ScopeKind.CORRIDOR, f"{subject.currency}-{bank[0]}")]
    found = [PLATFORM]
    for kind, key in keys:
        if key:
            try:
                found.append(Scope(kind, key))
            except DomainError:
                continue
    return found


class BreakerCheck:
    provides: ClassVar[Mapping[str, str]] = {
        "breaker_open": "boolean", "breaker_action": "string", "breaker_scope": "string"}

    def __init__(self, breakers: Breakers) -> None:
        self._breakers = breakers

    def compute(self, ctx: Context) -> Mapping[str, Value]:
        worst = (Action.PASS, "")
        for state in self._breakers.check(scopes_of(ctx.subject), read=ctx.reads.rows):
            if SEVERITY[state.action] > SEVERITY[worst[0]]:
                worst = (state.action, state.scope.partition(":")[0])
        return {"breaker_open": SEVERITY[worst[0]] > 0, "breaker_action": str(worst[0]),
                "breaker_scope": worst[1]}


class BreakerFeed:
    def __init__(self, breakers: Breakers, *, batch_size_max: int, interval_s: float) -> None:
        self._breakers = breakers
        self._batch_size_max = batch_size_max
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._pending: Counter[tuple[Scope, Outcome]] = Counter()
        self._outcomes = 0
        self._flush_lock = threading.Lock()

    def observe(self, subject: Subject, made: Recorded) -> None:
        """Count one decision's outcome in its scopes (see the module docstring)."""
        verdict = made.verdict
        if subject.kind in OWN_KINDS or made.engine != "ok" \
                or BREAKER_REASON in verdict.reasons:
            return
        self.count(subject, *_OUTCOMES[verdict.decision])

    def count(self, subject: Subject, *outcomes: Outcome) -> None:
        """Count outcomes learnt after the screening in the movement's scopes: an issuer's
        decline, a dispute, a chargeback (the payments path calls this)."""
        scopes = scopes_of(subject)
        with self._lock:
            for scope in scopes:
                for outcome in outcomes:
                    self._pending[(scope, Outcome(outcome))] += 1
            self._outcomes += 1
            full = self._outcomes >= self._batch_size_max
        if full:
            self.flush()

    def flush(self) -> int:
        """Write the pending counts (one ``record`` per scope and outcome); the count of
        records written. Counts a failed write loses are lost, never double-counted."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending, self._outcomes = self._pending, Counter(), 0
            counted = [(scope, outcome, n) for (scope, outcome), n in sorted(
                pending.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))]
            for start in range(0, len(counted), RECORDS_PER_FLUSH_TRANSACTION):
                self._breakers.record_all(counted[start:start + RECORDS_PER_FLUSH_TRANSACTION])
            return len(pending)

    def run(self) -> None:
        """The maintenance chore's step (every ``interval_s``)."""
        self.flush()

    @property
    def interval_s(self) -> float:
        return self._interval_s

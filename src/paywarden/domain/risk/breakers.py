"""Circuit breakers: a pure state machine over outcome counts in a sliding window.

    closed ──(a watched rate over its threshold, with enough movements)──▶ open
    open ──(cool_down_s elapsed)──▶ half_open
    half_open ──(probe_count_min probes, bad rate within threshold)──▶ closed
    half_open ──(probe_count_min probes, bad rate over threshold)──▶ open
    open | half_open ──(manual reset by two staff members)──▶ closed

A scope is one of a merchant, a card BIN, a payee's bank, a currency corridor, or the
whole platform. Each kind of scope has a written :class:`Policy` (:data:`POLICIES`):
its window, the watched rates and their thresholds, and what happens to a new movement
while open — review (held for an analyst) or decline. While half-open a sample of
movements (``sample_ppm``) is let through as probes; the rest are held as when open.

The rate of declines is declines over movements (approved + declined); disputes,
chargebacks and anomalies are counted against the same movements. A rate counts only
with at least ``movements_min`` movements in the window, so three declines out of four
do not trip a merchant's breaker.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..errors import DomainError

PPM = 1_000_000
SCOPE_KEY_CHARS_MAX = 128
_SCOPE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class ScopeKind(enum.StrEnum):
    MERCHANT = "merchant"
    CARD_BIN = "card_bin"
    PAYEE_BANK = "payee_bank"
    CORRIDOR = "corridor"  # e.g. EUR-USD
    PLATFORM = "platform"


class Outcome(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    DISPUTE = "dispute"
    CHARGEBACK = "chargeback"
    ANOMALY = "anomaly"


MOVEMENTS = (Outcome.APPROVED, Outcome.DECLINED)


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Action(enum.StrEnum):
    """What a movement in the scope gets from the breaker."""

    PASS = "pass"  # closed: the breaker says nothing
    PROBE = "probe"  # half-open, sampled: let through so its outcome is measured
    REVIEW = "review"
    DECLINE = "decline"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    key: str  # the merchant id, the BIN, the bank's BIC, "EUR-USD"; "all" for platform

    def __post_init__(self) -> None:
        if not _SCOPE_KEY.match(self.key):
            raise DomainError("breaker_scope_invalid", f"scope key {self.key[:32]!r} is invalid")

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, _, key = text.partition(":")
        try:
            return cls(ScopeKind(kind), key)
        except ValueError as exc:
            raise DomainError("breaker_scope_invalid", f"scope {text[:40]!r} is invalid") from exc


PLATFORM = Scope(ScopeKind.PLATFORM, "all")


@dataclass(frozen=True)
class Threshold:
    rate_ppm_max: int  # trips when the rate is above this
    movements_min: int


@dataclass(frozen=True)
class Policy:
    window_s: int
    watched: Mapping[Outcome, Threshold]
    open_action: Action  # REVIEW or DECLINE
    cool_down_s: int
    sample_ppm: int  # share of movements let through while half-open
    probe_count_min: int

    @property
    def bucket_s(self) -> int:
        return max(1, self.window_s // 10)


def _t(percent: float, movements_min: int) -> Threshold:
    return Threshold(int(percent * 10_000), movements_min)


# The written policy (decision 0032). Card testing is a storm of small declines on one
# BIN: that breaker declines while open; the others hold money for review, so a
# legitimate customer's payment waits rather than fails.
POLICIES: dict[ScopeKind, Policy] = {
    ScopeKind.CARD_BIN: Policy(
        600, {Outcome.DECLINED: _t(30, 20), Outcome.ANOMALY: _t(20, 20)},
        Action.DECLINE, cool_down_s=300, sample_ppm=100_000, probe_count_min=20),
    ScopeKind.MERCHANT: Policy(
        3_600, {Outcome.DECLINED: _t(50, 50), Outcome.DISPUTE: _t(5, 50),
                Outcome.CHARGEBACK: _t(2, 50), Outcome.ANOMALY: _t(10, 50)},
        Action.REVIEW, cool_down_s=900, sample_ppm=100_000, probe_count_min=30),
    ScopeKind.PAYEE_BANK: Policy(
        3_600, {Outcome.DECLINED: _t(50, 50), Outcome.ANOMALY: _t(10, 30)},
        Action.REVIEW, cool_down_s=900, sample_ppm=100_000, probe_count_min=30),
    ScopeKind.CORRIDOR: Policy(
        3_600, {Outcome.DECLINED: _t(40, 100), Outcome.ANOMALY: _t(5, 50)},
        Action.REVIEW, cool_down_s=900, sample_ppm=50_000, probe_count_min=50),
    ScopeKind.PLATFORM: Policy(
        900, {Outcome.DECLINED: _t(40, 500), Outcome.ANOMALY: _t(5, 200)},
        Action.REVIEW, cool_down_s=600, sample_ppm=20_000, probe_count_min=100),
}


@dataclass(frozen=True)
class Breaker:
    """A breaker's state; a scope that never tripped is :func:`closed`."""

    scope: Scope
    state: State
    tripped_on: Outcome | None
    rate_ppm: int | None
    movements: int | None
    opened_at_ns: int | None
    half_open_at_ns: int | None
    probes: int
    probes_bad: int
    counts_since_ns: int  # outcomes recorded before this are not counted
    trips: int


def closed(scope: Scope, *, since_ns: int = 0) -> Breaker:
    return Breaker(scope, State.CLOSED, None, None, None, None, None, 0, 0, since_ns, 0)


def rate_ppm(counts: Mapping[Outcome, int], watched: Outcome) -> tuple[int, int]:
    """(rate in ppm, movements) of ``watched`` among the movements counted."""
    movements = sum(counts.get(o, 0) for o in MOVEMENTS)
    if movements == 0:
        return 0, 0
    return counts.get(watched, 0) * PPM // movements, movements


def tripping(counts: Mapping[Outcome, int], policy: Policy) -> tuple[Outcome, int, int] | None:
    """The first watched rate over its threshold with enough movements, if any."""
    for watched, threshold in policy.watched.items():
        rate, movements = rate_ppm(counts, watched)
        if movements >= threshold.movements_min and rate > threshold.rate_ppm_max:
            return watched, rate, movements
    return None


def after_counts(breaker: Breaker, counts: Mapping[Outcome, int], policy: Policy, *,
                 now_ns: int) -> Breaker:
    """A closed breaker trips when a watched rate is over its threshold."""
    if breaker.state is not State.CLOSED:
        return breaker
    found = tripping(counts, policy)
    if found is None:
        return breaker
    watched, rate, movements = found
    return replace(breaker, state=State.OPEN, tripped_on=watched, rate_ppm=rate,
                   movements=movements, opened_at_ns=now_ns, half_open_at_ns=None, probes=0,
                   probes_bad=0, trips=breaker.trips + 1)


def after_time(breaker: Breaker, policy: Policy, *, now_ns: int) -> Breaker:
    """An open breaker goes half-open once its cool-down has passed."""
    if breaker.state is State.OPEN and breaker.opened_at_ns is not None \
            and now_ns - breaker.opened_at_ns >= policy.cool_down_s * 1_000_000_000:
        return replace(breaker, state=State.HALF_OPEN, half_open_at_ns=now_ns, probes=0,
                       probes_bad=0)
    return breaker


def after_probe(breaker: Breaker, outcome: Outcome, policy: Policy, *, now_ns: int
                ) -> Breaker:
    """A half-open breaker counts the outcomes in its scope; once it has seen
    ``probe_count_min`` movements it closes if healthy, else opens again."""
    if breaker.state is not State.HALF_OPEN or breaker.tripped_on is None:
        return breaker
    probes, bad = breaker.probes, breaker.probes_bad
    if outcome in MOVEMENTS:
        probes += 1
    if outcome is breaker.tripped_on:
        bad += 1
    if probes < policy.probe_count_min:
        return replace(breaker, probes=probes, probes_bad=bad)
    rate = bad * PPM // probes
    if rate > policy.watched[breaker.tripped_on].rate_ppm_max:
        return replace(breaker, state=State.OPEN, rate_ppm=rate, movements=probes,
                       opened_at_ns=now_ns, half_open_at_ns=None, probes=0, probes_bad=0,
                       trips=breaker.trips + 1)
    return reset(breaker, now_ns=now_ns)


def reset(breaker: Breaker, *, now_ns: int) -> Breaker:
    """Closed, counting afresh from now (a manual reset, or a healthy half-open)."""
    return replace(closed(breaker.scope, since_ns=now_ns), trips=breaker.trips)


def action(breaker: Breaker, policy: Policy, *, draw_ppm: int) -> Action:
    """What a new movement in the scope gets; ``draw_ppm`` is uniform in [0, 1e6)."""
    if breaker.state is State.CLOSED:
        return Action.PASS
    if breaker.state is State.HALF_OPEN and draw_ppm < policy.sample_ppm:
        return Action.PROBE
    return policy.open_action

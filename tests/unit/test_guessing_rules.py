"""Guessing rules: growing delays after a few failures, then a lock for the whole period."""

from __future__ import annotations

from paywarden.domain.identity.guessing import (
    DELAY_S_MAX,
    Failures,
    after_failure,
    delay_ns,
    may_attempt,
)

NS = 10**9
MAX, LOCK_S = 10, 1800


def fail(record: Failures, now: int) -> Failures:
    return after_failure(record, now_ns=now, failures_max=MAX, lock_s=LOCK_S)


def test_the_first_failures_are_free_then_delays_double() -> None:
    assert [delay_ns(n) // NS for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 16]
    assert delay_ns(60) == DELAY_S_MAX * NS


def test_an_attempt_before_the_delay_has_passed_is_refused() -> None:
    record, now = Failures(), 0
    for _ in range(4):
        record = fail(record, now)
    assert not may_attempt(record, now_ns=now + NS).allowed  # 4 failures: wait 2 s
    assert may_attempt(record, now_ns=now + 2 * NS).allowed


def test_the_limit_locks_the_account_for_the_lock_period_then_counting_restarts() -> None:
    record, now = Failures(), 0
    for _ in range(MAX):
        now += DELAY_S_MAX * NS
        record = fail(record, now)
    assert record.locked_until == now + LOCK_S * NS
    verdict = may_attempt(record, now_ns=now + (LOCK_S - 1) * NS)
    assert not verdict.allowed and verdict.reason == "locked"
    assert may_attempt(record, now_ns=now + LOCK_S * NS).allowed
    again = fail(record, now + LOCK_S * NS)
    assert again.count == 1 and again.locked_until is None


def test_nine_failures_do_not_lock() -> None:
    record = Failures()
    for i in range(MAX - 1):
        record = fail(record, i * DELAY_S_MAX * NS)
    assert record.locked_until is None

"""Slowing down password and code guessing: growing delays, then a lock.

An account (or an address) that has failed ``n`` times in a row may try again
only ``2^(n - FREE_FAILURES)`` seconds after the last failure once
``n >= FREE_FAILURES``; at ``failures_max`` failures it is locked for
``lock_s``. When a lock has run out the count starts again, so an attacker
gets at most ``failures_max`` guesses per lock period.
"""

from __future__ import annotations

from dataclasses import dataclass

FREE_FAILURES = 3  # a user who mistypes twice is not slowed down
DELAY_S_MAX = 15 * 60  # the growing delay stops growing here
NS = 10**9


@dataclass(frozen=True)
class Failures:
    """The failure record of one account or one address."""

    count: int = 0
    last_failed_at: int | None = None
    locked_until: int | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # "ok" | "locked" | "throttled"
    retry_at: int | None = None  # when an attempt will next be considered


def delay_ns(count: int, *, free: int = FREE_FAILURES) -> int:
    """The wait after ``count`` failures in a row (0 for the first ``free`` ones)."""
    if count < free:
        return 0
    exponent: int = min(count - free, 20)
    return min(1 << exponent, DELAY_S_MAX) * NS


def may_attempt(record: Failures, *, now_ns: int, free: int = FREE_FAILURES) -> Verdict:
    """May an attempt be considered at all now? (Refused ones are not counted.)"""
    if record.locked_until is not None and now_ns < record.locked_until:
        return Verdict(False, "locked", record.locked_until)
    if _lock_expired(record, now_ns) or record.last_failed_at is None:
        return Verdict(True, "ok")
    retry_at = record.last_failed_at + delay_ns(record.count, free=free)
    if now_ns < retry_at:
        return Verdict(False, "throttled", retry_at)
    return Verdict(True, "ok")


def after_failure(record: Failures, *, now_ns: int, failures_max: int,
                  lock_s: int) -> Failures:
    """The record once one more attempt has failed; locked when it reaches the limit."""
    count = 1 if _lock_expired(record, now_ns) else record.count + 1
    locked_until = now_ns + lock_s * NS if count >= failures_max else None
    return Failures(count=count, last_failed_at=now_ns, locked_until=locked_until)


def _lock_expired(record: Failures, now_ns: int) -> bool:
    return record.locked_until is not None and now_ns >= record.locked_until

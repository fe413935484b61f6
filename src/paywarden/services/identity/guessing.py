"""Counting failed sign-ins, per account (in the users table) and per address (in memory).

An account's attempt is *reserved* before its password is checked: the
failure count goes up by one with a compare-and-set on the count read, so
concurrent guesses at one account cannot each see the same count and slip
past the limit. A sign-in that then succeeds clears the count.

Per-address counts live in this process only: enough to slow one noisy
address; shared request-rate limits are :mod:`paywarden.services.ratelimit`'s job.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from ipaddress import IPv6Address, ip_address, ip_network

from sqlalchemy import Connection, select, update

from ...adapters.store.schema import users
from ...domain.errors import DomainError
from ...domain.identity.guessing import Failures, Verdict, after_failure, may_attempt

ADDRESS_FREE_FAILURES = 10  # offices and carrier NATs share one address
ADDRESSES_TRACKED_MAX = 100_000  # the oldest are forgotten beyond this
IPV6_PREFIX_LEN = 64  # one IPv6 host usually holds a whole /64
NS = 10**9


class TooManyAttempts(DomainError):
    """An address failed too often: 429. Says nothing about any account."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("too_many_attempts", "too many failed attempts from this address; "
                         f"retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Reservation:
    verdict: Verdict
    locks: bool = False  # if this attempt fails, the account is locked by it


def reserve(conn: Connection, user_id: str, *, now_ns: int, failures_max: int,
            lock_s: int) -> Reservation:
    """Count one attempt at ``user_id`` before checking it; refused if locked or throttled."""
    row = conn.execute(select(users.c.failed_signins, users.c.last_failed_at,
                              users.c.locked_until).where(users.c.id == user_id)).one()
    record = Failures(row.failed_signins, row.last_failed_at, row.locked_until)
    verdict = may_attempt(record, now_ns=now_ns)
    if not verdict.allowed:
        return Reservation(verdict)
    counted = after_failure(record, now_ns=now_ns, failures_max=failures_max, lock_s=lock_s)
    # last_failed_at moves only when the attempt has really failed (see failed()).
    result = conn.execute(update(users).where(
        users.c.id == user_id, users.c.failed_signins == row.failed_signins,
    ).values(failed_signins=counted.count, locked_until=counted.locked_until))
    if result.rowcount != 1:  # another attempt at this account got there first
        return Reservation(Verdict(False, "concurrent"))
    return Reservation(verdict, locks=counted.locked_until is not None)


def failed(conn: Connection, user_id: str, *, now_ns: int) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(last_failed_at=now_ns))


def succeeded(conn: Connection, user_id: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(
        failed_signins=0, last_failed_at=None, locked_until=None))


class AddressThrottle:
    """Growing delays, then a lock, for an address that keeps failing."""

    def __init__(self, *, failures_max: int, lock_s: int) -> None:
        self._failures_max = failures_max
        self._lock_s = lock_s
        self._records: OrderedDict[str, Failures] = OrderedDict()
        self._mutex = threading.Lock()

    def check(self, address: str, *, now_ns: int) -> None:
        """Raise TooManyAttempts if ``address`` must wait."""
        with self._mutex:
            record = self._current(_key(address), now_ns)
        verdict = may_attempt(record, now_ns=now_ns, free=ADDRESS_FREE_FAILURES)
        if not verdict.allowed and verdict.retry_at is not None:
            raise TooManyAttempts(max(1, -(-(verdict.retry_at - now_ns) // NS)))

    def failed(self, address: str, *, now_ns: int) -> None:
        address = _key(address)
        with self._mutex:
            record = after_failure(self._current(address, now_ns), now_ns=now_ns,
                                   failures_max=self._failures_max, lock_s=self._lock_s)
            self._records[address] = record
            self._records.move_to_end(address)
            while len(self._records) > ADDRESSES_TRACKED_MAX:
                self._records.popitem(last=False)

    def _current(self, address: str, now_ns: int) -> Failures:
        """The address's record; forgotten once quiet for a whole lock period."""
        record = self._records.get(address, Failures())
        quiet = record.last_failed_at is None or now_ns - record.last_failed_at > self._lock_s * NS
        if quiet and (record.locked_until is None or now_ns >= record.locked_until):
            return Failures()
        return record


def _key(address: str) -> str:
    try:
        ip = ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is None:
        return str(ip_network(f"{ip}/{IPV6_PREFIX_LEN}", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, IPv6Address) and ip.ipv4_mapped else ip)

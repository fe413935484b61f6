"""Rate limits: moving windows per client address, per merchant key, per account.

Counts live in this process's memory by default (:class:`MemoryWindows`), and in
Redis through the ``limits`` library when ``settings.redis_url`` is set, so that
every API process behind a load balancer shares one count. The Redis client is
an optional extra (``pip install 'paywarden[redis]'``); ``limits`` imports it
only when a ``redis://`` URI is opened.

The memory windows are ours, not ``limits``' memory storage: that one starts a
``threading.Timer`` from its hits (a new thread every 10 ms while hits come) to
scan every key, and each such thread takes the GIL from the event loop that
counts every request. Ours keep the same moving windows and sweep idle keys on
a hit, at most once per ``SWEEP_INTERVAL_S``.

A moving window keeps one timestamp per hit: a burst at the edge of a fixed
window cannot double the rate, and the oldest hit tells exactly when the next
request will be let through, which is what ``Retry-After`` says.

Scopes and their keys:

    address       the client address (an IPv6 client by its /64), every request
    merchant_key  the key id of a verified merchant signature
    account       a ledger account that transfers debit; a user trying to sign in

If the storage fails (Redis down), the request is let through and the failure
is logged and counted: losing the limiter must not take the platform down.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Literal

import anyio.to_thread
import structlog
from limits import RateLimitItem, parse
from limits.errors import ConfigurationError, StorageError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter

Scope = Literal["address", "merchant_key", "account"]
SCOPES: tuple[Scope, ...] = ("address", "merchant_key", "account")
KEY_NAMESPACE = "paywarden"
KEY_CHARS_MAX = 128
MEMORY_URI = "memory://"
SWEEP_INTERVAL_S = 60.0  # how often, at most, memory windows forget idle keys

RATE_LIMITED = Counter("paywarden_rate_limited_total", "Requests refused by a rate limit",
                       ["scope"])
LIMITER_ERRORS = Counter("paywarden_rate_limit_errors_total",
                         "Rate-limit checks that failed in the storage and let the request by")
log = structlog.get_logger(__name__)


class RateLimitConfigError(ValueError):
    """A limit string or storage URI that cannot be used; raised at start-up."""


def open_storage(uri: str) -> Storage:
    """The ``limits`` storage for ``uri``; a Redis URI needs the ``[redis]`` extra."""
    try:
        storage = storage_from_string(uri, wrap_exceptions=True)
    except ConfigurationError as exc:
        raise RateLimitConfigError(
            f"rate-limit storage {uri.split('://', 1)[0]!r} cannot be opened: {exc} "
            "(for Redis, install paywarden[redis])") from exc
    if not isinstance(storage, Storage) or not isinstance(storage, MovingWindowSupport):
        raise RateLimitConfigError(f"rate-limit storage {uri.split('://', 1)[0]!r} is not a "
                                   "synchronous storage with moving windows")
    return storage


def parse_limit(scope: str, value: str) -> RateLimitItem:
    try:
        return parse(value)
    except ValueError as exc:
        raise RateLimitConfigError(f"rate_limit_{scope} {value!r} is not a limit such as "
                                   "'120/minute'") from exc


class MemoryWindows:
    """Moving windows in this process's memory: per key, the times of its hits still in
    the window, at most the limit's amount of them (so memory is bounded by the limit).

    Thread-safe: the event loop counts requests, worker threads count sign-ins and
    transfers. Times are monotonic, so a wall-clock step neither frees nor blocks anyone.
    """

    def __init__(self, *, now_s: Callable[[], float] = time.monotonic) -> None:
        self._now_s = now_s
        self._hits: dict[tuple[str, str], tuple[float, deque[float]]] = {}
        self._lock = threading.Lock()
        self._swept_at_s = now_s()

    def hit(self, scope: str, key: str, amount: int, window_s: float) -> float | None:
        """Count one hit; None if allowed, else the seconds until one is (nothing counted)."""
        now_s = self._now_s()
        with self._lock:
            if now_s - self._swept_at_s >= SWEEP_INTERVAL_S:
                self._sweep(now_s)
            entry = self._hits.get((scope, key))
            if entry is None:
                entry = self._hits[(scope, key)] = (window_s, deque())
            hits = entry[1]
            while hits and hits[0] <= now_s - window_s:
                hits.popleft()
            if len(hits) < amount:
                hits.append(now_s)
                return None
            return (hits[0] if hits else now_s) + window_s - now_s  # hits: none under "0/…"

    def __len__(self) -> int:
        """How many keys are held (tests: idle ones are forgotten)."""
        return len(self._hits)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _sweep(self, now_s: float) -> None:
        """Forget keys with no hit left in their window (called holding the lock)."""
        self._swept_at_s = now_s
        idle = [k for k, (window_s, hits) in self._hits.items()
                if not hits or hits[-1] <= now_s - window_s]
        for k in idle:
            del self._hits[k]


class RateLimits:
    """Counts hits per scope and key; says how long to wait once a limit is reached."""

    def __init__(self, *, limits: Mapping[Scope, str], storage_uri: str = MEMORY_URI) -> None:
        missing = set(SCOPES) - set(limits)
        if missing:
            raise RateLimitConfigError(f"no rate limit given for {sorted(missing)}")
        self._items = {scope: parse_limit(scope, limits[scope]) for scope in SCOPES}
        self.shared = not storage_uri.startswith(MEMORY_URI)
        self._memory = MemoryWindows()  # counts here unless the storage is shared
        self._storage = open_storage(storage_uri) if self.shared else None
        self._limiter = MovingWindowRateLimiter(self._storage) if self._storage else None

    def limit(self, scope: Scope) -> str:
        return str(self._items[scope])

    def hit(self, scope: Scope, key: str) -> int | None:
        """Count one hit; None if allowed, else the whole seconds to wait (``Retry-After``)."""
        item = self._items.get(scope)
        if item is None:
            raise ValueError(f"rate-limit scope {scope!r} is not one of {SCOPES}")
        ident = key[:KEY_CHARS_MAX]
        limiter = self._limiter
        wait_s = (self._memory.hit(scope, ident, item.amount, item.get_expiry())
                  if limiter is None else _shared_hit(limiter, scope, item, ident))
        if wait_s is None:
            return None
        RATE_LIMITED.labels(scope=scope).inc()
        return max(1, math.ceil(wait_s))

    def hit_all(self, scope: Scope, keys: Iterable[str]) -> int | None:
        """A hit on each key; None if all are allowed, else the longest wait."""
        waits = [wait for key in keys if (wait := self.hit(scope, key)) is not None]
        return max(waits, default=None)

    async def hit_async(self, scope: Scope, *keys: str) -> int | None:
        """:meth:`hit_all` from the event loop; a network storage is asked from a thread."""
        if not self.shared:
            return self.hit_all(scope, keys)
        return await anyio.to_thread.run_sync(self.hit_all, scope, keys)

    def reset(self) -> None:
        """Forget every count (tests, and an operator clearing a false alarm)."""
        self._memory.reset()
        if self._storage is not None:
            self._storage.reset()


def _shared_hit(limiter: MovingWindowRateLimiter, scope: Scope, item: RateLimitItem,
                ident: str) -> float | None:
    """A hit in the shared storage; None if allowed, else the seconds to wait. A failing
    storage lets the request by, logged and counted."""
    try:
        if limiter.hit(item, KEY_NAMESPACE, scope, ident):
            return None
        reset_at_s = limiter.get_window_stats(item, KEY_NAMESPACE, scope, ident).reset_time
    except StorageError as exc:
        LIMITER_ERRORS.inc()
        log.error("rate_limit.storage_failed", scope=scope,
                  error=type(exc.storage_error).__name__)
        return None
    # ``limits`` stamps hits with the wall clock (its own, or Redis callers'), so the
    # wait is measured on that clock, not on the platform's injectable one.
    return reset_at_s - time.time()

"""Rate limits: moving windows per client address, per merchant key, per account.

Counts live in the ``limits`` library's storage: this process's memory by
default, Redis when ``settings.redis_url`` is set, so that every API process
behind a load balancer shares one count. The Redis client is an optional
extra (``pip install 'paywarden[redis]'``); ``limits`` imports it only when a
``redis://`` URI is opened.

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
import time
from collections.abc import Iterable, Mapping
from typing import Literal

import anyio.to_thread
import structlog
from limits import RateLimitItem, parse
from limits.errors import ConfigurationError, StorageError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter

from ..settings import Settings

Scope = Literal["address", "merchant_key", "account"]
SCOPES: tuple[Scope, ...] = ("address", "merchant_key", "account")
KEY_NAMESPACE = "paywarden"
KEY_CHARS_MAX = 128
MEMORY_URI = "memory://"

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


class RateLimits:
    """Counts hits per scope and key; says how long to wait once a limit is reached."""

    def __init__(self, *, limits: Mapping[Scope, str], storage_uri: str = MEMORY_URI) -> None:
        missing = set(SCOPES) - set(limits)
        if missing:
            raise RateLimitConfigError(f"no rate limit given for {sorted(missing)}")
        self._items = {scope: parse_limit(scope, limits[scope]) for scope in SCOPES}
        self._storage = open_storage(storage_uri)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self.shared = not storage_uri.startswith(MEMORY_URI)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(storage_uri=settings.redis_url or MEMORY_URI, limits={
            "address": settings.rate_limit_address,
            "merchant_key": settings.rate_limit_merchant_key,
            "account": settings.rate_limit_account,
        })

    def limit(self, scope: Scope) -> str:
        return str(self._items[scope])

    def hit(self, scope: Scope, key: str) -> int | None:
        """Count one hit; None if allowed, else the whole seconds to wait (``Retry-After``)."""
        item = self._items.get(scope)
        if item is None:
            raise ValueError(f"rate-limit scope {scope!r} is not one of {SCOPES}")
        ident = key[:KEY_CHARS_MAX]
        try:
            if self._limiter.hit(item, KEY_NAMESPACE, scope, ident):
                return None
            reset_at_s = self._limiter.get_window_stats(item, KEY_NAMESPACE, scope, ident
                                                        ).reset_time
        except StorageError as exc:
            LIMITER_ERRORS.inc()
            log.error("rate_limit.storage_failed", scope=scope, error=type(exc.storage_error
                                                                             ).__name__)
            return None
        RATE_LIMITED.labels(scope=scope).inc()
        # ``limits`` stamps hits with the wall clock (its own, or Redis callers'), so the
        # wait is measured on that clock, not on the platform's injectable one.
        return max(1, math.ceil(reset_at_s - time.time()))

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
        self._storage.reset()

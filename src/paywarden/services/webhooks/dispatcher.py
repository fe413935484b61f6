"""Delivering due webhook events: signed POSTs, retried with back-off, every attempt logged.

An event is due while it is pending and its ``next_attempt_at`` has come. A
process claims it by moving ``next_attempt_at`` past a lease (a conditional
UPDATE, so two processes never send the same attempt), POSTs it to the
merchant's endpoint (no redirects followed, a timeout, the response body never
read, only to a public address: :mod:`.transport`), and records the attempt. A 2xx answer delivers it; anything else
schedules the next attempt after an exponential back-off with jitter, until the
retry horizon (``webhook_retry_horizon_s``, three days, counted from the
event's creation or its last resend) has passed: then it is failed. Delivery
is at least once: a crash between the POST and the record sends it again, with
the same ``Webhook-Id`` for the receiver to drop.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import structlog
from sqlalchemy import and_, insert, select, update

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import webhook_deliveries, webhook_events
from .. import audit
from ..keys import Keys
from . import events as events_
from .endpoints import get_endpoint
from .errors import WebhookRefused
from .events import DELIVERED, FAILED, PENDING, Event
from .signing import signed_headers
from .transport import PinnedTransport
from .urls import check_url

log = structlog.get_logger(__name__)
NS = 1_000_000_000
LEASE_MARGIN_S = 30
WORKERS_MAX = 8
PURPOSE = "webhooks"


@dataclass(frozen=True)
class Policy:
    """The ``webhook_*`` settings, read once by the composition root (``bootstrap``)."""

    horizon_s: int
    base_s: float
    max_s: float
    timeout_s: float
    allow_http: bool
    allow_private: bool
    batch_max: int


@dataclass
class Report:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0  # given up


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_ns(attempt: int, *, base_s: float, max_s: float, rng: random.Random) -> int:
    """The delay after failed attempt ``attempt`` (1, 2, …): base·2^(n-1), capped, jittered.

    "Equal jitter": half the delay fixed, half random, so receivers that fail
    together are not retried together, and no retry comes at once.
    """
    ceiling = min(max_s, base_s * 2.0 ** min(attempt - 1, 62))
    return int((ceiling / 2 + rng.uniform(0, ceiling / 2)) * NS)


class Deliveries:
    """Delivers due events: the database's outbox, the keyring's ``webhooks`` key, the clock."""

    def __init__(self, database: Database, *, clock: Clock, keys: Keys, policy: Policy) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self.policy = policy

    def deliver_due(self, limit: int | None = None, *, client: httpx.Client | None = None,
                    rng: random.Random | None = None) -> Report:
        """Attempt every due event, at most ``limit`` (``webhook_batch_max``); what happened."""
        policy = self.policy
        limit = limit or policy.batch_max
        rng = rng or random.SystemRandom()
        due = self._due(self._clock.now_ns(), limit)
        report = Report()
        if not due:
            return report
        own = client is None
        http = client or httpx.Client(transport=PinnedTransport(allow_private=policy.allow_private),
                                      follow_redirects=False, trust_env=False,
                                      timeout=httpx.Timeout(policy.timeout_s))
        try:
            with ThreadPoolExecutor(max_workers=min(WORKERS_MAX, len(due)),
                                    thread_name_prefix="webhook") as pool:
                states = list(pool.map(lambda e: self._deliver_one(http, e, rng), due))
        finally:
            if own:
                http.close()
        for state in states:
            report.attempted += state is not None
            report.delivered += state == DELIVERED
            report.failed += state == FAILED
        return report

    def _due(self, now: int, limit: int) -> list[Event]:
        c = webhook_events.c
        with self._database.engine.connect() as conn:
            ids = conn.execute(select(c.id).where(and_(c.state == PENDING,
                                                       c.next_attempt_at <= now))
                               .order_by(c.next_attempt_at).limit(limit)).scalars().all()
            found = [events_.get(conn, event_id) for event_id in ids]
        return [event for event in found if event is not None]

    def _claim(self, event: Event, now: int) -> bool:
        c = webhook_events.c
        lease = now + int((self.policy.timeout_s * 4 + LEASE_MARGIN_S) * NS)
        with self._database.engine.begin() as conn:
            claimed = conn.execute(update(webhook_events).where(and_(
                c.id == event.id, c.state == PENDING, c.next_attempt_at == event.next_attempt_at,
                c.attempts == event.attempts)).values(next_attempt_at=lease))
        return claimed.rowcount == 1

    def _post(self, client: httpx.Client, event: Event, now: int) -> _Outcome:
        policy = self.policy
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        with self._database.engine.connect() as conn:
            endpoint = get_endpoint(conn, self._keys, event.merchant_id)
        try:
            if endpoint is None or not endpoint.active:
                raise WebhookRefused("no_endpoint", "the merchant has no webhook endpoint")
            check_url(endpoint.url, allow_http=policy.allow_http,
                      allow_private=policy.allow_private)
            body = event.body()
            headers = signed_headers(self._keys.signer(PURPOSE), url=endpoint.url,
                                     event_id=event.id, body=body, now_s=now // NS)
            with client.stream("POST", endpoint.url, content=body,
                               headers=headers) as response:
                status = response.status_code  # the body is never read: it may be anything
            if 300 <= status < 400:
                error = "redirect_refused"
            elif not 200 <= status < 300:
                error = "http_status"
        except WebhookRefused as exc:
            error = exc.code
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.TransportError:
            error = "connection_failed"  # never the exception's text: it may hold the URL
        duration_ms = int((time.monotonic() - started) * 1000)
        return _Outcome(status_code=status, error=error, duration_ms=duration_ms)

    def _record(self, event: Event, outcome: _Outcome, now: int, rng: random.Random) -> str:
        policy = self.policy
        attempt = event.attempts + 1
        state, next_at = DELIVERED, None
        if not outcome.ok:
            next_at = now + backoff_ns(attempt, base_s=policy.base_s, max_s=policy.max_s, rng=rng)
            if next_at > event.retry_from + policy.horizon_s * NS:
                state, next_at = FAILED, None
            else:
                state = PENDING
        c = webhook_events.c
        with self._database.engine.begin() as conn:
            conn.execute(insert(webhook_deliveries).values(
                event_id=event.id, attempt=attempt, at=now, status_code=outcome.status_code,
                error=outcome.error, duration_ms=outcome.duration_ms, state=state,
                next_attempt_at=next_at))
            conn.execute(update(webhook_events).where(and_(c.id == event.id,
                                                           c.attempts == event.attempts))
                         .values(attempts=attempt, state=state, next_attempt_at=next_at))
            if state != PENDING:
                audit.record(conn, at_ns=now, actor=audit.SYSTEM, action=f"webhook.{state}",
                             object_id=event.id,
                             detail={"merchant_id": event.merchant_id, "attempts": attempt,
                                     "status_code": outcome.status_code},
                             before=PENDING, after=state)
        return state

    def _deliver_one(self, client: httpx.Client, event: Event,
                     rng: random.Random) -> str | None:
        now = self._clock.now_ns()
        if not self._claim(event, now):
            return None  # another process took it
        outcome = self._post(client, event, now)
        state = self._record(event, outcome, now, rng)
        log.info("webhook.attempt", event_id=event.id, attempt=event.attempts + 1, state=state,
                 status_code=outcome.status_code, error=outcome.error)
        return state


class Dispatcher:
    """Runs a batch of deliveries (:meth:`Deliveries.deliver_due`) on a thread of its own.

    :meth:`kick` returns at once, so the maintenance thread that calls it every
    ``webhook_dispatch_interval_s`` is never held up by a slow endpoint.
    """

    def __init__(self, deliver_due: Callable[[int | None], object], *,
                 limit: int | None = None) -> None:
        self._deliver_due = deliver_due
        self._limit = limit
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> bool:
        """Start a batch unless one is running; whether one was started."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()
            return True

    def join(self, timeout_s: float | None = None) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def _run(self) -> None:
        try:
            self._deliver_due(self._limit)
        except Exception:  # logged; the next kick tries again
            log.exception("webhooks.dispatch_failed")

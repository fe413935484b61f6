"""Idempotency keys: a POST retried with the same key gets the first answer, once.

A key belongs to the principal that sent it. Claiming a key inserts a row in
``running`` state; the primary key (principal, key) lets exactly one request
win, on SQLite and PostgreSQL alike. Then:

    same key, same request, first one finished   the stored response is replayed
    same key, same request, first still running  idempotency_in_progress (409)
    same key, another request                    idempotency_key_reused (422)

A request that fails on the server (5xx, or an exception) releases its key, so
a retry runs again; any other answer, 4xx included, is stored and kept for the
TTL. A claim whose request died with its process is taken over after a lease. A claim
whose release met a database that was away (a failover) is released once the
database is back (:meth:`IdempotencyKeys.release_when_back`), not after the lease.
A stored response body may echo personal data: it is sealed, bound to its
(principal, key) row.

Exactly once (decision 0018): a request that moves money records its answer
with :meth:`IdempotencyKeys.record` *inside* the transaction of its effect, so
the effect and the key's answer commit together or not at all. Every write to a
claimed row is fenced by the :class:`Claim` it was made under (its
``claimed_at``): once a claim is taken over after its lease, the first request
can no longer record, complete or release it, and its effect rolls back.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from enum import Enum

import structlog
from sqlalchemy import ColumnElement, Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..adapters.clock import Clock
from ..adapters.store import Database, is_unavailable
from ..adapters.store.schema import idempotency_keys
from ..domain.errors import DomainError, InvariantViolation
from .sealed import FieldKeys, row_id

KEY_CHARS_MAX = 255
PRINCIPAL_CHARS_MAX = 64
PURGE_INTERVAL_NS = 60 * 10**9
RELEASE_RETRY_S = 0.5
log = structlog.get_logger(__name__)
CLAIM_ATTEMPTS_MAX = 3
NS = 10**9
RUNNING = "running"
TABLE = "idempotency_keys"
BODY_COLUMN = "response_body_sealed"
DONE = "done"


class _Again(Enum):
    INSERT = "insert"  # the row went away: try to insert again


class IdempotencyRefused(DomainError):
    """The key cannot be used for this request now; ``code`` says why (its HTTP status is
    the API's business: api/problem_codes.py)."""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Claim:
    """A key held by one running request. ``claimed_at`` fences every later write: a
    takeover after the lease moves it, and the old holder's writes then match nothing.
    ``recorded`` is the answer stored in the effect's own transaction, if any."""

    principal: str  # as stored: principal_scope() applied
    key: str
    claimed_at: int
    recorded: StoredResponse | None = None


def check_key(key: str) -> str:
    if not 0 < len(key) <= KEY_CHARS_MAX or not all(" " <= c <= "~" for c in key):
        raise IdempotencyRefused("idempotency_key_invalid", "an Idempotency-Key is 1 to "
                                 f"{KEY_CHARS_MAX} printable ASCII characters")
    return key


def principal_scope(scope: str) -> str:
    """The principal column: the scope itself, or its digest when too long to store."""
    if len(scope) <= PRINCIPAL_CHARS_MAX:
        return scope
    return "sha256:" + hashlib.sha256(scope.encode()).hexdigest()[:PRINCIPAL_CHARS_MAX - 7]


def fingerprint(method: str, target: str, body: bytes) -> str:
    """What makes two requests "the same": method, path with query, and body."""
    body_sha256 = hashlib.sha256(body).hexdigest()
    return hashlib.sha256(f"{method}\n{target}\n{body_sha256}".encode()).hexdigest()


class IdempotencyKeys:
    def __init__(self, database: Database, *, clock: Clock, keys: FieldKeys, ttl_s: int,
                 lease_s: int) -> None:
        self._database = database
        self._clock = clock
        self._keys = keys
        self._ttl_ns = ttl_s * NS
        self._lease_ns = lease_s * NS
        self._purged_at = -PURGE_INTERVAL_NS
        self._purge_lock = threading.Lock()
        self._unreleased: list[Claim] = []  # claims whose release met no database
        self._releaser: threading.Thread | None = None
        self._release_lock = threading.Lock()

    def claim(self, principal: str, key: str, request_sha256: str) -> Claim | StoredResponse:
        """A claim: the caller runs the request. A response: replay it. Raises if refused."""
        principal = principal_scope(principal)
        self._maybe_purge()
        for _ in range(CLAIM_ATTEMPTS_MAX):
            now = self._clock.now_ns()
            try:
                with self._database.engine.begin() as conn:
                    conn.execute(insert(idempotency_keys).values(
                        principal=principal, key=key, request_sha256=request_sha256,
                        state=RUNNING, created_at=now, expires_at=now + self._ttl_ns))
                return Claim(principal, key, now)
            except IntegrityError:
                pass
            outcome = self._existing(principal, key, request_sha256, now)
            if outcome is not _Again.INSERT:
                return outcome
        raise IdempotencyRefused("idempotency_in_progress", "a request with this "
                                 "Idempotency-Key is being processed; retry later")

    def _existing(self, principal: str, key: str, request_sha256: str,
                  now: int) -> Claim | StoredResponse | _Again:
        """The stored answer for a key already claimed, or what to do next."""
        where = (idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
        with self._database.engine.begin() as conn:
            row = conn.execute(select(idempotency_keys).where(*where)).mappings().first()
            if row is None:
                return _Again.INSERT  # released or purged meanwhile
            if row["expires_at"] <= now:
                conn.execute(delete(idempotency_keys).where(
                    *where, idempotency_keys.c.expires_at <= now))
                return _Again.INSERT
            if row["request_sha256"] != request_sha256:
                raise IdempotencyRefused("idempotency_key_reused", "this Idempotency-Key was "
                                         "used for another request; use a new key")
            if row["state"] == DONE:
                body = self._open_body(principal, key, row["response_body_sealed"])
                headers = [(n, v) for n, v in json.loads(row["response_headers"])]
                return StoredResponse(row["status_code"], headers, body)
            if now - row["created_at"] < self._lease_ns:
                raise IdempotencyRefused("idempotency_in_progress", "a request with this "
                                         "Idempotency-Key is being processed; retry later")
            # The first request outlived its lease: its process died. Take the claim over.
            taken = conn.execute(update(idempotency_keys).where(
                *where, idempotency_keys.c.state == RUNNING,
                idempotency_keys.c.created_at == row["created_at"]).values(created_at=now))
        return Claim(principal, key, now) if taken.rowcount == 1 else _Again.INSERT

    def record(self, conn: Connection, claim: Claim, response: StoredResponse) -> None:
        """Store the answer in the caller's transaction, the one that makes the effect.
        Raises (so the effect rolls back) if the claim was taken over meanwhile."""
        if self._finish(conn, claim, response) != 1:
            raise IdempotencyRefused("idempotency_claim_lost", "this request outlived its "
                                     "Idempotency-Key's lease and another took it over; "
                                     "nothing was applied")
        claim.recorded = response

    def complete(self, claim: Claim, response: StoredResponse) -> None:
        """Store the answer of a request whose effect (if any) committed on its own. Does
        nothing if the answer was recorded with the effect or the claim was taken over."""
        with self._database.engine.begin() as conn:
            self._finish(conn, claim, response)

    def _finish(self, conn: Connection, claim: Claim, response: StoredResponse) -> int:
        sealed = self._keys.seal(response.body, table=TABLE, column=BODY_COLUMN,
                                 row_id=row_id(claim.principal, claim.key))
        done = conn.execute(update(idempotency_keys).where(*_held(claim)).values(
            state=DONE, status_code=response.status_code,
            response_headers=json.dumps(response.headers), response_body_sealed=sealed,
            expires_at=self._clock.now_ns() + self._ttl_ns))
        return int(done.rowcount)

    def _open_body(self, principal: str, key: str, sealed: bytes | None) -> bytes:
        if sealed is None:
            raise InvariantViolation("a finished idempotency key has no sealed response body")
        return self._keys.open(bytes(sealed), table=TABLE, column=BODY_COLUMN,
                               row_id=row_id(principal, key))

    def release(self, claim: Claim) -> None:
        """Let a retry run again: only a claim still held (not recorded, not taken over)."""
        with self._database.engine.begin() as conn:
            conn.execute(delete(idempotency_keys).where(*_held(claim)))

    def release_when_back(self, claim: Claim) -> None:
        """:meth:`release`, or, when the database is away, again every
        ``RELEASE_RETRY_S`` on a thread of its own until it is back or the lease ends.
        A claim whose effect did commit (its answer lost with the connection) is no longer
        held, and its release changes nothing."""
        try:
            self.release(claim)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            with self._release_lock:
                self._unreleased.append(claim)
                if self._releaser is None:
                    self._releaser = threading.Thread(target=self._release_later,
                                                      name="idempotency-release", daemon=True)
                    self._releaser.start()

    def _release_later(self) -> None:
        while True:
            time.sleep(RELEASE_RETRY_S)
            with self._release_lock:
                now = self._clock.now_ns()
                pending = [c for c in self._unreleased if c.claimed_at + self._lease_ns > now]
                if not pending:
                    self._unreleased, self._releaser = [], None
                    return
            try:
                for claim in pending:
                    self.release(claim)
            except Exception as exc:  # noqa: BLE001 - still away: the next turn tries again
                if not is_unavailable(exc):
                    log.error("idempotency.release_failed", error=type(exc).__name__)
                continue
            with self._release_lock:
                self._unreleased = [c for c in self._unreleased if c not in pending]

    def purge_expired(self) -> int:
        now = self._clock.now_ns()
        with self._database.engine.begin() as conn:
            result = conn.execute(delete(idempotency_keys).where(
                idempotency_keys.c.expires_at <= now))
        return int(result.rowcount)

    def _maybe_purge(self) -> None:
        now = self._clock.now_ns()
        with self._purge_lock:
            if now - self._purged_at < PURGE_INTERVAL_NS:
                return
            self._purged_at = now
        self.purge_expired()


def _held(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    """The row as this claim holds it: still running, not taken over since."""
    c = idempotency_keys.c
    return (c.principal == claim.principal, c.key == claim.key, c.state == RUNNING,
            c.created_at == claim.claimed_at)

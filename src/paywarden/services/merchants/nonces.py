"""Seen signature nonces, claimed in batches: each (key, nonce) is accepted once in the window.

A verification hands its claim (key id, nonce, expiry) to :meth:`Nonces.claim`
and waits for the answer. Claims are written by group commit, with no thread
of its own: the first caller to find no batch being written becomes the
leader; it takes its own claim and up to ``batch_size_max - 1`` waiting ones,
writes them in one transaction, answers every claim of the batch, and hands
the lead on. Callers that arrive meanwhile wait, at most ``wait_s``, for the
next batch. One durable commit then serves a batch, not a request.

The batch's transaction, in this order (the write comes first, so that on
SQLite the transaction holds the write lock from its first statement and never
has to upgrade a read snapshot)::

    INSERT … ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded
        WHERE the stored row has expired            RETURNING key_id, nonce
        → a claim returned is new; one not returned meets a live row: replayed
    SELECT each key's revoked_at and its merchant's status
        → a key unknown, revoked, or whose merchant is not active is refused,
          and the rows just written for it are deleted again
    COMMIT                                            → only now is any claim answered

Two claims of one batch for the same (key, nonce) are told apart in memory:
the first is written, the others are replayed. Between processes, the primary
key decides: the second insert meets the first's row (on PostgreSQL it waits
for the first transaction to end). A batch that cannot be written answers
every claim in it with :class:`ClaimUnavailable`: a request is never accepted
on an unclaimed nonce.

Expired rows are purged, ``PURGE_ROWS_MAX`` at a time, at most once every
``PURGE_INTERVAL_S`` (sooner while a purge finds more), by the leader after it
has answered its batch, and only once they expired ``CLOCK_SKEW_S_MAX`` ago:
another process whose clock is behind still refuses their signatures as
expired. Decision record 0017 holds the whole argument.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Connection, delete, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.database import SQLITE_BUSY_TIMEOUT_MS
from ...adapters.store.schema import merchant_keys, merchants, request_nonces
from .merchants import ACTIVE

BATCH_SIZE_MAX = 256  # 3 parameters a row: far below SQLite's 32,766 bound variables
WAIT_S = 5.0
PURGE_INTERVAL_S = 60
PURGE_ROWS_MAX = 5_000
CLOCK_SKEW_S_MAX = 30  # how far apart the clocks of processes sharing the table may be
NS = 10**9

log = structlog.get_logger(__name__)


class Verdict(enum.Enum):
    CLAIMED = "claimed"  # new, and now durably recorded
    REPLAYED = "replayed"  # a live row holds this (key, nonce), or an earlier claim in the batch
    KEY_UNKNOWN = "key_unknown"
    KEY_REVOKED = "key_revoked"
    MERCHANT_INACTIVE = "merchant_inactive"


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    merchant_status: str | None = None  # the merchant's status as read in the batch


class ClaimUnavailable(Exception):
    """The claim could not be made durable in time: the request must be refused (503)."""


@dataclass(eq=False)
class _Claim:
    key_id: str
    nonce: str
    expires_at_ns: int
    answer: Answer | None = None
    failed: bool = False


@dataclass
class _Queue:
    waiting: deque[_Claim] = field(default_factory=deque)
    writing: bool = False


class Nonces:
    def __init__(self, database: Database, *, clock: Clock, batch_size_max: int = BATCH_SIZE_MAX,
                 wait_s: float = WAIT_S) -> None:
        if not 1 <= batch_size_max <= BATCH_SIZE_MAX:
            raise ValueError(f"batch_size_max {batch_size_max!r} is not in 1..{BATCH_SIZE_MAX}")
        if not wait_s > 0:
            raise ValueError(f"wait_s {wait_s!r} is not positive")
        self._database = database
        self._clock = clock
        self._batch_size_max = batch_size_max
        self._wait_s = wait_s
        self._queue = _Queue()
        self._changed = threading.Condition()
        self._purge_due_ns = -1

    def claim(self, key_id: str, nonce: str, *, expires_at_ns: int) -> Answer:
        """The answer for this claim, once it is durable; :class:`ClaimUnavailable` if not."""
        claim = _Claim(key_id, nonce, expires_at_ns)
        deadline = time.monotonic() + self._wait_s
        queue = self._queue
        with self._changed:
            queue.waiting.append(claim)
            while queue.writing and claim.answer is None and not claim.failed:
                remaining_s = deadline - time.monotonic()
                if remaining_s <= 0:
                    if claim in queue.waiting:
                        queue.waiting.remove(claim)
                    raise ClaimUnavailable(f"no nonce batch was written within {self._wait_s} s")
                self._changed.wait(remaining_s)
            batch = self._lead(claim) if claim.answer is None and not claim.failed else None
        if batch is not None:
            self._write_and_answer(batch)
            self._maybe_purge()
        if claim.answer is None:
            raise ClaimUnavailable("the nonce could not be recorded; retry")
        return claim.answer

    def purge_expired(self) -> int:
        """Delete up to ``PURGE_ROWS_MAX`` rows expired ``CLOCK_SKEW_S_MAX`` ago; how many."""
        cutoff_ns = self._clock.now_ns() - CLOCK_SKEW_S_MAX * NS
        expired = (select(request_nonces.c.key_id, request_nonces.c.nonce)
                   .where(request_nonces.c.expires_at <= cutoff_ns).limit(PURGE_ROWS_MAX))
        with self._database.engine.begin() as conn:
            result = conn.execute(delete(request_nonces).where(
                tuple_(request_nonces.c.key_id, request_nonces.c.nonce).in_(expired)))
        return int(result.rowcount)

    def _lead(self, own: _Claim) -> list[_Claim]:
        """Take the lead (the caller holds the condition): own claim first, then the oldest."""
        queue = self._queue
        queue.writing = True
        queue.waiting.remove(own)
        batch = [own]
        while queue.waiting and len(batch) < self._batch_size_max:
            batch.append(queue.waiting.popleft())
        return batch

    def _write_and_answer(self, batch: list[_Claim]) -> None:
        answers: dict[int, Answer] = {}
        try:
            answers = self._write(batch)
        except SQLAlchemyError as exc:
            log.error("nonces.batch_failed", claims=len(batch), error=type(exc).__name__,
                      detail=str(exc).splitlines()[0][:200])
        finally:  # whatever happened, no claim of the batch is left waiting
            with self._changed:
                for index, claim in enumerate(batch):
                    claim.answer = answers.get(index)
                    claim.failed = claim.answer is None
                self._queue.writing = False
                self._changed.notify_all()

    def _write(self, batch: Sequence[_Claim]) -> dict[int, Answer]:
        """Each claim's answer by its place in the batch, after the commit."""
        firsts: dict[tuple[str, str], int] = {}
        for index, claim in enumerate(batch):
            firsts.setdefault((claim.key_id, claim.nonce), index)
        rows = [{"key_id": batch[i].key_id, "nonce": batch[i].nonce,
                 "expires_at": batch[i].expires_at_ns} for i in firsts.values()]
        now_ns = self._clock.now_ns()
        with self._database.engine.connect() as conn, _waits_bounded(conn, self._wait_s), \
                conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL statement_timeout = {_ms(self._wait_s)}"))
            new = _insert_new(conn, rows, now_ns=now_ns)
            states = _key_states(conn, {claim.key_id for claim in batch})
            refused = {(k, n) for k, n in new if states.get(k, _UNKNOWN).verdict is not
                       Verdict.CLAIMED}
            if refused:
                _delete(conn, refused)
        answers: dict[int, Answer] = {}
        for index, claim in enumerate(batch):
            pair = (claim.key_id, claim.nonce)
            state = states.get(claim.key_id, _UNKNOWN)
            if state.verdict is not Verdict.CLAIMED:
                answers[index] = state
            elif firsts[pair] == index and pair in new:
                answers[index] = state
            else:
                answers[index] = Answer(Verdict.REPLAYED)
        return answers

    def _maybe_purge(self) -> None:
        now_ns = self._clock.now_ns()
        with self._changed:
            if now_ns < self._purge_due_ns:
                return
            self._purge_due_ns = now_ns + PURGE_INTERVAL_S * NS
        try:
            if self.purge_expired() >= PURGE_ROWS_MAX:
                with self._changed:
                    self._purge_due_ns = now_ns  # more to go: the next leader purges again
        except SQLAlchemyError as exc:  # the claims are answered; the next purge tries again
            log.warning("nonces.purge_failed", error=type(exc).__name__)


_UNKNOWN = Answer(Verdict.KEY_UNKNOWN)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


@contextmanager
def _waits_bounded(conn: Connection, wait_s: float) -> Iterator[None]:
    """On SQLite, no statement of the batch waits longer than ``wait_s`` for the write lock.

    (On PostgreSQL, ``SET LOCAL statement_timeout`` bounds the transaction's statements.)
    The pooled connection's own busy timeout is put back afterwards.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    driver.execute(f"PRAGMA busy_timeout = {_ms(wait_s)}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def _insert_new(conn: Connection, rows: list[dict[str, object]], *,
                now_ns: int) -> set[tuple[str, str]]:
    """Write the batch's distinct claims; the (key, nonce) pairs that were new."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(request_nonces)
    stmt = stmt.on_conflict_do_update(
        index_elements=[request_nonces.c.key_id, request_nonces.c.nonce],
        set_={"expires_at": stmt.excluded.expires_at},
        where=request_nonces.c.expires_at <= now_ns,  # a row past its expiry blocks nothing
    ).returning(request_nonces.c.key_id, request_nonces.c.nonce)
    return {(row.key_id, row.nonce) for row in conn.execute(stmt, rows)}


def _key_states(conn: Connection, key_ids: set[str]) -> dict[str, Answer]:
    """Each known key's standing, read in the batch's transaction."""
    rows = conn.execute(
        select(merchant_keys.c.id, merchant_keys.c.revoked_at, merchants.c.status)
        .join(merchants, merchants.c.id == merchant_keys.c.merchant_id)
        .where(merchant_keys.c.id.in_(sorted(key_ids))))
    states: dict[str, Answer] = {}
    for key_id, revoked_at, status in rows:
        if revoked_at is not None:
            states[key_id] = Answer(Verdict.KEY_REVOKED, status)
        elif status != ACTIVE:
            states[key_id] = Answer(Verdict.MERCHANT_INACTIVE, status)
        else:
            states[key_id] = Answer(Verdict.CLAIMED, status)
    return states


def _delete(conn: Connection, pairs: set[tuple[str, str]]) -> None:
    by_key: dict[str, list[str]] = {}
    for key_id, nonce in pairs:
        by_key.setdefault(key_id, []).append(nonce)
    for key_id, nonces in by_key.items():
        conn.execute(delete(request_nonces).where(request_nonces.c.key_id == key_id,
                                                  request_nonces.c.nonce.in_(nonces)))

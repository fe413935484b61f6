"""Seen signature nonces, claimed in batches: each (key, nonce) is accepted once in the window.

A verification hands its claim (key id, nonce, expiry) to the claimer and waits,
at most ``wait_s``, for the answer: from a thread with :meth:`Nonces.claim`, from
the event loop with :meth:`Nonces.claim_async` (no thread of its own per request).
One writer thread, started on demand and gone after ``WRITER_IDLE_S`` without
work, takes up to ``batch_size_max`` waiting claims, writes them in one
transaction and answers each; claims that arrive meanwhile make the next batch
(group commit). One durable commit serves a batch, not a request.

The batch's transaction, in this order (writes come first, so that on SQLite
the transaction holds the write lock from its first statement and never has to
upgrade a read snapshot)::

    DELETE expired rows, when a purge is due (see below)
    INSERT … ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded
        WHERE the stored row has expired            RETURNING key_id, nonce
        → a claim returned is new; one not returned meets a live row: replayed
    SELECT each key's revoked_at and its merchant's status
        → a key unknown, revoked, or whose merchant is not active is refused,
          and the rows just written for it are deleted again
    COMMIT                                            → only now is any claim answered

Two claims of one batch for the same (key, nonce) are told apart in memory:
the first is written, the others are replayed. Between processes the primary
key decides: the second insert meets the first's row (on PostgreSQL it waits
for the first transaction to end). A batch that cannot be written, a claim not
answered within ``wait_s`` and a claim that finds ``QUEUE_DEPTH_MAX`` others
waiting all end in :class:`ClaimUnavailable`: a request is never accepted on a
nonce that is not recorded. The writer itself waits for a lock at most
``wait_s`` on PostgreSQL (``statement_timeout``) and the connection's busy
timeout on SQLite (``SQLITE_BUSY_TIMEOUT_MS``); its callers never wait longer
than ``wait_s``.

Expired rows are purged in a batch's transaction, ``PURGE_ROWS_MAX`` at a
time, at most once every ``PURGE_INTERVAL_S`` (with the next batch while a
purge finds more), and only ``CLOCK_SKEW_S_MAX`` after they expired: another
process whose clock is behind still refuses their signatures as expired. So
the writer never touches the database once it has answered. The whole argument
is in docs/decisions/0020-replay-nonces-by-group-commit.md.
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, bindparam, delete, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ...adapters.clock import Clock
from ...adapters.store import Database
from ...adapters.store.schema import merchant_keys, merchants, request_nonces
from ...domain.errors import PayWardenError
from .merchants import ACTIVE

BATCH_SIZE_MAX = 256  # 4 parameters a row: far below SQLite's 32,766 bound variables
QUEUE_DEPTH_MAX = 4_096
WAIT_S = 5.0
WRITER_IDLE_S = 10.0
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


class ClaimUnavailable(PayWardenError):
    """The claim could not be made durable in time: the request must be refused (503)."""


@dataclass(eq=False)
class _Claim:
    key_id: str
    nonce: str
    expires_at_ns: int
    answer: Answer | None = None  # set before the waiter is woken; None then means failed
    done: threading.Event | None = None  # a thread waits on this
    future: asyncio.Future[None] | None = None  # or a coroutine on this


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
        self._statements = _Statements(database.dialect)
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._waiting: deque[_Claim] = deque()
        self._writer: threading.Thread | None = None
        self._purge_due_ns = -1

    def claim(self, key_id: str, nonce: str, *, expires_at_ns: int) -> Answer:
        """The answer once this claim is durable; :class:`ClaimUnavailable` if it is not."""
        done = threading.Event()
        claim = _Claim(key_id, nonce, expires_at_ns, done=done)
        self._submit(claim)
        if not done.wait(self._wait_s):
            raise ClaimUnavailable(f"the nonce was not recorded within {self._wait_s} s")
        return _answered(claim)

    async def claim_async(self, key_id: str, nonce: str, *, expires_at_ns: int) -> Answer:
        """:meth:`claim` for a coroutine on an asyncio loop: it waits without a thread."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        claim = _Claim(key_id, nonce, expires_at_ns, future=future)
        self._submit(claim)
        try:
            await asyncio.wait_for(future, self._wait_s)
        except TimeoutError:
            raise ClaimUnavailable(f"the nonce was not recorded within {self._wait_s} s"
                                   ) from None
        return _answered(claim)

    def purge_expired(self) -> int:
        """Delete up to ``PURGE_ROWS_MAX`` rows expired ``CLOCK_SKEW_S_MAX`` ago; how many."""
        with self._database.engine.begin() as conn:
            return _purge(conn, now_ns=self._clock.now_ns())

    def _submit(self, claim: _Claim) -> None:
        with self._lock:
            if len(self._waiting) >= QUEUE_DEPTH_MAX:
                raise ClaimUnavailable(f"{QUEUE_DEPTH_MAX} nonce claims are already waiting")
            self._waiting.append(claim)
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name="nonce-claims",
                                                daemon=True)
                self._writer.start()
            else:
                self._work.notify()

    def _run(self) -> None:
        """The writer: batch after batch while claims come, then it ends."""
        try:
            while (batch := self._next_batch()) is not None:
                answers: dict[int, Answer] = {}
                try:
                    answers = self._write(batch)
                except SQLAlchemyError as exc:
                    log.error("nonces.batch_failed", claims=len(batch),
                              error=type(exc).__name__, detail=str(exc).splitlines()[0][:200])
                finally:  # whatever happened, every claim of the batch is answered
                    _settle(batch, answers)
        finally:
            with self._lock:
                if self._writer is threading.current_thread():
                    self._writer = None

    def _next_batch(self) -> list[_Claim] | None:
        with self._lock:
            if not self._waiting:
                self._work.wait(WRITER_IDLE_S)
            if not self._waiting:
                self._writer = None
                return None
            batch = [self._waiting.popleft()]
            while self._waiting and len(batch) < self._batch_size_max:
                batch.append(self._waiting.popleft())
            return batch

    def _write(self, batch: Sequence[_Claim]) -> dict[int, Answer]:
        """Each claim's answer by its place in the batch, after the commit."""
        firsts: dict[tuple[str, str], int] = {}
        for index, claim in enumerate(batch):
            firsts.setdefault((claim.key_id, claim.nonce), index)
        now_ns = self._clock.now_ns()
        # In one order everywhere: two processes' batches then lock their rows in the same
        # order on PostgreSQL, and never wait for each other in a cycle.
        rows = [{"key_id": batch[i].key_id, "nonce": batch[i].nonce,
                 "expires_at": batch[i].expires_at_ns, "now_ns": now_ns}
                for _, i in sorted(firsts.items())]
        statements = self._statements
        with self._database.engine.begin() as conn:  # a unit of work that writes
            if conn.dialect.name == "postgresql":  # SQLite: its busy timeout bounds the wait
                conn.execute(text(f"SET LOCAL statement_timeout = {int(self._wait_s * 1000)}"))
            if now_ns >= self._purge_due_ns:  # nothing touches the database after the answers
                purged = _purge(conn, now_ns=now_ns)
                more = purged >= PURGE_ROWS_MAX  # then again with the next batch
                self._purge_due_ns = now_ns if more else now_ns + PURGE_INTERVAL_S * NS
            new = {(row.key_id, row.nonce) for row in conn.execute(statements.insert, rows)}
            states = _key_states(conn.execute(statements.key_states, {
                "key_ids": sorted({claim.key_id for claim in batch})}))
            refused = {(k, n) for k, n in new if states.get(k, _UNKNOWN).verdict is not
                       Verdict.CLAIMED}
            if refused:
                _delete(conn, refused)
            if conn.dialect.name == "postgresql":
                # Not the COMMIT: one cancelled while it waits for a synchronous replica
                # returns with only a warning, committed on this server alone (decision 0065).
                conn.execute(text("SET LOCAL statement_timeout = 0"))
        answers: dict[int, Answer] = {}
        for index, claim in enumerate(batch):
            pair = (claim.key_id, claim.nonce)
            state = states.get(claim.key_id, _UNKNOWN)
            fresh = state.verdict is not Verdict.CLAIMED or (firsts[pair] == index and pair in new)
            answers[index] = state if fresh else Answer(Verdict.REPLAYED)
        return answers


_UNKNOWN = Answer(Verdict.KEY_UNKNOWN)


class _Statements:
    """Built once: a batch only binds its values."""

    def __init__(self, dialect: str) -> None:
        dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        insert = dialect_insert(request_nonces)
        self.insert = insert.on_conflict_do_update(
            index_elements=[request_nonces.c.key_id, request_nonces.c.nonce],
            set_={"expires_at": insert.excluded.expires_at},
            # A row past its expiry blocks nothing: its own signature is refused as expired.
            where=request_nonces.c.expires_at <= bindparam("now_ns"),
        ).returning(request_nonces.c.key_id, request_nonces.c.nonce)
        self.key_states = (
            select(merchant_keys.c.id, merchant_keys.c.revoked_at, merchants.c.status)
            .join(merchants, merchants.c.id == merchant_keys.c.merchant_id)
            .where(merchant_keys.c.id.in_(bindparam("key_ids", expanding=True))))


def _answered(claim: _Claim) -> Answer:
    if claim.answer is None:
        raise ClaimUnavailable("the nonce could not be recorded")
    return claim.answer


def _settle(batch: Sequence[_Claim], answers: dict[int, Answer]) -> None:
    """Answer every claim (None: failed) and wake its waiter; one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for index, claim in enumerate(batch):
        claim.answer = answers.get(index)
        if claim.done is not None:
            claim.done.set()
        elif claim.future is not None:
            by_loop.setdefault(claim.future.get_loop(), []).append(claim.future)
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_wake, futures)
        except RuntimeError:  # the loop has closed: nobody waits any more
            continue


def _wake(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a waiter that timed out has cancelled its future
            future.set_result(None)


def _purge(conn: Connection, *, now_ns: int) -> int:
    """Delete up to ``PURGE_ROWS_MAX`` rows expired ``CLOCK_SKEW_S_MAX`` ago; how many."""
    # PostgreSQL: rows another purge or batch holds are left for the next purge, so that
    # purges in several processes never wait for each other (SQLite has one writer anyway).
    expired = (select(request_nonces.c.key_id, request_nonces.c.nonce)
               .where(request_nonces.c.expires_at <= now_ns - CLOCK_SKEW_S_MAX * NS)
               .limit(PURGE_ROWS_MAX).with_for_update(skip_locked=True))
    return int(conn.execute(delete(request_nonces).where(
        tuple_(request_nonces.c.key_id, request_nonces.c.nonce).in_(expired))).rowcount)


def _key_states(rows: Any) -> dict[str, Answer]:
    """Each known key's standing, as read in the batch's transaction."""
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

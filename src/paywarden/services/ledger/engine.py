"""The ledger engine: one writer thread applying coalesced batches (group commit).

Callers on any thread ``submit`` a list of events and get a Future. The writer
takes as many queued submissions as fit in ``BATCH_SIZE_MAX`` events, applies
them in one database transaction, commits once, and resolves each Future with
that submission's own results. Durability therefore costs one fsync per batch.

The writer keeps the accounts it has seen in memory. Each batch reads the
ledger's write version under the lock; if another process wrote since, the
cache is dropped, so several engines (several API processes) stay correct.

A store error fails only its own batch; anything else ends the writer, and
every caller hears so at once (``writer_thread``: crash, don't limp).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import structlog

from ...adapters.clock import Clock
from ...adapters.store import Database, DatabaseUnavailable, is_unavailable
from ...adapters.store.ledger_writer import LedgerWriter, Loaded, writer_for
from ...adapters.store.unavailable import connection_broken
from ...domain.audit.leaves import Event
from ...domain.errors import InvariantViolation
from ...domain.ledger import (
    BATCH_SIZE_MAX,
    Account,
    AccountFlags,
    AccountResult,
    Book,
    Pending,
    Row,
    Transfer,
    TransferResult,
    check_account,
)
from ...domain.ledger.digests import rows_digest
from . import metrics
from .batch_events import batch_event, ledger_event
from .checkpointer import FALLBACK_PAGES, Checkpointer
from .errors import BatchTooLarge, EngineStopped
from .failed_ids import FailedIds
from .writer_thread import STOP, Job, OnFatal, WriterThread, fail

log = structlog.get_logger(__name__)

QUEUE_DEPTH_MAX = 1_024
ACCOUNTS_CACHED_MAX = 1_000_000
EXPIRY_INTERVAL_S = 1.0
RECONNECT_S_MIN = 0.1  # after the database went away: the first wait between attempts
RECONNECT_S_MAX = 2.0
WAIT_S = 10.0

_OK = TransferResult.OK
_DEBIT = itemgetter(1)  # Transfer.debit_account_id
_CREDIT = itemgetter(2)  # Transfer.credit_account_id
_PENDING_ID = itemgetter(7)  # Transfer.pending_id
_ALREADY_FAILED = TransferResult.ID_ALREADY_FAILED


@dataclass(frozen=True)
class NewAccount:
    id: int
    ledger: int
    code: int
    flags: int = 0
    user_data: str | None = None


class _StoredIdFailed(Exception):
    """A transfer failed on the fast path and its id names a stored transfer."""


class LedgerEngine(WriterThread):
    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        queue_depth_max: int = QUEUE_DEPTH_MAX,
        expiry_interval_s: float = EXPIRY_INTERVAL_S,
        wait_s: float = WAIT_S,
        on_fatal: OnFatal | None = None,
    ) -> None:
        super().__init__(queue_depth_max=queue_depth_max, wait_s=wait_s, on_fatal=on_fatal)
        self._database = database
        self._clock = clock
        self._expiry_interval_s = expiry_interval_s
        self._accounts: dict[int, Account] = {}
        self._failed = FailedIds()
        self._ledgers: set[int] = set()
        self._version: int | None = None
        self._writer: LedgerWriter | None = None
        self._checkpointer: Checkpointer | None = None
        self._reconnect_s = RECONNECT_S_MIN  # the wait after a failed reconnection
        self._reconnect_at = 0.0  # no attempt before (time.monotonic)

    def _open(self) -> None:
        self._writer = writer_for(self._database.dialect, self._database.raw_connection())
        if self._database.dialect == "sqlite" and self._database.file is not None:
            self._writer.defer_checkpoints(FALLBACK_PAGES)
            self._checkpointer = Checkpointer(self._database, wait_s=self._wait_s).start()

    def _close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # -- submitting ------------------------------------------------------

    def submit(self, transfers: Sequence[Transfer]) -> Future[list[TransferResult]]:
        if len(transfers) > BATCH_SIZE_MAX:
            raise BatchTooLarge(len(transfers), BATCH_SIZE_MAX)
        return self._enqueue(Job("transfers", list(transfers)))

    def create_accounts(self, accounts: Sequence[NewAccount]) -> Future[list[AccountResult]]:
        if len(accounts) > BATCH_SIZE_MAX:
            raise BatchTooLarge(len(accounts), BATCH_SIZE_MAX)
        return self._enqueue(Job("accounts", list(accounts)))

    def close_account(self, account_id: int) -> Future[AccountResult]:
        return self._enqueue(Job("close", account_id))

    def execute(self, transfers: Sequence[Transfer]) -> list[TransferResult]:
        """Submit and wait: the convenience for scripts and tests."""
        return self.wait(self.submit(transfers))

    # -- the writer thread -------------------------------------------------

    def _serve(self) -> None:
        while True:
            job = self._next(self._expiry_interval_s)
            if job is STOP:
                return
            if job is None:
                self._guarded([], self._expire_only)
            elif job.kind != "transfers":
                self._guarded([job], self._run_single)
            else:
                with _gc_paused():
                    self._guarded(self._coalesce(job), self._run_transfers)

    def _coalesce(self, first: Job) -> list[Job]:
        """Take queued submissions after ``first`` while they fit in one batch."""
        jobs = [first]
        size = len(first.payload)
        while size < BATCH_SIZE_MAX:
            nxt = self._get(0)
            if nxt is None:
                break
            if (nxt is STOP or nxt.kind != "transfers"
                    or size + len(nxt.payload) > BATCH_SIZE_MAX):
                self._put_back(nxt)
                break
            jobs.append(nxt)
            size += len(nxt.payload)
        return jobs

    def _guarded(self, jobs: list[Job], step: Any) -> None:
        writer = self._writer or self._reconnect(jobs)
        if writer is None:
            return
        try:
            step(writer, jobs)
        except InvariantViolation as exc:
            for job in jobs:
                fail(job.future, EngineStopped(f"ledger invariant violated: {exc}"))
            writer.rollback()
            raise
        except Exception as exc:  # noqa: BLE001 - any store failure: rolled back, nothing committed
            lost = is_unavailable(exc) or connection_broken(writer.conn)
            if lost:  # the batch may have committed (its answer lost): retries find it
                self._writer = None
                writer.discard()
                exc = DatabaseUnavailable(f"the database went away ({type(exc).__name__})")
            else:
                writer.rollback()
            self._forget()
            log.error("ledger.batch_failed", error=type(exc).__name__)
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)

    def _reconnect(self, jobs: list[Job]) -> LedgerWriter | None:
        """A new connection after the database went away (a PostgreSQL failover: the
        URL names every member and libpq finds the new primary). If there is none yet, the
        jobs are answered :class:`DatabaseUnavailable`, and the jobs until the next attempt
        too: attempts back off from ``RECONNECT_S_MIN`` to ``RECONNECT_S_MAX``."""
        if time.monotonic() < self._reconnect_at:
            return self._unavailable(jobs)
        try:
            self._writer = writer_for(self._database.dialect, self._database.raw_connection())
        except Exception as exc:
            if not is_unavailable(exc):  # not a failover: the writer dies (crash, don't limp)
                for job in jobs:
                    fail(job.future, EngineStopped(
                        f"the ledger cannot reconnect: {type(exc).__name__}"))
                raise
            log.warning("ledger.database_unavailable", error=type(exc).__name__,
                        retry_in_s=self._reconnect_s)
            self._reconnect_at = time.monotonic() + self._reconnect_s
            self._reconnect_s = min(self._reconnect_s * 2, RECONNECT_S_MAX)
            return self._unavailable(jobs)
        self._reconnect_s, self._reconnect_at = RECONNECT_S_MIN, 0.0
        log.info("ledger.reconnected")
        return self._writer

    @staticmethod
    def _unavailable(jobs: list[Job]) -> None:
        for job in jobs:
            fail(job.future, DatabaseUnavailable("the database is not reachable now"))

    def _forget(self) -> None:
        self._accounts.clear()
        self._failed.forget()
        self._version = None

    def _begin(self, writer: LedgerWriter) -> tuple[int, int]:
        version, last_timestamp = writer.begin()
        if version != self._version:
            self._accounts.clear()
            self._failed.catch_up(writer)
        elif len(self._accounts) > ACCOUNTS_CACHED_MAX:
            self._accounts.clear()
        return version, last_timestamp

    def _finish(self, writer: LedgerWriter, version: int, last_timestamp: int,
                event: Event) -> None:
        writer.bump(version + 1, last_timestamp)
        writer.append_audit([event])
        writer.commit()
        self._version = version + 1
        if self._checkpointer is not None:
            self._checkpointer.committed()

    def _event(self, action: str, object_id: str, version: int, first: int, last: int,
               after: dict[str, Any]) -> Event:
        return ledger_event(action, object_id, at_ns=self._clock.now_ns(), version=version,
                            first=first, last=last, after=after)

    def _batch_event(self, version: int, first: int, last: int, book: Book) -> Event:
        return batch_event(at_ns=self._clock.now_ns(), version=version, first=first, last=last,
                           book=book)

    def _ensure_accounts(self, writer: LedgerWriter, ids: set[int]) -> None:
        missing = ids.difference(self._accounts)
        if missing:
            for account in writer.load_accounts(missing):
                self._accounts[account.id] = account

    # -- transfers ---------------------------------------------------------

    def _run_transfers(self, writer: LedgerWriter, jobs: list[Job]) -> None:
        """Apply a batch, first guessing that no id in it names a stored transfer.

        Retries are rare, so looking every id up costs more than it saves. A stored
        id is still answered ``exists`` before any other check: had the guess
        applied it, the unique index on ``transfers.id`` refuses it at the insert;
        had the guess refused it, its id is looked up before anything is written
        (failures are rare too). Either way the batch is redone with every id
        looked up. Ids that failed for good the engine knows already (``failed_ids``).
        """
        try:
            self._apply_transfers(writer, jobs, look_up_ids=False)
        except (writer.integrity_error, _StoredIdFailed):
            writer.rollback()
            self._forget()
            metrics.ID_LOOKUP_RETRIES.inc()
            self._apply_transfers(writer, jobs, look_up_ids=True)

    def _apply_transfers(
        self, writer: LedgerWriter, jobs: list[Job], *, look_up_ids: bool
    ) -> None:
        started = time.perf_counter()
        version, last_timestamp = self._begin(writer)
        base = max(self._clock.now_ns(), last_timestamp + 1)
        expired = writer.load_expired(base)
        ids: set[str] = set()
        wanted: set[Any] = set()
        for job in jobs:  # field by field in C: 8,190 transfers a batch
            ids.update([i for i in map(_PENDING_ID, job.payload) if i.__class__ is str])
            wanted.update(map(_DEBIT, job.payload))
            wanted.update(map(_CREDIT, job.payload))
        batch_ids: list[str] = []
        if look_up_ids or not self._failed.complete:
            batch_ids = [t.id for job in jobs for t in job.payload if type(t.id) is str]
        if look_up_ids:
            ids.update(batch_ids)
        failed = self._failed.for_batch(writer, batch_ids)
        transfers, pendings = index_loaded(expired, writer.load_transfers(ids))
        wanted.update(p.debit_account_id for p in pendings.values())
        wanted.update(p.credit_account_id for p in pendings.values())
        self._ensure_accounts(writer, {i for i in wanted if type(i) is int})
        book = Book(self._accounts, transfers, pendings, failed, record_failures=True)
        ts = base
        for row, _ in expired:
            book.expire(row, ts)
            ts += 1
        for job in jobs:
            job.results = book.apply(job.payload, ts)
            ts += len(job.payload)
        if not look_up_ids and writer.stored_ids(_refused_ids(jobs)):
            raise _StoredIdFailed
        writer.write_book(book, self._accounts)
        self._finish(writer, version, max(ts - 1, last_timestamp), self._batch_event(
            version, base, ts - 1, book))
        if book.failed_rows:
            self._failed.committed(book.failed_rows[-1][0])  # type: ignore[arg-type]
        metrics.observe_batch(time.perf_counter() - started, len(book.rows), len(expired))
        for job in jobs:
            metrics.count_results(job.results)
            job.future.set_result(job.results)

    def _expire_only(self, writer: LedgerWriter, jobs: list[Job]) -> None:
        version, last_timestamp = self._begin(writer)
        base = max(self._clock.now_ns(), last_timestamp + 1)
        expired = writer.load_expired(base)
        if not expired:
            writer.rollback()
            return
        transfers, pendings = index_loaded(expired, [])
        self._ensure_accounts(
            writer,
            {p.debit_account_id for p in pendings.values()}
            | {p.credit_account_id for p in pendings.values()},
        )
        book = Book(self._accounts, transfers, pendings)
        for i, (row, _) in enumerate(expired):
            book.expire(row, base + i)
        writer.write_book(book, self._accounts)
        last = base + len(expired) - 1
        self._finish(writer, version, last, self._batch_event(version, base, last, book))
        metrics.observe_batch(0.0, 0, len(expired))

    # -- accounts ----------------------------------------------------------

    def _run_single(self, writer: LedgerWriter, jobs: list[Job]) -> None:
        (job,) = jobs
        version, last_timestamp = self._begin(writer)
        base = max(self._clock.now_ns(), last_timestamp + 1)
        answer: list[AccountResult] | AccountResult
        if job.kind == "accounts":
            answer, ts = self._create_accounts(writer, job.payload, base)
            created = [(a.id, a.ledger, a.code, a.user_data, a.timestamp)
                       for a in self._accounts.values() if base <= a.timestamp <= ts]
            event = self._event("ledger.accounts_created", f"ledger:{version + 1}", version,
                                base, ts, {"accounts": len(created),
                                           "digest": rows_digest(sorted(created, key=_ts))})
        else:
            closed, ts = self._close_account(writer, job.payload), base
            answer = closed
            event = self._event("ledger.account_closed", f"account:{job.payload}", version,
                                base, ts, {"result": closed.name.lower()})
        self._finish(writer, version, max(ts, last_timestamp), event)
        job.future.set_result(answer)

    def _create_accounts(
        self, writer: LedgerWriter, new: list[NewAccount], base: int
    ) -> tuple[list[AccountResult], int]:
        if not self._ledgers.issuperset(a.ledger for a in new if type(a.ledger) is int):
            self._ledgers = writer.ledger_ids()
        self._ensure_accounts(writer, {a.id for a in new if type(a.id) is int})
        results: list[AccountResult] = []
        created: list[Account] = []
        ts = base
        for a in new:
            result = check_account(a.id, a.ledger, a.code, a.flags, a.user_data)
            if result is None:
                result = self._create_one(a, ts)
            if result is AccountResult.OK:
                created.append(self._accounts[a.id])
                ts += 1
            results.append(result)
        if created:
            writer.insert_accounts(created)
        return results, ts - 1

    def _create_one(self, a: NewAccount, ts: int) -> AccountResult:
        existing = self._accounts.get(a.id)
        if existing is not None:
            same = (
                existing.ledger,
                existing.code,
                existing.flags & ~AccountFlags.CLOSED,
                existing.user_data,
            ) == (a.ledger, a.code, a.flags, a.user_data)
            return AccountResult.EXISTS if same else AccountResult.EXISTS_WITH_DIFFERENT_FIELDS
        if a.ledger not in self._ledgers:
            return AccountResult.LEDGER_NOT_FOUND
        self._accounts[a.id] = Account(a.id, a.ledger, a.code, a.flags, a.user_data, ts)
        return AccountResult.OK

    def _close_account(self, writer: LedgerWriter, account_id: int) -> AccountResult:
        self._ensure_accounts(writer, {account_id})
        account = self._accounts.get(account_id)
        if account is None:
            return AccountResult.NOT_FOUND
        if account.flags & AccountFlags.CLOSED:
            return AccountResult.ALREADY_CLOSED
        if writer.open_pending_count(account_id):
            return AccountResult.HAS_PENDING_TRANSFERS
        account.flags |= AccountFlags.CLOSED
        writer.set_account_flags(account_id, account.flags)
        return AccountResult.OK


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cycle collection while a batch runs; the collector catches up after it.

    A batch allocates some 30,000 objects (rows, results, parameters), enough for
    dozens of young collections and, every few batches, a full one over every
    object of the process: 10-15% of a batch's time (decision 0003). Paused, the
    same allocations cost one young collection afterwards, and full ones become
    rare. Only cycles wait (a batch makes none); plain references free at once.
    """
    if not gc.isenabled():  # someone else paused it: theirs to resume
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _refused_ids(jobs: list[Job]) -> list[str]:
    """Ids of the transfers a batch refused (none, usually: counted in C first)."""
    return [t.id for job in jobs if job.results.count(_OK) != len(job.results)
            for t, r in zip(job.payload, job.results)
            if r is not _OK and r is not _ALREADY_FAILED and type(t.id) is str]


def _ts(account: Sequence[Any]) -> int:
    return int(account[4])


def index_loaded(*loads: list[Loaded]) -> tuple[dict[str, tuple[Any, ...]], dict[int, Pending]]:
    transfers: dict[str, tuple[Any, ...]] = {}
    pendings: dict[int, Pending] = {}
    for load in loads:
        for row, pending in load:
            if row[Row.ID] in transfers:
                continue
            transfers[row[Row.ID]] = row
            if pending is not None:
                pendings[row[Row.TIMESTAMP]] = pending
    return transfers, pendings

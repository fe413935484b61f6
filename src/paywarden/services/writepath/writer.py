"""The group-commit writer: one thread that runs queued units of work, many to a transaction.

Callers prepare a unit on their own thread (read, decide, seal: the Python work, with no
lock held), ``submit`` it, and wait a bounded time for its result. The writer takes as
many queued units as fit in ``batch_size_max``, and in one transaction: locks the ledger,
loads what every unit's chain needs, runs the units in order (each all or nothing: a
refused unit queues nothing, a unit with a savepoint rolls back to it), writes the
ledger, the audit entries and the queued rows once, commits once, and only then answers
each caller. One fsync and one audit append per batch, not per unit (decision 0017).

A unit that fails in a way its own undo cannot cover (an unexpected error, or a refusal
after its money was applied) poisons the batch: the transaction rolls back, that unit
fails, and the others run again in the next batch. An InvariantViolation stops the
writer: every waiting caller gets :class:`WriterStopped` and ``on_fatal`` is told.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

import structlog
from sqlalchemy import Connection

from ...adapters.clock import Clock
from ...adapters.store import Database, for_writes
from ...domain.errors import DomainError, InvariantViolation
from ...domain.ledger import Transfer
from ..audit import SYSTEM
from ..ledger.engine import NewAccount
from ..ledger.errors import EngineOverloaded, EngineStopped
from .batch import Batch, UnitFailed

log = structlog.get_logger(__name__)

BATCH_UNITS_MAX = 256
QUEUE_DEPTH_MAX = 4_096
WAIT_S = 30.0
IDLE_POLL_S = 0.5
OnFatal = Callable[[str, BaseException], None]


class WriterStopped(EngineStopped):
    """The write path is not running (stopped, or stopped itself on a broken invariant)."""

    code = "write_path_stopped"


class Unit(Protocol):
    """One unit of work: what it moves (declared up front, so a batch loads it in one
    read) and ``run``, which does the rest inside the batch (see :mod:`.batch`)."""

    @property
    def chain(self) -> Sequence[Transfer]: ...
    @property
    def accounts(self) -> Sequence[NewAccount]: ...
    @property
    def savepoint(self) -> bool: ...
    def run(self, batch: Batch) -> None: ...
    def result(self) -> Any:
        """The caller's answer, asked for once the batch has committed."""


class Recording(Protocol):
    """A screening's decision made and not yet written (services/risk): it rides in the
    unit of the money it decided, or is written alone when that does not run."""

    def write(self, batch: Batch) -> None:
        """Queue the screening's rows and audit entry in ``batch``."""


@dataclass
class Records:
    """A unit that moves no money: ``write`` queues rows and audit entries only (a risk
    decision written on its own). Its result is ``None`` once the batch has committed."""

    write: Callable[[Batch], None]
    chain: tuple[()] = ()
    accounts: tuple[NewAccount, ...] = ()
    savepoint: bool = False

    def run(self, batch: Batch) -> None:
        self.write(batch)

    def result(self) -> None:
        return None


@dataclass
class _Job:
    unit: Unit
    future: Future[Any] = field(default_factory=Future)


class _Poisoned(Exception):
    def __init__(self, job: _Job, error: BaseException) -> None:
        super().__init__(str(error))
        self.job = job
        self.error = error


_STOP = _Job(None)  # type: ignore[arg-type]


class GroupWriter:
    def __init__(self, database: Database, *, clock: Clock,
                 batch_units_max: int = BATCH_UNITS_MAX, queue_depth_max: int = QUEUE_DEPTH_MAX,
                 wait_s: float = WAIT_S, on_fatal: OnFatal | None = None) -> None:
        self._database = database
        self._clock = clock
        self._batch_units_max = batch_units_max
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=queue_depth_max)
        self._queue_depth_max = queue_depth_max
        self._wait_s = wait_s
        self._on_fatal = on_fatal
        self._carry: deque[_Job] = deque()
        self._thread: threading.Thread | None = None
        self._dead: BaseException | None = None
        self._stopping = False

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is None:
            self._dead = None
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="write-path", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Run what was queued before, refuse what comes after; wait at most ``wait_s``."""
        if self._thread is None:
            return
        if self._thread.is_alive():
            self._stopping = True
            self._queue.put(_STOP)
            self._thread.join(timeout=self._wait_s)
            if self._thread.is_alive():
                log.error("write_path.stop_timed_out", wait_s=self._wait_s)
        self._thread = None

    @property
    def running(self) -> bool:
        return (self._dead is None and not self._stopping and self._thread is not None
                and self._thread.is_alive())

    # -- callers -------------------------------------------------------------------------

    def submit(self, unit: Unit) -> Future[Any]:
        if not self.running:
            raise WriterStopped("the write path is not running")
        job = _Job(unit)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise EngineOverloaded(self._queue_depth_max) from None
        return job.future

    def execute(self, unit: Unit) -> Any:
        """Submit and wait at most ``wait_s``: the unit's result, or its refusal raised."""
        return self.wait(self.submit(unit))

    def wait(self, future: Future[Any]) -> Any:
        """A submitted unit's result within ``wait_s``, or its refusal raised: a caller
        that submits many units first shares the batches they commit in."""
        try:
            return future.result(timeout=self._wait_s)
        except FutureTimeout:
            raise WriterStopped(f"the write path did not answer within {self._wait_s:g} s; "
                                "the outcome is unknown: retry with the same key") from None

    # -- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        with self._database.engine.connect() as conn:
            for_writes(conn)  # each batch takes the write lock at BEGIN (decision 0019)
            while True:
                first = self._carry.popleft() if self._carry else self._get(IDLE_POLL_S)
                if first is _STOP:
                    self._refuse_rest(WriterStopped("the write path stopped"))
                    break
                if first is None:
                    continue
                jobs = self._coalesce(first)
                try:
                    self._batch(conn, jobs)
                except InvariantViolation as exc:
                    self._die(conn, jobs, exc)
                    return

    def _get(self, timeout_s: float) -> _Job | None:
        try:
            return self._queue.get(timeout=timeout_s) if timeout_s else self._queue.get_nowait()
        except queue.Empty:
            return None

    def _coalesce(self, first: _Job) -> list[_Job]:
        jobs = [first]
        while len(jobs) < self._batch_units_max:
            nxt = self._carry.popleft() if self._carry else self._get(0)
            if nxt is None:
                break
            if nxt is _STOP:
                self._carry.appendleft(nxt)
                break
            jobs.append(nxt)
        return jobs

    def _batch(self, conn: Connection, jobs: list[_Job]) -> None:
        results: list[tuple[_Job, BaseException | None]] = []
        try:
            with conn.begin():
                batch = Batch(conn, now_ns=self._clock.now_ns(), units=[j.unit for j in jobs])
                batch.load([j.unit.chain for j in jobs], [a for j in jobs for a in j.unit.accounts])
                for job in jobs:
                    results.append(self._one(batch, job))
                try:
                    batch.flush(actor=SYSTEM)
                except UnitFailed as failed:
                    job = next(j for j in jobs if j.unit is failed.unit)
                    raise _Poisoned(job, failed.error) from failed.error
        except _Poisoned as poisoned:
            log.error("write_path.unit_poisoned_batch", error=type(poisoned.error).__name__)
            poisoned.job.future.set_exception(poisoned.error)
            self._carry.extendleft(reversed([j for j in jobs if j is not poisoned.job]))
            return
        except InvariantViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - a store failure: nothing committed, all told
            log.error("write_path.batch_failed", error=type(exc).__name__, units=len(jobs))
            for job in jobs:
                job.future.set_exception(exc)
            return
        for job, error in results:
            if error is None:
                job.future.set_result(job.unit.result())
            else:
                job.future.set_exception(error)

    def _one(self, batch: Batch, job: _Job) -> tuple[_Job, BaseException | None]:
        """Run one unit; a refusal is its answer, anything worse poisons the batch."""
        batch.begin_unit(job.unit)
        savepoint = batch.conn.begin_nested() if job.unit.savepoint else None
        try:
            job.unit.run(batch)
        except InvariantViolation:
            raise
        except DomainError as refusal:
            if batch.posted:
                raise _Poisoned(job, refusal) from refusal
            if savepoint is not None:
                savepoint.rollback()
            batch.forget_unit()
            return job, refusal
        except Exception as exc:
            raise _Poisoned(job, exc) from exc
        if savepoint is not None:
            savepoint.commit()
        return job, None

    def _refuse_rest(self, error: WriterStopped) -> None:
        """Answer every unit still queued: it will not run."""
        while True:
            job = self._carry.popleft() if self._carry else self._get(0)
            if job is None:
                return
            if job is not _STOP:
                job.future.set_exception(error)

    def _die(self, conn: Connection, jobs: list[_Job], exc: InvariantViolation) -> None:
        log.critical("write_path.invariant_violation", exc_info=exc)
        self._dead = exc
        stopped = WriterStopped("the write path stopped: an invariant was violated")
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(stopped)
        self._refuse_rest(stopped)
        if self._on_fatal is not None:
            self._on_fatal("write path invariant violated", exc)

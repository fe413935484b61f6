"""The ledger engine's thread and queue: every bound named, and a death heard by everyone.

One thread serves a bounded queue of jobs; callers on any thread get a Future.
Crash, don't limp (TIGER_STYLE):

- A job taken off the queue is marked running, so a caller that gives up can
  withdraw only what is still queued (``wait_async`` does at its deadline).
- Every wait on the thread is bounded by ``wait_s`` (``EngineUnresponsive``:
  the outcome is then unknown, and a retry with the same ids is safe).
- Whatever ends the thread other than ``stop`` (an ``InvariantViolation``
  above all) is logged with its traceback; every queued and every later
  submission then fails at once with ``EngineStopped``, and
  ``on_fatal(reason, exc)`` is called so that the process can stop.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import structlog

from . import metrics
from .errors import EngineOverloaded, EngineStopped, EngineUnresponsive

log = structlog.get_logger(__name__)

T = TypeVar("T")
OnFatal = Callable[[str, BaseException], None]


@dataclass
class Job:
    kind: str  # "transfers" | "accounts" | "close" | "stop"
    payload: Any
    future: Future[Any] = field(default_factory=Future)
    results: list[Any] = field(default_factory=list)


STOP = Job("stop", None)


def fail(future: Future[Any], exc: BaseException) -> None:
    try:
        future.set_exception(exc)
    except InvalidStateError:
        pass  # the caller gave up waiting and withdrew it, or it was answered already


class WriterThread:
    """The thread, its queue and its life cycle; subclasses say how jobs are served."""

    def __init__(self, *, queue_depth_max: int, wait_s: float, on_fatal: OnFatal | None
                 ) -> None:
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=queue_depth_max)
        self._queue_depth_max = queue_depth_max
        self._wait_s = wait_s
        self._on_fatal = on_fatal
        self._carry: deque[Job] = deque()
        self._thread: threading.Thread | None = None
        # Why submissions are refused (None while they are taken). Set under the lock
        # ``_enqueue`` holds, so that nothing joins the queue after it was drained.
        self._refusing: str | None = None
        self._refusing_lock = threading.Lock()

    # -- what a subclass provides ------------------------------------------

    def _open(self) -> None:
        """Before the thread starts: take what it needs (a connection)."""

    def _close(self) -> None:
        """After the thread ended: give it back."""

    def _serve(self) -> None:
        """The thread's loop: serve jobs from ``_next`` until it returns ``STOP``."""
        raise NotImplementedError

    # -- life cycle ------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._open()
        self._refusing = None
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Answer what is queued, then stop; a thread stuck past ``wait_s`` is left behind."""
        thread = self._thread
        if thread is None:
            return
        with self._refusing_lock:
            self._refusing = self._refusing or "the ledger engine is stopping"
        if thread.is_alive():
            try:
                self._queue.put(STOP, timeout=self._wait_s)
            except queue.Full:
                pass
            thread.join(self._wait_s)
        if thread.is_alive():
            log.error("ledger.writer_stuck", wait_s=self._wait_s)
            return  # its connection is still in use: not closed under it
        self._thread = None
        self._close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._refusing is None and self._thread is not None and self._thread.is_alive()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    # -- callers' side -----------------------------------------------------

    def wait(self, future: Future[T]) -> T:
        """The answer to a submission, waited for at most ``wait_s``."""
        try:
            return future.result(timeout=self._wait_s)
        except TimeoutError:
            raise EngineUnresponsive(self._wait_s) from None

    async def wait_async(self, future: Future[T]) -> T:
        """``wait`` for a coroutine; a submission still queued at the deadline is withdrawn."""
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self._wait_s)
        except TimeoutError:
            raise EngineUnresponsive(self._wait_s) from None

    def _enqueue(self, job: Job) -> Future[Any]:
        with self._refusing_lock:
            if self._refusing is not None or self._thread is None:
                raise EngineStopped(self._refusing or "the ledger engine is not running")
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                metrics.OVERLOADED.inc()
                raise EngineOverloaded(self._queue_depth_max) from None
        return job.future

    # -- the thread's side ---------------------------------------------------

    def _run(self) -> None:
        try:
            self._serve()
        except BaseException as exc:  # the thread's death, whatever it was: reported, fatal
            reason = f"the ledger writer died: {type(exc).__name__}: {exc}"
            log.critical("ledger.writer_died", reason=reason, exc_info=exc)
            self._refuse_all(reason)
            if self._on_fatal is not None:
                try:
                    self._on_fatal(reason, exc)
                except Exception:  # the hook must not hide the cause
                    log.exception("ledger.on_fatal_failed")
            return
        self._refuse_all("the ledger engine stopped")

    def _refuse_all(self, reason: str) -> None:
        """Refuse every later submission, then fail every queued one with ``EngineStopped``."""
        with self._refusing_lock:
            self._refusing = self._refusing or reason
        jobs = list(self._carry)
        self._carry.clear()
        while True:
            try:
                jobs.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for job in jobs:
            if job is not STOP:
                fail(job.future, EngineStopped(reason))

    def _next(self, timeout_s: float) -> Job | None:
        """The job put back by ``_put_back``, or the next one queued, waiting ``timeout_s``."""
        return self._carry.popleft() if self._carry else self._get(timeout_s)

    def _put_back(self, job: Job) -> None:
        self._carry.append(job)

    def _get(self, timeout_s: float) -> Job | None:
        """The next submission still wanted (its caller may have withdrawn it)."""
        while True:
            try:
                job = self._queue.get(timeout=timeout_s) if timeout_s else self._queue.get_nowait()
            except queue.Empty:
                return None
            if job is STOP or job.future.set_running_or_notify_cancel():
                return job

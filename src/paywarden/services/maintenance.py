"""A serving process's background chores, each on its own period, on one thread.

- check that the SQLite database file is still the one opened and its directory
  writable (every ``DATABASE_WATCH_INTERVAL_S``; services/failstop.py says what follows);
- sign the audit tree's head while the log grows (every ``audit_sign_interval_s``);
- rotate keys past their cryptoperiod, then move a batch of records sealed under
  retired data keys onto the active one (every ``key_maintenance_interval_s``);
- start a batch of due webhook deliveries on the dispatcher's own thread (every
  ``webhook_dispatch_interval_s``), so that a slow endpoint holds up no chore;
- fire the payments' due timers (every ``payment_timer_interval_s``).

The composition root lists them (``Platform.chores`` in ``paywarden.bootstrap``);
this module only runs them.

A chore that fails is logged and tried again at its next turn; the others go on.
A chore that breaks an invariant (``InvariantViolation``) is not retried: the
thread hands it to ``on_fatal`` (the process's fail-stop) and ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from ..domain.errors import InvariantViolation

log = structlog.get_logger(__name__)
REWRAP_BATCH = 500
DATABASE_WATCH_INTERVAL_S = 1.0
Fatal = Callable[[str, BaseException | None], None]


@dataclass
class Chore:
    name: str
    interval_s: float
    run: Callable[[], object]
    due: float = 0.0


class Maintenance:
    def __init__(self, tasks: list[Chore], *, on_fatal: Fatal) -> None:
        self._tasks = tasks
        self._on_fatal = on_fatal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        now = time.monotonic()
        for task in self._tasks:
            task.due = now + task.interval_s
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="maintenance", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            task = min(self._tasks, key=lambda t: t.due)
            if self._stop.wait(max(0.0, task.due - time.monotonic())):
                return
            try:
                task.run()
            except InvariantViolation as exc:  # not retried: the process stops
                self._on_fatal(f"maintenance chore {task.name} broke an invariant", exc)
                return
            except Exception:  # logged; the chore runs again at its next turn
                log.exception("maintenance.failed", chore=task.name)
            task.due = time.monotonic() + task.interval_s


class Lane:
    """One chore on a thread of its own, run every ``interval_s`` and at once when woken
    (:meth:`wake`), again at once while it reports more to do: the clearing link, whose
    every run waits on the network, neither waits behind the other chores nor holds them
    up, and a transfer to another bank leaves when it is written, not at the next turn.
    Failures as in :class:`Maintenance`: logged and tried again, or, for a broken
    invariant, handed to ``on_fatal``."""

    def __init__(self, name: str, interval_s: float, run: Callable[[], bool], *,
                 on_fatal: Fatal) -> None:
        self.name = name
        self._interval_s = interval_s
        self._run_once = run  # True: there is more to do now
        self._on_fatal = on_fatal
        self._woken = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._woken.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        more = False
        while not self._stop.is_set():
            if not more:
                self._woken.wait(self._interval_s)
            self._woken.clear()
            if self._stop.is_set():
                return
            try:
                more = bool(self._run_once())
            except InvariantViolation as exc:
                self._on_fatal(f"chore {self.name} broke an invariant", exc)
                return
            except Exception:
                log.exception("maintenance.failed", chore=self.name)
                more = False


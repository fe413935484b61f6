"""Crash, don't limp: how a PayWarden process stops on a broken invariant.

One :class:`FailStop` per process, held by the Platform. Every place an
``InvariantViolation`` ends calls :meth:`FailStop.crash` — the API's exception
handler, the maintenance chores, the ledger engine's writer (``on_fatal``), a
thread that dies of one, and the watch on the SQLite file. ``crash``:

    1. makes readiness false, at once and for good (``failed``): the API answers
       503 to everything but health from then on;
    2. logs the cause at critical, with its traceback;
    3. in a serving process (:meth:`arm`), asks the server to stop and gives it
       ``grace_s`` to finish its shutdown; then, whatever it is still doing, the
       process ends with ``os._exit(EXIT_CODE)``. The ``serve`` command also exits
       with ``EXIT_CODE`` when the server stops in time: either way, non-zero.

Unarmed (a CLI command, a test's in-process platform), ``crash`` stops after step 2;
the ``InvariantViolation`` still reaches its caller and ends the command.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import structlog

from ..domain.errors import InvariantViolation

log = structlog.get_logger(__name__)

EXIT_CODE = 70  # EX_SOFTWARE (sysexits.h): an internal software error
GRACE_S = 5.0  # for the server's own shutdown before the hard exit


class FailStop:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._stop_server: Callable[[], None] | None = None
        self._exit: Callable[[int], Any] = os._exit
        self._grace_s = GRACE_S
        self._stopped = threading.Event()  # set once the serving process has shut down

    def __repr__(self) -> str:
        return f"FailStop(failed={self.failed}, armed={self._stop_server is not None})"

    @property
    def failed(self) -> bool:
        return self._reason is not None

    @property
    def reason(self) -> str | None:
        return self._reason

    def arm(self, *, stop_server: Callable[[], None], grace_s: float = GRACE_S,
            exit_process: Callable[[int], Any] = os._exit) -> None:
        """This process serves: a crash stops the server, then the process, non-zero.

        Also routes a thread that dies of an ``InvariantViolation`` here.
        """
        self._stop_server = stop_server
        self._grace_s = grace_s
        self._exit = exit_process
        previous = threading.excepthook

        def hook(args: threading.ExceptHookArgs) -> None:
            if isinstance(args.exc_value, InvariantViolation):
                name = args.thread.name if args.thread is not None else "a thread"
                self.crash(f"{name} died of a broken invariant", args.exc_value)
            else:
                previous(args)

        threading.excepthook = hook

    def crash(self, reason: str, exc: BaseException | None = None) -> None:
        """Fail this process for good; returns at once (the stop runs on its own thread)."""
        with self._lock:
            first = self._reason is None
            if first:
                self._reason = reason
        if not first:
            log.error("process.fail_stop.again", reason=reason, exc_info=_exc_info(exc))
            return
        log.critical("process.fail_stop", reason=reason, exc_info=_exc_info(exc),
                     stack_info=exc is None)
        if self._stop_server is not None:
            threading.Thread(target=self._stop, name="fail-stop", daemon=True).start()

    def stopped(self) -> None:
        """The server has shut down (``serve`` calls this before exiting itself)."""
        self._stopped.set()

    def _stop(self) -> None:
        try:
            if self._stop_server is not None:
                self._stop_server()
        except Exception:  # logged: the hard exit below happens regardless
            log.exception("process.fail_stop.server_not_stopped")
        self._stopped.wait(self._grace_s)
        self._exit(EXIT_CODE)


def _exc_info(exc: BaseException | None) -> tuple[type[BaseException], BaseException,
                                                   TracebackType | None] | bool:
    return (type(exc), exc, exc.__traceback__) if exc is not None else False

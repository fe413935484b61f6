"""Concurrent clients, each repeating one unit of work until its time is up.

A unit is one escrow flow, one bare commit or one GET; it times its own steps
through a :class:`Recorder`. Every client first runs its warm-up units (not
counted), then all start together and stop starting new units after
``seconds``; the elapsed time runs until the last client has finished.

A unit that raises is counted as an error and the client goes on, up to
``ERRORS_MAX`` errors in a run (then it stops).
An ``InvariantViolation`` stops every client and is raised again to the caller.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rich.progress import Progress

from ...domain.errors import InvariantViolation

T = TypeVar("T")
ERRORS_MAX = 1_000  # per run: beyond, the run is broken, not slow
ERROR_KINDS_MAX = 10  # distinct messages counted; the rest are counted as "other"
_IDS = re.compile(r"\b([a-z]{2,4})_[0-9a-f]{8,}\b")  # pay_…, cs_…, evd_…: one kind, any id
START_TIMEOUT_S = 600.0  # the warm-up of every client, then the common start


class Recorder:
    """The latencies of one client's steps: transitions, and other timed work beside them."""

    def __init__(self) -> None:
        self.transitions_s: dict[str, list[float]] = {}
        self.asides_s: dict[str, list[float]] = {}

    def transition(self, name: str, call: Callable[[], T]) -> T:
        return self._timed(self.transitions_s, name, call)

    def aside(self, name: str, call: Callable[[], T]) -> T:
        """Timed, but not a transition (the buyer's step-up ceremony before paying)."""
        return self._timed(self.asides_s, name, call)

    @staticmethod
    def _timed(into: dict[str, list[float]], name: str, call: Callable[[], T]) -> T:
        started = time.perf_counter()
        result = call()
        into.setdefault(name, []).append(time.perf_counter() - started)
        return result

    def merge(self, other: Recorder) -> None:
        for mine, theirs in ((self.transitions_s, other.transitions_s),
                             (self.asides_s, other.asides_s)):
            for name, values in theirs.items():
                mine.setdefault(name, []).extend(values)


Unit = Callable[[Recorder], Any]


@dataclass
class LoadResult:
    clients: int
    seconds: float
    units: int
    recorded: Recorder
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def transitions(self) -> int:
        return sum(len(v) for v in self.recorded.transitions_s.values())


class _Run:
    def __init__(self, clients: int) -> None:
        self.lock = threading.Lock()
        self.start = threading.Barrier(clients + 1, timeout=START_TIMEOUT_S)
        self.stop = threading.Event()
        self.units = 0
        self.errors = 0
        self.kinds: dict[str, int] = {}
        self.fatal: list[BaseException] = []
        self.recorded = Recorder()

    def attempt(self, unit: Unit, recorder: Recorder, *, counted: bool = True) -> bool:
        """One unit; whether it succeeded. A warm-up unit's error is not ``counted``."""
        try:
            unit(recorder)
        except InvariantViolation as exc:  # carried to the caller, never swallowed
            with self.lock:
                self.fatal.append(exc)
            self.stop.set()
            return False
        except Exception as exc:  # noqa: BLE001 - a failed unit is a measured error
            if not counted:
                return False
            with self.lock:
                self.errors += 1
                kind = _IDS.sub(r"\1_…", f"{type(exc).__name__}: {exc}")[:200]
                if kind not in self.kinds and len(self.kinds) >= ERROR_KINDS_MAX:
                    kind = "other"
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
                if self.errors >= ERRORS_MAX:
                    self.stop.set()
            return False
        return True


def run_clients(units: Sequence[Unit], *, seconds: float, warmup_units: int,
                progress: Progress, label: str) -> LoadResult:
    """Run ``units[i]`` repeatedly in client thread ``i`` for ``seconds``."""
    run = _Run(len(units))
    task = progress.add_task(label, total=None)

    def client(unit: Unit) -> None:
        for _ in range(warmup_units):
            if not run.stop.is_set():
                run.attempt(unit, Recorder(), counted=False)
        try:
            run.start.wait()
        except threading.BrokenBarrierError:
            return
        deadline = time.perf_counter() + seconds
        recorder, done = Recorder(), 0
        while time.perf_counter() < deadline and not run.stop.is_set():
            if run.attempt(unit, recorder):
                done += 1
                progress.advance(task)
        with run.lock:
            run.units += done
            run.recorded.merge(recorder)

    threads = [threading.Thread(target=client, args=(u,), name=f"bench-client-{i}", daemon=True)
               for i, u in enumerate(units)]
    for thread in threads:
        thread.start()
    try:
        run.start.wait()
    except threading.BrokenBarrierError:
        run.stop.set()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    progress.stop_task(task)
    if run.fatal:
        raise run.fatal[0]
    return LoadResult(len(units), elapsed, run.units, run.recorded, run.errors, run.kinds)


def quantile_ms(values_s: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    if not values_s:
        return None
    ordered = sorted(values_s)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def summary(result: LoadResult, *, unit_name: str) -> dict[str, Any]:
    """Rates and latencies: ``<unit_name>_s`` per second, transitions/s, p50/p99/p100 ms."""
    every = [v for values in result.recorded.transitions_s.values() for v in values]
    out: dict[str, Any] = {
        f"{unit_name}_s": result.units / result.seconds,
        "transitions_s": len(every) / result.seconds,
        "p50_ms": quantile_ms(every, 0.50),
        "p99_ms": quantile_ms(every, 0.99),
        "p100_ms": quantile_ms(every, 1.0),
        "clients": result.clients,
        "seconds": result.seconds,
        unit_name: result.units,
        "errors": result.errors,
    }
    if result.error_kinds:
        out["errors_by_kind"] = result.error_kinds
    out["steps_ms"] = {name: {"p50": quantile_ms(v, 0.50), "p99": quantile_ms(v, 0.99)}
                       for name, v in {**result.recorded.transitions_s,
                                       **result.recorded.asides_s}.items()}
    return out

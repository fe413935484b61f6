"""Time, injectable so that timeouts are testable without sleeping."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int:
        """Nanoseconds since the Unix epoch, UTC."""
        ...


class SystemClock:
    def now_ns(self) -> int:
        return time.time_ns()


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start_ns: int = 1_767_225_600_000_000_000) -> None:  # 2026-01-01
        self._now_ns = start_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            return self._now_ns

    def advance(self, seconds: float = 0, *, ns: int = 0) -> None:
        with self._lock:
            self._now_ns += int(seconds * 1_000_000_000) + ns

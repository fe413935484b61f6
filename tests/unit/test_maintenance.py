"""The serving process's chores: each runs on its period, a failing one does not stop the rest,
and stop() ends the thread."""

from __future__ import annotations

import threading

from paywarden.services.maintenance import Chore, Maintenance


def test_a_failing_chore_does_not_stop_the_others() -> None:
    ran = threading.Event()
    failures: list[int] = []
    count = 0

    def good() -> None:
        nonlocal count
        count += 1
        if count >= 3:
            ran.set()

    def bad() -> None:
        failures.append(1)
        raise RuntimeError("disk full")

    background = Maintenance([Chore("bad", 0.01, bad), Chore("good", 0.02, good)])
    background.start()
    try:
        assert ran.wait(timeout=10)
    finally:
        background.stop()
    assert failures  # it kept being retried, and the good chore still ran three times
    assert background._thread is None

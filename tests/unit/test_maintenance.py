"""The serving process's chores: each runs on its period, a failing one does not stop the rest,
a broken invariant is not retried but ends in the fail-stop, and stop() ends the thread."""

from __future__ import annotations

import threading

from paywarden.domain.errors import InvariantViolation
from paywarden.services.maintenance import Chore, Lane, Maintenance

WAIT_S = 10


def _no_fatal(reason: str, exc: BaseException | None) -> None:
    raise AssertionError(f"not fatal: {reason}")


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

    background = Maintenance([Chore("bad", 0.01, bad), Chore("good", 0.02, good)],
                             on_fatal=_no_fatal)
    background.start()
    try:
        assert ran.wait(timeout=WAIT_S)
    finally:
        background.stop()
    assert failures  # it kept being retried, and the good chore still ran three times
    assert background._thread is None


def test_a_chore_that_breaks_an_invariant_is_not_retried_and_stops_the_process() -> None:
    fatal: list[tuple[str, BaseException | None]] = []
    told = threading.Event()
    runs: list[str] = []

    def broken() -> None:
        runs.append("broken")
        raise InvariantViolation("debits differ from credits")

    def on_fatal(reason: str, exc: BaseException | None) -> None:
        fatal.append((reason, exc))
        told.set()

    background = Maintenance([Chore("ledger.check", 0.01, broken),
                              Chore("other", 0.05, lambda: runs.append("other"))],
                             on_fatal=on_fatal)
    background.start()
    try:
        assert told.wait(timeout=WAIT_S)
        assert background._thread is not None
        background._thread.join(timeout=WAIT_S)
        assert not background._thread.is_alive()  # the thread ended: no chore runs again
    finally:
        background.stop()
    assert runs == ["broken"]
    (reason, exc), = fatal
    assert "ledger.check" in reason and isinstance(exc, InvariantViolation)


def test_a_lane_runs_when_woken_again_while_it_has_more_and_survives_a_failure() -> None:
    runs: list[str] = []
    turned = threading.Event()
    plan = iter([True, True, False])  # a full batch twice, then done

    def turn() -> bool:
        runs.append("run")
        turned.set()
        if len(runs) == 1:
            raise RuntimeError("hub unreachable")  # logged; the lane goes on
        return next(plan, False)

    lane = Lane("link", 3600.0, turn, on_fatal=_no_fatal)  # its period never comes
    lane.start()
    try:
        lane.wake()
        assert turned.wait(timeout=WAIT_S)
        turned.clear()
        lane.wake()  # after the failure, woken again: runs, and again while it has more
        deadline = threading.Event()
        for _ in range(200):
            if len(runs) >= 4:
                break
            deadline.wait(0.02)
    finally:
        lane.stop()
    assert runs == ["run"] * 4


def test_a_lane_that_breaks_an_invariant_stops_the_process() -> None:
    fatal: list[str] = []
    stopped = threading.Event()

    def on_fatal(reason: str, exc: BaseException | None) -> None:
        fatal.append(reason)
        stopped.set()

    def turn() -> bool:
        raise InvariantViolation("posted twice")

    lane = Lane("link", 0.01, turn, on_fatal=on_fatal)
    lane.start()
    try:
        assert stopped.wait(timeout=WAIT_S)
    finally:
        lane.stop()
    assert fatal == ["chore link broke an invariant"]

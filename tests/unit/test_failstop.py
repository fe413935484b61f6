"""Crash, don't limp: readiness goes false first, the cause is logged at critical with its
traceback, then a serving process stops its server and exits non-zero."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from paywarden.domain.errors import InvariantViolation
from paywarden.services.failstop import EXIT_CODE, FailStop
from tests.support.logs import failstop_logs

WAIT_S = 10


@pytest.fixture
def restore_excepthook() -> Iterator[None]:
    previous = threading.excepthook
    yield
    threading.excepthook = previous


def _raised() -> InvariantViolation:
    try:
        raise InvariantViolation("an account's balance differs from its transfers")
    except InvariantViolation as exc:
        return exc


def test_a_crash_fails_readiness_and_logs_the_cause_with_its_traceback() -> None:
    failstop = FailStop()
    assert not failstop.failed
    exc = _raised()
    with failstop_logs() as logs:
        failstop.crash("the ledger check failed", exc)
    assert failstop.failed and failstop.reason == "the ledger check failed"
    (entry,) = logs
    assert entry["log_level"] == "critical" and entry["reason"] == "the ledger check failed"
    assert entry["exc_info"][1] is exc and entry["exc_info"][2] is not None


def test_the_first_cause_is_kept_and_later_ones_are_logged_too() -> None:
    failstop = FailStop()
    with failstop_logs() as logs:
        failstop.crash("first", None)
        failstop.crash("second", _raised())
    assert failstop.reason == "first"
    assert [e["log_level"] for e in logs] == ["critical", "error"]


def test_an_armed_process_stops_its_server_then_exits_non_zero_after_the_grace() -> None:
    failstop = FailStop()
    events: list[str] = []
    exited = threading.Event()
    codes: list[int] = []

    def exit_process(code: int) -> None:
        codes.append(code)
        exited.set()

    failstop.arm(stop_server=lambda: events.append("stop_server"), grace_s=0.05,
                 exit_process=exit_process)
    failstop.crash("broken", _raised())
    assert exited.wait(WAIT_S)
    assert events == ["stop_server"] and codes == [EXIT_CODE] and EXIT_CODE != 0


def test_a_server_that_will_not_stop_is_exited_anyway() -> None:
    failstop = FailStop()
    exited = threading.Event()

    def stuck_server() -> None:
        raise RuntimeError("the server is wedged")

    failstop.arm(stop_server=stuck_server, grace_s=0.05, exit_process=lambda _c: exited.set())
    with failstop_logs():
        failstop.crash("broken", None)
    assert exited.wait(WAIT_S)


def test_an_unarmed_process_does_not_exit() -> None:
    failstop = FailStop()  # a CLI command or a test's in-process platform
    with failstop_logs():
        failstop.crash("broken", None)
    assert failstop.failed  # and the caller's InvariantViolation ends the command


def test_a_thread_dying_of_a_broken_invariant_crashes_an_armed_process(
        restore_excepthook: None) -> None:
    failstop = FailStop()
    exited = threading.Event()
    failstop.arm(stop_server=lambda: None, grace_s=0.01, exit_process=lambda _c: exited.set())

    def writer() -> None:
        raise InvariantViolation("the writer saw a broken batch")

    with failstop_logs() as logs:
        thread = threading.Thread(target=writer, name="ledger-writer")
        thread.start()
        thread.join(WAIT_S)
        assert exited.wait(WAIT_S)
    assert failstop.reason == "ledger-writer died of a broken invariant"
    assert logs[0]["log_level"] == "critical"

"""Crash, don't limp: when the ledger writer dies, every caller hears so at once, and no
wait on the writer is longer than the engine's ``wait_s``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from sqlalchemy import text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.errors import InvariantViolation
from paywarden.domain.ledger import AccountResult, Transfer, TransferFlags
from paywarden.domain.ledger import TransferResult as R
from paywarden.services.ledger import (
    EngineStopped,
    EngineUnresponsive,
    LedgerEngine,
    NewAccount,
)
from paywarden.services.ledger import accounts as payment_accounts
from paywarden.services.ledger.queries import LedgerQueries

EUR = 978
BANK, ALICE = 1, 2
ANSWER_S = 5.0  # far longer than any of these answers takes


class Gate:
    """Holds the writer at the start of its next batch until opened."""

    def __init__(self, engine: LedgerEngine) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        writer = engine._writer
        assert writer is not None
        begin = writer.begin

        def held_begin() -> tuple[int, int]:
            self.entered.set()
            assert self.opened.wait(ANSWER_S * 4)
            return begin()

        writer.begin = held_begin  # type: ignore[method-assign]

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def fatal() -> list[tuple[str, BaseException]]:
    return []


@pytest.fixture
def ledger(database: Database, clock: FakeClock,
           fatal: list[tuple[str, BaseException]]) -> Iterator[LedgerEngine]:
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO ledgers (id, currency, exponent, created_at) VALUES "
                          "(978, 'EUR', 2, 0)"))
    engine = LedgerEngine(database, clock=clock, wait_s=0.5,
                          on_fatal=lambda reason, exc: fatal.append((reason, exc))).start()
    assert engine.create_accounts([NewAccount(BANK, EUR, 1), NewAccount(ALICE, EUR, 1)]).result(
        ) == [AccountResult.OK] * 2
    yield engine
    engine.stop()


def outcome(future: Any) -> BaseException | None:
    try:
        future.result(timeout=ANSWER_S)
    except BaseException as exc:  # noqa: BLE001 - the test looks at what it was
        return exc
    return None


def stored(database: Database, transfer_id: str) -> bool:
    return LedgerQueries(database).transfer(transfer_id) is not None


def test_an_invariant_violation_in_the_writer_fails_every_queued_caller_and_calls_on_fatal(
        ledger: LedgerEngine, database: Database, fatal: list[tuple[str, BaseException]]
) -> None:
    assert ledger.execute([Transfer("hold", BANK, ALICE, 5, EUR, 1,
                                    TransferFlags.PENDING)]) == [R.OK]
    with database.engine.begin() as conn:  # a pending transfer loses its state: impossible
        conn.execute(text("DELETE FROM pending_transfers"))
    gate = Gate(ledger)
    doomed = ledger.submit([Transfer("capture", 0, 0, None, 0, 0, TransferFlags.POST_PENDING,
                                     pending_id="hold")])
    assert gate.entered.wait(ANSWER_S)
    queued = [ledger.create_accounts([NewAccount(7, EUR, 1)]),
              ledger.submit([Transfer("t1", BANK, ALICE, 1, EUR, 1)]),
              ledger.close_account(ALICE)]
    with structlog.testing.capture_logs() as logs:
        gate.open()
        errors = [outcome(f) for f in (doomed, *queued)]
    assert all(isinstance(e, EngineStopped) for e in errors), errors
    assert "invariant" in str(errors[0])
    (reason, exc), = fatal
    assert isinstance(exc, InvariantViolation) and "InvariantViolation" in reason
    died = [e for e in logs if e["event"] == "ledger.writer_died"]
    assert died and died[0]["log_level"] == "critical" and died[0]["exc_info"] is exc
    started = time.monotonic()
    with pytest.raises(EngineStopped):
        ledger.submit([Transfer("t2", BANK, ALICE, 1, EUR, 1)])
    assert time.monotonic() - started < 0.1
    assert not ledger.running
    assert not stored(database, "t1") and not stored(database, "capture")


def test_a_wait_on_a_writer_that_does_not_answer_ends_after_wait_s(
        ledger: LedgerEngine, database: Database) -> None:
    gate = Gate(ledger)
    started = time.monotonic()
    with pytest.raises(EngineUnresponsive, match="retry with the same ids"):
        ledger.execute([Transfer("slow", BANK, ALICE, 1, EUR, 1)])
    assert 0.4 < time.monotonic() - started < ANSWER_S
    gate.open()
    deadline = time.monotonic() + ANSWER_S
    while not stored(database, "slow") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ledger.execute([Transfer("slow", BANK, ALICE, 1, EUR, 1)]) == [R.EXISTS]


def test_payment_accounts_wait_for_the_writer_no_longer_than_wait_s(
        ledger: LedgerEngine) -> None:
    gate = Gate(ledger)
    with pytest.raises(EngineStopped):  # EngineUnresponsive: the API answers 503
        payment_accounts.ensure(ledger, [payment_accounts.platform_account("escrow", "EUR")])
    gate.open()


def test_a_submission_still_queued_when_its_async_wait_ends_is_withdrawn(
        ledger: LedgerEngine, database: Database) -> None:
    gate = Gate(ledger)
    first = ledger.submit([Transfer("first", BANK, ALICE, 1, EUR, 1)])
    assert gate.entered.wait(ANSWER_S)
    with pytest.raises(EngineUnresponsive):
        asyncio.run(ledger.wait_async(ledger.submit([Transfer("late", BANK, ALICE, 1, EUR, 1)])))
    gate.open()
    assert first.result(timeout=ANSWER_S) == [R.OK]
    assert ledger.execute([Transfer("after", BANK, ALICE, 1, EUR, 1)]) == [R.OK]
    assert not stored(database, "late")


def test_stopping_answers_what_was_queued_and_refuses_what_comes_later(
        ledger: LedgerEngine, database: Database) -> None:
    futures = [ledger.submit([Transfer(f"q{i}", BANK, ALICE, 1, EUR, 1)]) for i in range(20)]
    ledger.stop()
    assert [f.result(timeout=ANSWER_S) for f in futures] == [[R.OK]] * 20
    with pytest.raises(EngineStopped):
        ledger.submit([Transfer("late", BANK, ALICE, 1, EUR, 1)])

"""The group-commit write path on real databases: units of one batch commit together, each
all or nothing; a refused unit leaves no trace; a unit that cannot be undone fails alone
while the rest of its batch still commits; a broken invariant stops the writer and every
waiting caller is told."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.exc import IntegrityError

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import ledgers
from paywarden.domain.errors import DomainError, InvariantViolation
from paywarden.domain.ledger import AccountFlags, Transfer
from paywarden.services import audit
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger.verify import verify_ledger
from paywarden.services.writepath import Batch, GroupWriter, LedgerRefused, WriterStopped

EUR = 978
SOURCE = NewAccount(1, EUR, 1)  # may go negative: money from outside
WALLET = NewAccount(2, EUR, 1, int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS))
SHOP = NewAccount(3, EUR, 1, int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS))
WAIT_S = 30


@dataclass
class Move:
    """A unit that moves money and audits it; ``check`` runs first, ``after`` after posting."""

    name: str
    chain: list[Transfer]
    accounts: list[NewAccount] = field(default_factory=lambda: [SOURCE, WALLET, SHOP])
    savepoint: bool = False
    check: Callable[[Batch], None] | None = None
    after: Callable[[Batch], None] | None = None
    index: int | None = None

    def run(self, batch: Batch) -> None:
        if self.check is not None:
            self.check(batch)
        batch.post(self.chain)
        if self.after is not None:
            self.after(batch)
        batch.audit(audit.entry(at_ns=batch.now_ns, actor="test", action="test.move",
                                object_id=self.name), self._indexed)

    def _indexed(self, index: int) -> None:
        self.index = index

    def result(self) -> int | None:
        return self.index


def move(name: str, debit: NewAccount, credit: NewAccount, amount: int, **kw: Any) -> Move:
    return Move(name, [Transfer(name, debit.id, credit.id, amount, EUR, 1)], **kw)


@pytest.fixture
def writer(engine: LedgerEngine, database: Database, clock: FakeClock) -> Iterator[GroupWriter]:
    fatal: list[tuple[str, BaseException]] = []
    w = GroupWriter(database, clock=clock, on_fatal=lambda why, exc: fatal.append((why, exc)))
    w.fatal = fatal  # type: ignore[attr-defined]
    w.start()
    yield w
    w.stop()


def held(writer: GroupWriter) -> tuple[threading.Event, Future[Any]]:
    """Keep the writer busy on one unit, so that what is submitted next forms one batch."""
    entered, release = threading.Event(), threading.Event()

    def wait(_: Batch) -> None:
        entered.set()
        assert release.wait(WAIT_S)

    future = writer.submit(Move("hold", [], check=wait))
    assert entered.wait(WAIT_S)
    return release, future


def balance(database: Database, account: NewAccount) -> int:
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT credits_posted - debits_posted FROM accounts "
                                "WHERE id = :id"), {"id": account.id}).one_or_none()
    return 0 if row is None else int(row[0])


def audited(database: Database, action: str) -> list[str]:
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT object FROM audit_entries WHERE action = :a "
                                      "ORDER BY seq"), {"a": action}).scalars())


def sound(database: Database) -> None:
    assert verify_ledger(database) == []
    assert verify_audit(database) == []


def test_units_of_one_batch_commit_together_and_a_refused_one_leaves_no_trace(
        writer: GroupWriter, database: Database) -> None:
    release, hold = held(writer)
    futures = [writer.submit(move("fund", SOURCE, WALLET, 1_000)),
               writer.submit(move("pay", WALLET, SHOP, 600)),
               writer.submit(move("overdraw", WALLET, SHOP, 600)),  # only 400 left
               writer.submit(move("refused", WALLET, SHOP, 1, check=_refuse)),
               writer.submit(move("pay-rest", WALLET, SHOP, 400))]
    release.set()
    hold.result(WAIT_S)
    answers = []
    for f in futures:
        try:
            answers.append(f.result(WAIT_S))
        except DomainError as exc:
            answers.append(exc.code)
    assert answers[2] == "insufficient_funds" and answers[3] == "no_thanks"
    indexes = [answers[i] for i in (0, 1, 4)]
    assert all(isinstance(i, int) for i in indexes) and indexes == sorted(indexes)
    assert balance(database, WALLET) == 0 and balance(database, SHOP) == 1_000
    assert audited(database, "test.move") == ["hold", "fund", "pay", "pay-rest"]
    sound(database)


def _refuse(_: Batch) -> None:
    raise DomainError("no_thanks", "refused by its own check")


def test_a_unit_that_fails_after_its_money_moved_fails_alone_and_the_rest_commit(
        writer: GroupWriter, database: Database) -> None:
    def fail_late(_: Batch) -> None:
        raise DomainError("too_late", "refused after posting: only a rollback undoes it")

    release, hold = held(writer)
    fund = writer.submit(move("fund", SOURCE, WALLET, 500))
    late = writer.submit(move("late", WALLET, SHOP, 100, after=fail_late))
    broken = writer.submit(move("broken", WALLET, SHOP, 100, check=_crash))
    pay = writer.submit(move("pay", WALLET, SHOP, 200))
    release.set()
    hold.result(WAIT_S)
    assert isinstance(fund.result(WAIT_S), int) and isinstance(pay.result(WAIT_S), int)
    with pytest.raises(DomainError) as refused:
        late.result(WAIT_S)
    assert refused.value.code == "too_late"
    with pytest.raises(RuntimeError):
        broken.result(WAIT_S)
    assert balance(database, WALLET) == 300 and balance(database, SHOP) == 200
    assert audited(database, "test.move") == ["hold", "fund", "pay"]
    sound(database)


def _crash(_: Batch) -> None:
    raise RuntimeError("a bug, not a refusal")


def test_a_refused_unit_with_a_savepoint_takes_back_what_it_wrote(
        writer: GroupWriter, database: Database) -> None:
    def write_then_overdraw(batch: Batch) -> None:
        batch.conn.execute(text("UPDATE ledgers SET created_at = 42 WHERE id = :id"), {"id": EUR})

    unit = move("overdraw", WALLET, SHOP, 1, savepoint=True, check=write_then_overdraw)
    with pytest.raises(LedgerRefused):
        writer.submit(unit).result(WAIT_S)
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT created_at FROM ledgers WHERE id = :id"),
                            {"id": EUR}).scalar_one() != 42
    sound(database)


def test_a_broken_invariant_stops_the_writer_and_every_waiting_caller_is_told(
        writer: GroupWriter, database: Database) -> None:
    def broken(_: Batch) -> None:
        raise InvariantViolation("a balance went negative behind the checks")

    release, hold = held(writer)
    doomed = writer.submit(move("doomed", SOURCE, WALLET, 5, check=broken))
    queued = writer.submit(move("queued", SOURCE, WALLET, 5))
    release.set()
    assert isinstance(hold.result(WAIT_S), int)
    for future in (doomed, queued):
        with pytest.raises(WriterStopped):
            future.result(WAIT_S)
    with pytest.raises(WriterStopped):
        writer.submit(move("later", SOURCE, WALLET, 5))
    assert [why for why, _ in writer.fatal] == ["write path invariant violated"]  # type: ignore[attr-defined]
    assert balance(database, WALLET) == 0
    sound(database)


def test_stopping_runs_what_was_queued_and_refuses_what_comes_after(
        writer: GroupWriter, database: Database) -> None:
    release, hold = held(writer)
    before = writer.submit(move("before", SOURCE, WALLET, 7))
    stopper = threading.Thread(target=writer.stop)
    stopper.start()
    while writer.running:
        threading.Event().wait(0.01)
    with pytest.raises(WriterStopped):
        writer.submit(move("after", SOURCE, WALLET, 7))
    release.set()
    stopper.join(WAIT_S)
    assert isinstance(hold.result(WAIT_S), int) and isinstance(before.result(WAIT_S), int)
    assert balance(database, WALLET) == 7
    sound(database)


# Statements queued with batch.later: module-level, so rows of many units group.
_TOUCH_LEDGER = update(ledgers).where(ledgers.c.id == bindparam("lid")).values(
    created_at=bindparam("at"))
_INSERT_LEDGER = insert(ledgers)


def test_a_row_changed_behind_the_lock_stops_the_writer_before_its_batch_commits(
        writer: GroupWriter, database: Database) -> None:
    def touch_missing(batch: Batch) -> None:  # must change one row; changes none
        batch.later(_TOUCH_LEDGER, {"lid": -1, "at": 1}, counted=True)

    release, hold = held(writer)
    fund = writer.submit(move("fund", SOURCE, WALLET, 9))
    doomed = writer.submit(move("doomed", SOURCE, WALLET, 5, after=touch_missing))
    release.set()
    assert isinstance(hold.result(WAIT_S), int)
    for future in (fund, doomed):
        with pytest.raises(WriterStopped):
            future.result(WAIT_S)
    assert [why for why, _ in writer.fatal] == ["write path invariant violated"]  # type: ignore[attr-defined]
    assert balance(database, WALLET) == 0 and audited(database, "test.move") == ["hold"]
    sound(database)


def test_a_write_refused_by_the_database_commits_nothing_and_the_next_batch_runs(
        writer: GroupWriter, database: Database) -> None:
    def duplicate(batch: Batch) -> None:  # EUR's ledger exists: a unique key refuses it
        batch.later(_INSERT_LEDGER, {"id": EUR, "currency": "EUR", "exponent": 2,
                                     "created_at": 1})

    release, hold = held(writer)
    fund = writer.submit(move("fund", SOURCE, WALLET, 9))
    clash = writer.submit(move("clash", SOURCE, WALLET, 5, after=duplicate))
    release.set()
    assert isinstance(hold.result(WAIT_S), int)
    for future in (fund, clash):
        # through SQLAlchemy or straight from the driver (the batch's plain rows)
        with pytest.raises((IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)):
            future.result(WAIT_S)
    assert balance(database, WALLET) == 0 and audited(database, "test.move") == ["hold"]
    assert isinstance(writer.submit(move("again", SOURCE, WALLET, 3)).result(WAIT_S), int)
    assert balance(database, WALLET) == 3
    sound(database)

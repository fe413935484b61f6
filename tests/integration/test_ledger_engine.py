"""The engine on real databases: two-phase, expiry, chains, idempotency, group commit."""

from __future__ import annotations

import threading
import time

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.domain.ledger import AccountFlags, AccountResult, Transfer, TransferFlags
from paywarden.domain.ledger import TransferResult as R
from paywarden.services.ledger import BatchTooLarge, EngineOverloaded, LedgerEngine, NewAccount
from paywarden.services.ledger.queries import Balances, LedgerQueries
from paywarden.services.ledger.verify import verify_ledger

EUR, USD = 978, 840
BANK, ALICE, BOB, DOLLARS = 1, 2, 3, 4
LIMITED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


@pytest.fixture
def accounts(engine: LedgerEngine) -> LedgerEngine:
    results = engine.create_accounts([
        NewAccount(BANK, EUR, 1), NewAccount(ALICE, EUR, 1, LIMITED),
        NewAccount(BOB, EUR, 1, LIMITED), NewAccount(DOLLARS, USD, 1),
    ]).result()
    assert results == [AccountResult.OK] * 4
    return engine


def balances(engine: LedgerEngine, account_id: int, clock: FakeClock) -> Balances:
    view = LedgerQueries(engine._database).account(account_id, now_ns=clock.now_ns())
    assert view is not None
    return view.balances


def test_a_transfer_moves_money_and_both_sides_see_it(accounts: LedgerEngine, clock: FakeClock
                                                      ) -> None:
    assert accounts.execute([Transfer("deposit", BANK, ALICE, 10_000, EUR, 1)]) == [R.OK]
    assert balances(accounts, ALICE, clock) == Balances(0, 0, 0, 10_000)
    assert balances(accounts, BANK, clock) == Balances(0, 10_000, 0, 0)


def test_spending_more_than_the_credit_is_refused(accounts: LedgerEngine, clock: FakeClock
                                                  ) -> None:
    results = accounts.execute([
        Transfer("deposit", BANK, ALICE, 100, EUR, 1),
        Transfer("too-much", ALICE, BOB, 101, EUR, 1),
        Transfer("exact", ALICE, BOB, 100, EUR, 1),
    ])
    assert results == [R.OK, R.EXCEEDS_CREDITS, R.OK]
    assert balances(accounts, ALICE, clock) == Balances(0, 100, 0, 100)


def test_same_id_same_fields_is_exists_other_fields_is_refused_in_a_later_batch(
        accounts: LedgerEngine, clock: FakeClock) -> None:
    first = Transfer("pay-1", BANK, ALICE, 500, EUR, 1)
    assert accounts.execute([first]) == [R.OK]
    assert accounts.execute([first, first._replace(amount=501)]) == [
        R.EXISTS, R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert balances(accounts, ALICE, clock).credits_posted == 500


def test_partial_post_then_second_post_is_already_posted(accounts: LedgerEngine,
                                                         clock: FakeClock) -> None:
    accounts.execute([Transfer("deposit", BANK, ALICE, 1_000, EUR, 1)])
    hold = Transfer("hold", ALICE, BOB, 600, EUR, 1, TransferFlags.PENDING)
    assert accounts.execute([hold]) == [R.OK]
    assert balances(accounts, ALICE, clock) == Balances(600, 0, 0, 1_000)
    post = Transfer("capture", 0, 0, 400, 0, 0, TransferFlags.POST_PENDING, pending_id="hold")
    void = Transfer("void", 0, 0, None, 0, 0, TransferFlags.VOID_PENDING, pending_id="hold")
    assert accounts.execute([post]) == [R.OK]
    assert accounts.execute([void]) == [R.ALREADY_POSTED]
    assert balances(accounts, ALICE, clock) == Balances(0, 400, 0, 1_000)
    assert balances(accounts, BOB, clock) == Balances(0, 0, 0, 400)
    assert verify_ledger(accounts._database) == []


def test_an_expired_hold_is_released_without_anyone_calling(accounts: LedgerEngine,
                                                            clock: FakeClock) -> None:
    accounts.execute([Transfer("deposit", BANK, ALICE, 1_000, EUR, 1)])
    accounts.execute([Transfer("hold", ALICE, BOB, 700, EUR, 1, TransferFlags.PENDING,
                               timeout_s=60)])
    assert balances(accounts, ALICE, clock).debits_pending == 700
    clock.advance(61)
    # The read side already reflects the expiry, whether or not the sweeper ran.
    assert balances(accounts, ALICE, clock).debits_pending == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = LedgerQueries(accounts._database).transfer("!hold")
        if row is not None:
            break
        time.sleep(0.05)
    assert row is not None and row.flags & TransferFlags.EXPIRY
    post = Transfer("late-capture", 0, 0, None, 0, 0, TransferFlags.POST_PENDING,
                    pending_id="hold")
    assert accounts.execute([post]) == [R.PENDING_EXPIRED]
    assert balances(accounts, ALICE, clock) == Balances(0, 0, 0, 1_000)
    assert verify_ledger(accounts._database) == []


def test_a_failing_link_undoes_the_whole_chain(accounts: LedgerEngine, clock: FakeClock) -> None:
    L = TransferFlags.LINKED
    results = accounts.execute([
        Transfer("c1", BANK, ALICE, 100, EUR, 1, L),
        Transfer("c2", ALICE, BOB, 100, EUR, 1, L),
        Transfer("c3", ALICE, BOB, 1, EUR, 1),  # Alice has nothing left: fails
    ])
    assert results == [R.LINKED_EVENT_FAILED, R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS]
    assert balances(accounts, ALICE, clock) == Balances(0, 0, 0, 0)
    assert balances(accounts, BANK, clock) == Balances(0, 0, 0, 0)
    assert LedgerQueries(accounts._database).transfer("c1") is None


def test_currency_mismatch_and_unknown_accounts_apply_nothing(accounts: LedgerEngine,
                                                               clock: FakeClock) -> None:
    results = accounts.execute([
        Transfer("x1", BANK, DOLLARS, 5, EUR, 1),
        Transfer("x2", BANK, 99, 5, EUR, 1),
        Transfer("x3", 98, BANK, 5, EUR, 1),
    ])
    assert results == [R.LEDGER_MISMATCH, R.CREDIT_ACCOUNT_NOT_FOUND, R.DEBIT_ACCOUNT_NOT_FOUND]
    assert balances(accounts, BANK, clock) == Balances(0, 0, 0, 0)


def test_closed_account_refuses_transfers(accounts: LedgerEngine) -> None:
    assert accounts.close_account(BOB).result() == AccountResult.OK
    assert accounts.close_account(BOB).result() == AccountResult.ALREADY_CLOSED
    assert accounts.execute([Transfer("to-bob", BANK, BOB, 5, EUR, 1)]) == [R.ACCOUNT_CLOSED]


def test_account_ids_are_idempotent_too(accounts: LedgerEngine) -> None:
    assert accounts.create_accounts([NewAccount(ALICE, EUR, 1, LIMITED),
                                     NewAccount(BOB, EUR, 2),
                                     NewAccount(77, 999, 1)]).result() == [
        AccountResult.EXISTS, AccountResult.EXISTS_WITH_DIFFERENT_FIELDS,
        AccountResult.LEDGER_NOT_FOUND]


def test_a_batch_over_8190_is_refused_whole(accounts: LedgerEngine) -> None:
    batch = [Transfer(f"big-{i}", BANK, ALICE, 1, EUR, 1) for i in range(8191)]
    with pytest.raises(BatchTooLarge):
        accounts.submit(batch)
    assert LedgerQueries(accounts._database).transfer("big-0") is None


def test_concurrent_submissions_are_coalesced_and_each_gets_its_own_results(
        accounts: LedgerEngine, clock: FakeClock) -> None:
    accounts.execute([Transfer("deposit", BANK, ALICE, 1_000_000, EUR, 1)])
    barrier = threading.Barrier(16)
    outcome: dict[int, list[R]] = {}

    def client(n: int) -> None:
        barrier.wait()
        batch = [Transfer(f"t{n}-{i}", ALICE, BOB, 1, EUR, 1) for i in range(50)]
        batch.append(Transfer(f"t{n}-0", ALICE, BOB, 2, EUR, 1))  # own duplicate, differs
        outcome[n] = accounts.execute(batch)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(16):
        assert outcome[n] == [R.OK] * 50 + [R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert balances(accounts, BOB, clock).credits_posted == 16 * 50
    assert verify_ledger(accounts._database) == []


def test_a_full_queue_refuses_instead_of_growing(database: object, clock: FakeClock) -> None:
    engine = LedgerEngine(database, clock=clock, queue_depth_max=2)  # type: ignore[arg-type]
    engine._thread = threading.Thread()  # looks running, consumes nothing
    engine._thread.start()
    engine._thread.join()
    engine._thread = threading.current_thread()
    engine.submit([Transfer("a", 1, 2, 1, EUR, 1)])
    engine.submit([Transfer("b", 1, 2, 1, EUR, 1)])
    with pytest.raises(EngineOverloaded):
        engine.submit([Transfer("c", 1, 2, 1, EUR, 1)])


def test_history_is_newest_first_and_balances_as_of_a_time(accounts: LedgerEngine,
                                                           clock: FakeClock) -> None:
    q = LedgerQueries(accounts._database)
    accounts.execute([Transfer("d1", BANK, ALICE, 100, EUR, 1)])
    clock.advance(10)
    middle = clock.now_ns()
    clock.advance(10)
    accounts.execute([Transfer("d2", BANK, ALICE, 50, EUR, 1)])
    accounts.execute([Transfer("s1", ALICE, BOB, 30, EUR, 1)])
    page, cursor = q.account_transfers(ALICE, limit=2)
    assert [t.id for t in page] == ["s1", "d2"]
    assert cursor is not None
    rest, end = q.account_transfers(ALICE, limit=2, before=cursor)
    assert [t.id for t in rest] == ["d1"] and end is None
    assert q.balances_as_of(ALICE, middle) == Balances(0, 0, 0, 100)
    clock.advance(1)
    assert q.balances_as_of(ALICE, clock.now_ns()) == Balances(0, 30, 0, 150)


def test_a_batch_written_in_many_small_statements_is_stored_whole_and_in_order(
        accounts: LedgerEngine, clock: FakeClock) -> None:
    writer = accounts._writer
    assert writer is not None
    writer._params_max = 21 * 3 + 5  # SQLite: 3 transfer rows (or 11 account rows) a statement
    deposits = [Transfer(f"d{i}", BANK, ALICE, 10 + i, EUR, 1) for i in range(37)]
    assert accounts.execute(deposits) == [R.OK] * 37
    assert balances(accounts, ALICE, clock) == Balances(0, 0, 0, sum(range(10, 47)))
    # A stored id in a late statement rolls every earlier statement of the batch back.
    again = [Transfer(f"e{i}", BANK, BOB, 1, EUR, 1) for i in range(20)] + [deposits[0]]
    assert accounts.execute(again) == [R.OK] * 20 + [R.EXISTS]
    assert balances(accounts, BOB, clock) == Balances(0, 0, 0, 20)
    assert verify_ledger(accounts._database) == []

"""Transfers posted inside a caller's transaction commit with the caller's other writes or
not at all, interleave safely with the engine's batches, and are audited like them."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.ledger import AccountFlags, AccountResult, Transfer, TransferFlags
from paywarden.domain.ledger import TransferResult as R
from paywarden.services import audit
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger.posting import Ledger
from paywarden.services.ledger.queries import LedgerQueries
from paywarden.services.ledger.verify import verify_ledger

EUR = 978
BANK, ALICE, SHOP = 1, 2, 3
LINKED = TransferFlags.LINKED


@pytest.fixture
def accounts(engine: LedgerEngine) -> LedgerEngine:
    limited = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    assert engine.create_accounts([NewAccount(BANK, EUR, 1), NewAccount(ALICE, EUR, 1, limited),
                                   NewAccount(SHOP, EUR, 1, limited)]).result() == [
        AccountResult.OK] * 3
    assert engine.execute([Transfer("fund", BANK, ALICE, 1_000, EUR, 1)]) == [R.OK]
    return engine


def posted(database: Database, account: int, clock: FakeClock) -> int:
    view = LedgerQueries(database).account(account, now_ns=clock.now_ns())
    assert view is not None
    return view.balances.credits_posted - view.balances.debits_posted


def test_a_chain_commits_with_the_callers_other_writes(accounts: LedgerEngine,
                                                       database: Database,
                                                       clock: FakeClock) -> None:
    with database.engine.begin() as conn:
        ledger = Ledger(conn)
        assert ledger.post([Transfer("pay-1", ALICE, SHOP, 300, EUR, 2, LINKED),
                            Transfer("pay-1-fee", SHOP, BANK, 3, EUR, 3)],
                           now_ns=clock.now_ns()) == [R.OK, R.OK]
        audit.record(conn, at_ns=clock.now_ns(), actor="test", action="payment.held",
                     object_id="pay_1")
    assert posted(database, ALICE, clock) == 700 and posted(database, SHOP, clock) == 297
    assert accounts.execute([Transfer("after", ALICE, SHOP, 100, EUR, 1)]) == [R.OK]
    assert posted(database, SHOP, clock) == 397  # the engine saw the new balances
    assert verify_ledger(database) == [] and verify_audit(database) == []


def test_a_failure_after_posting_rolls_the_transfers_back(accounts: LedgerEngine,
                                                          database: Database,
                                                          clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), database.engine.begin() as conn:
        assert Ledger(conn).post([Transfer("pay-2", ALICE, SHOP, 300, EUR, 2)],
                                 now_ns=clock.now_ns()) == [R.OK]
        raise RuntimeError("the payment row could not be updated")
    assert posted(database, ALICE, clock) == 1_000
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM transfers WHERE id = 'pay-2'")
                            ).scalar_one() == 0
    assert verify_ledger(database) == [] and verify_audit(database) == []


def test_a_failing_link_writes_nothing(accounts: LedgerEngine, database: Database,
                                       clock: FakeClock) -> None:
    with database.engine.begin() as conn:
        results = Ledger(conn).post([Transfer("pay-3", ALICE, SHOP, 300, EUR, 2, LINKED),
                                     Transfer("pay-3b", ALICE, SHOP, 5_000, EUR, 2)],
                                    now_ns=clock.now_ns())
    assert results == [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS]
    assert posted(database, ALICE, clock) == 1_000
    assert verify_audit(database) == []


def test_racing_posts_never_spend_more_than_there_is(accounts: LedgerEngine,
                                                     database: Database,
                                                     clock: FakeClock) -> None:
    outcomes: list[R] = []

    def spend(n: int) -> None:
        with database.engine.begin() as conn:
            outcomes.extend(Ledger(conn).post([Transfer(f"race-{n}", ALICE, SHOP, 300, EUR, 2)],
                                              now_ns=clock.now_ns()))

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    engine_results = accounts.execute([Transfer(f"eng-{n}", BANK, SHOP, 1, EUR, 1)
                                       for n in range(50)])
    for t in threads:
        t.join()
    assert set(engine_results) == {R.OK}
    assert sorted(outcomes).count(R.OK) == 3  # 3 × 300 of 1,000
    assert posted(database, ALICE, clock) == 100
    assert verify_ledger(database) == [] and verify_audit(database) == []

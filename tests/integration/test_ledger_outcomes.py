"""An id's outcome never changes, on real databases: through the engine's group commit
(whose fast path looks no id up) and through a caller's own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.domain.ledger import AccountFlags, AccountResult, Transfer, TransferFlags
from paywarden.domain.ledger import TransferResult as R
from paywarden.services.audit.verify import verify_audit
from paywarden.services.ledger import LedgerEngine, NewAccount, metrics
from paywarden.services.ledger.failed_ids import FailedIds
from paywarden.services.ledger.posting import Ledger
from paywarden.services.ledger.queries import LedgerQueries
from paywarden.services.ledger.verify import verify_ledger

EUR = 978
BANK, ALICE, BOB = 1, 2, 3
LIMITED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
LINKED, PENDING, POST = TransferFlags.LINKED, TransferFlags.PENDING, TransferFlags.POST_PENDING


@pytest.fixture
def accounts(engine: LedgerEngine) -> LedgerEngine:
    assert engine.create_accounts([NewAccount(BANK, EUR, 1), NewAccount(ALICE, EUR, 1, LIMITED),
                                   NewAccount(BOB, EUR, 1, LIMITED)]).result() == [
        AccountResult.OK] * 3
    assert engine.execute([Transfer("fund", BANK, ALICE, 1_000, EUR, 1)]) == [R.OK]
    return engine


def posted(database: Database, account: int, clock: FakeClock) -> int:
    view = LedgerQueries(database).account(account, now_ns=clock.now_ns())
    assert view is not None
    return view.balances.credits_posted - view.balances.debits_posted


def failed_rows(database: Database) -> list[tuple[str, str]]:
    with database.engine.connect() as conn:
        return [(r.id, r.result) for r in conn.execute(text(
            "SELECT id, result FROM transfers_failed ORDER BY timestamp"))]


def sound(database: Database) -> bool:
    return verify_ledger(database) == [] and verify_audit(database) == []


def test_a_transfer_retried_after_its_account_was_spent_is_exists(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    pay = Transfer("pay-1", ALICE, BOB, 600, EUR, 1)
    assert accounts.execute([pay]) == [R.OK]
    assert accounts.execute([Transfer("spend", ALICE, BOB, 400, EUR, 1)]) == [R.OK]
    redone = metrics.ID_LOOKUP_RETRIES._value.get()
    assert accounts.execute([pay, Transfer("new", BANK, BOB, 5, EUR, 1)]) == [R.EXISTS, R.OK]
    assert metrics.ID_LOOKUP_RETRIES._value.get() == redone + 1  # found, then redone
    assert posted(database, ALICE, clock) == 0 and posted(database, BOB, clock) == 1_005
    assert failed_rows(database) == [] and sound(database)


def test_a_retried_post_is_exists_not_already_posted(accounts: LedgerEngine,
                                                     database: Database) -> None:
    assert accounts.execute([Transfer("hold", ALICE, BOB, 300, EUR, 1, PENDING)]) == [R.OK]
    capture = Transfer("capture", 0, 0, None, 0, 0, POST, pending_id="hold")
    assert accounts.execute([capture]) == [R.OK]
    assert accounts.execute([capture]) == [R.EXISTS]
    assert failed_rows(database) == [] and sound(database)


def test_the_same_id_with_another_amount_is_exists_with_different_fields(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    assert accounts.execute([Transfer("pay-1", ALICE, BOB, 600, EUR, 1)]) == [R.OK]
    assert accounts.execute([Transfer("pay-1", ALICE, BOB, 6_000, EUR, 1)]) == [
        R.EXISTS_WITH_DIFFERENT_FIELDS]  # not exceeds_credits
    assert posted(database, BOB, clock) == 600 and failed_rows(database) == []


def test_a_failed_transfer_retried_after_funding_is_id_already_failed(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    attempt = Transfer("pay-2", ALICE, BOB, 5_000, EUR, 1)
    assert accounts.execute([attempt]) == [R.EXCEEDS_CREDITS]
    assert accounts.execute([Transfer("top-up", BANK, ALICE, 10_000, EUR, 1)]) == [R.OK]
    assert accounts.execute([attempt]) == [R.ID_ALREADY_FAILED]
    assert accounts.execute([attempt._replace(amount=1)]) == [R.ID_ALREADY_FAILED]
    assert posted(database, ALICE, clock) == 11_000 and posted(database, BOB, clock) == 0
    assert failed_rows(database) == [("pay-2", "exceeds_credits")]
    assert sound(database)


def test_a_failed_id_mixed_into_a_busy_batch_is_refused_and_the_rest_applies(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    assert accounts.execute([Transfer("x", ALICE, 99, 1, EUR, 1)]) == [
        R.CREDIT_ACCOUNT_NOT_FOUND]
    batch = [Transfer(f"b{i}", BANK, BOB, 1, EUR, 1) for i in range(200)]
    batch.insert(100, Transfer("x", BANK, BOB, 1, EUR, 1))
    results = accounts.execute(batch)
    assert results[100] is R.ID_ALREADY_FAILED
    assert results.count(R.OK) == 200 and posted(database, BOB, clock) == 200
    assert sound(database)


def test_a_retried_chain_whose_member_failed_stays_failed_after_funding(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    chain = [Transfer("c1", BANK, BOB, 10, EUR, 1, LINKED), Transfer("c2", ALICE, BOB, 2_000,
                                                                     EUR, 1)]
    assert accounts.execute(chain) == [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS]
    accounts.execute([Transfer("top-up", BANK, ALICE, 10_000, EUR, 1)])
    assert accounts.execute(chain) == [R.LINKED_EVENT_FAILED, R.ID_ALREADY_FAILED]
    assert posted(database, BOB, clock) == 0
    assert failed_rows(database) == [("c2", "exceeds_credits")] and sound(database)


def test_a_retry_that_now_fails_inside_a_chain_does_not_break_it(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    pay = Transfer("pay-1", ALICE, BOB, 1_000, EUR, 1, LINKED)
    assert accounts.execute([pay, Transfer("fee", BOB, BANK, 10, EUR, 1)]) == [R.OK, R.OK]
    # Alice has nothing left: applied afresh, pay-1 would fail and undo the new member.
    assert accounts.execute([pay, Transfer("more", BANK, BOB, 7, EUR, 1)]) == [R.EXISTS, R.OK]
    assert posted(database, BOB, clock) == 997 and sound(database)


def test_the_callers_transaction_answers_stored_and_failed_ids_first_and_records_nothing(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    assert accounts.execute([Transfer("pay-1", ALICE, BOB, 1_000, EUR, 1)]) == [R.OK]
    assert accounts.execute([Transfer("gone", ALICE, BOB, 1, EUR, 1)]) == [R.EXCEEDS_CREDITS]
    with database.engine.begin() as conn:
        ledger = Ledger(conn)
        now = clock.now_ns()
        assert ledger.post([Transfer("pay-1", ALICE, BOB, 1_000, EUR, 1)], now_ns=now) == [
            R.EXISTS]
        assert ledger.post([Transfer("gone", BANK, BOB, 1, EUR, 1)], now_ns=now) == [
            R.ID_ALREADY_FAILED]
        assert ledger.post([Transfer("leg.1.0", ALICE, BOB, 5, EUR, 1)], now_ns=now) == [
            R.EXCEEDS_CREDITS]
        conn.rollback()  # as a refused payment does
    assert failed_rows(database) == [("gone", "exceeds_credits")]
    accounts.execute([Transfer("top-up", BANK, ALICE, 10, EUR, 1)])
    with database.engine.begin() as conn:  # the buyer topped up: the same leg id succeeds
        assert Ledger(conn).post([Transfer("leg.1.0", ALICE, BOB, 5, EUR, 1)],
                                 now_ns=clock.now_ns()) == [R.OK]
    assert posted(database, BOB, clock) == 1_005 and sound(database)


# -- the engine's set of failed ids -------------------------------------------------


def test_a_failure_recorded_by_a_batch_that_is_redone_is_forgotten(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    pay = Transfer("pay-1", ALICE, BOB, 600, EUR, 1)
    assert accounts.execute([pay]) == [R.OK]
    accounts.execute([Transfer("top-up", BANK, ALICE, 600, EUR, 1)])  # Alice: 1,000 again
    # The guess applies pay-1 afresh, which leaves too little for pay-2; the unique index
    # then refuses pay-1, and the batch is redone: pay-1 exists, and pay-2 fits.
    assert accounts.execute([pay, Transfer("pay-2", ALICE, BOB, 500, EUR, 1)]) == [
        R.EXISTS, R.OK]
    assert failed_rows(database) == []
    assert accounts.execute([Transfer("pay-2", ALICE, BOB, 500, EUR, 1)]) == [R.EXISTS]
    assert posted(database, BOB, clock) == 1_100 and sound(database)


def test_a_failure_recorded_by_another_engine_is_seen_by_this_one(
        accounts: LedgerEngine, database: Database, clock: FakeClock) -> None:
    attempt = Transfer("pay-3", ALICE, BOB, 5_000, EUR, 1)
    assert accounts.execute([Transfer("warm", BANK, BOB, 1, EUR, 1)]) == [R.OK]
    with LedgerEngine(database, clock=clock) as other:  # another API process
        assert other.execute([attempt]) == [R.EXCEEDS_CREDITS]
    accounts.execute([Transfer("top-up", BANK, ALICE, 10_000, EUR, 1)])
    assert accounts.execute([attempt]) == [R.ID_ALREADY_FAILED]
    assert posted(database, BOB, clock) == 1 and sound(database)


def test_too_many_failed_ids_to_keep_are_looked_up_batch_by_batch(
        accounts: LedgerEngine, database: Database) -> None:
    accounts._failed = FailedIds(ids_max=2)
    refused = [Transfer(f"r{i}", ALICE, BOB, 5_000, EUR, 1) for i in range(3)]
    assert accounts.execute(refused) == [R.EXCEEDS_CREDITS] * 3
    assert not accounts._failed.complete
    accounts.execute([Transfer("top-up", BANK, ALICE, 100_000, EUR, 1)])
    assert accounts.execute([*refused, Transfer("fine", ALICE, BOB, 1, EUR, 1)]) == [
        R.ID_ALREADY_FAILED] * 3 + [R.OK]
    assert len(failed_rows(database)) == 3 and sound(database)

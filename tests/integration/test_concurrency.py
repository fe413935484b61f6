"""Many threads and processes drain one account funded for only some of them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from paywarden.adapters.store import Database
from paywarden.domain.ledger import AccountFlags, Transfer
from paywarden.domain.ledger import TransferResult as R
from paywarden.services.ledger import LedgerEngine, NewAccount
from paywarden.services.ledger.queries import LedgerQueries
from paywarden.services.ledger.verify import verify_ledger

EUR = 978
AMOUNT = 7
FUNDED_FOR = 60


def fund(engine: LedgerEngine) -> None:
    engine.create_accounts([NewAccount(1, EUR, 1), NewAccount(
        2, EUR, 1, int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)), NewAccount(3, EUR, 1)]
    ).result()
    assert engine.execute([Transfer("fund", 1, 2, AMOUNT * FUNDED_FOR, EUR, 1)]) == [R.OK]


def assert_drained(database: Database, successes: int) -> None:
    assert successes == FUNDED_FOR
    view = LedgerQueries(database).account(2, now_ns=0)
    assert view is not None
    assert view.balances.debits_posted == view.balances.credits_posted == AMOUNT * FUNDED_FOR
    assert verify_ledger(database) == []


def test_threads_draining_one_account_succeed_exactly_as_often_as_funds_allow(
        engine: LedgerEngine, database: Database) -> None:
    fund(engine)
    results: list[R] = []
    lock = threading.Lock()

    def spender(n: int) -> None:
        for i in range(10):
            (r,) = engine.execute([Transfer(f"th{n}-{i}", 2, 3, AMOUNT, EUR, 1)])
            with lock:
                results.append(r)

    threads = [threading.Thread(target=spender, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 120
    assert set(results) == {R.OK, R.EXCEEDS_CREDITS}
    assert_drained(database, results.count(R.OK))


def test_processes_each_with_an_engine_drain_one_account_exactly(
        engine: LedgerEngine, database: Database, database_url: str) -> None:
    fund(engine)
    engine.stop()  # the children's engines must cope with each other, not with ours
    children = [subprocess.Popen(
        [sys.executable, "-m", "tests.integration.ledger_worker", "drain", database_url,
         f"proc{n}", "30", str(AMOUNT)], stdout=subprocess.PIPE, text=True)
        for n in range(4)]
    results: list[str] = []
    for child in children:
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0
        results += json.loads(out)
    assert len(results) == 120
    assert set(results) == {"ok", "exceeds_credits"}
    assert_drained(database, results.count("ok"))

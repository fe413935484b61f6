"""A month of activity on raw ledger accounts, for the history and statement tests."""

from __future__ import annotations

from paywarden.adapters.clock import FakeClock
from paywarden.domain.ledger import AccountFlags, Transfer, TransferFlags
from paywarden.services.ledger import LedgerEngine, NewAccount

EUR = 978
OUTSIDE, ALICE, BOB = 11, 12, 13
DAY_S = 86_400


def open_accounts(engine: LedgerEngine) -> None:
    limited = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    engine.create_accounts([
        NewAccount(OUTSIDE, EUR, 103, user_data="bank_clearing:platform"),
        NewAccount(ALICE, EUR, 301, limited, user_data="bank:alice"),
        NewAccount(BOB, EUR, 301, limited, user_data="bank:bob"),
    ]).result()


def month_of_activity(ledger: LedgerEngine, clock: FakeClock) -> None:
    """From 2026-01-01, every 3 days: a deposit, payments both ways, a hold posted, a hold
    voided, and a hold left open."""
    steps = [
        [Transfer("dep-1", OUTSIDE, ALICE, 100_00, EUR, 1, user_data="salary")],
        [Transfer("rent", ALICE, BOB, 30_00, EUR, 1, user_data="rent january")],
        [Transfer("hold-1", ALICE, OUTSIDE, 5_00, EUR, 1, int(TransferFlags.PENDING))],
        [Transfer("post-1", 0, 0, None, 0, 0, int(TransferFlags.POST_PENDING),
                  pending_id="hold-1")],
        [Transfer("back", BOB, ALICE, 7_50, EUR, 1, user_data="lunch refund")],
        [Transfer("hold-2", ALICE, OUTSIDE, 2_00, EUR, 1, int(TransferFlags.PENDING))],
        [Transfer("void-2", 0, 0, None, 0, 0, int(TransferFlags.VOID_PENDING),
                  pending_id="hold-2")],
        [Transfer("hold-3", ALICE, OUTSIDE, 1_00, EUR, 1, int(TransferFlags.PENDING))],
    ]
    for batch in steps:
        assert [r.name for r in ledger.execute(batch)] == ["OK"]
        clock.advance(3 * DAY_S)

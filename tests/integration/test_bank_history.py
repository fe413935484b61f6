"""An account's history from the ledger's chain, on SQLite and PostgreSQL: running
balances read from the ledger, holds shown as pending, filters, cursor pages, and a
period whose opening plus entries is its closing, which is the ledger's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from paywarden.adapters.clock import FakeClock
from paywarden.domain.banking.statement import Statement
from paywarden.domain.errors import DomainError
from paywarden.services.banking.history import (
    Filters,
    Side,
    history,
    period,
)
from paywarden.services.ledger import LedgerEngine
from paywarden.services.ledger.queries import LedgerQueries
from tests.support.banking_ledger import ALICE, BOB, OUTSIDE, month_of_activity, open_accounts


@pytest.fixture
def ledger(engine: LedgerEngine) -> LedgerEngine:
    open_accounts(engine)
    return engine


def test_history_lists_booked_entries_with_running_balances_and_open_holds_as_pending(
        ledger: LedgerEngine, clock: FakeClock) -> None:
    month_of_activity(ledger, clock)
    with ledger._database.engine.connect() as conn:
        page = history(conn, ALICE, Side.CREDIT_NORMAL, now_ns=clock.now_ns())
    assert [(i.entry_id, i.state, i.amount_minor, i.balance_after_minor) for i in page.items] == [
        ("hold-3", "pending", -1_00, 72_50),
        ("back", "booked", 7_50, 72_50),
        ("post-1", "booked", -5_00, 65_00),
        ("rent", "booked", -30_00, 70_00),
        ("dep-1", "booked", 100_00, 100_00),
    ]
    assert page.next_cursor is None
    assert page.items[1].counterparty == "bank:bob"
    assert page.items[1].reference == "lunch refund"


def test_filters_by_text_amount_and_dates(ledger: LedgerEngine, clock: FakeClock) -> None:
    month_of_activity(ledger, clock)
    now = clock.now_ns()
    with ledger._database.engine.connect() as conn:
        def ids(filters: Filters) -> list[str]:
            return [i.entry_id for i in history(conn, ALICE, Side.CREDIT_NORMAL, now_ns=now,
                                                filters=filters).items]
        assert ids(Filters(text="RENT")) == ["rent"]
        assert ids(Filters(text="bank:bob")) == ["back", "rent"]
        assert ids(Filters(amount_min_minor=7_50, amount_max_minor=30_00)) == ["back", "rent"]
        assert ids(Filters(from_date=date(2026, 1, 4), to_date=date(2026, 1, 10))) == [
            "post-1", "rent"]


def test_cursor_pages_cover_everything_once_in_a_stable_order(ledger: LedgerEngine,
                                                               clock: FakeClock) -> None:
    month_of_activity(ledger, clock)
    now = clock.now_ns()
    seen: list[str] = []
    cursor = None
    with ledger._database.engine.connect() as conn:
        whole = [i.entry_id for i in history(conn, ALICE, Side.CREDIT_NORMAL, now_ns=now).items]
        for _ in range(10):
            page = history(conn, ALICE, Side.CREDIT_NORMAL, now_ns=now, cursor=cursor, limit=2)
            seen += [i.entry_id for i in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == whole


@pytest.mark.parametrize("cursor", ["h1.garbage", "nonsense", "h1." + "A" * 80])
def test_a_forged_cursor_is_refused(ledger: LedgerEngine, clock: FakeClock, cursor: str) -> None:
    month_of_activity(ledger, clock)
    with ledger._database.engine.connect() as conn, pytest.raises(DomainError) as caught:
        history(conn, ALICE, Side.CREDIT_NORMAL, now_ns=clock.now_ns(), cursor=cursor)
    assert caught.value.code == "cursor_invalid"


def test_another_accounts_cursor_is_refused(ledger: LedgerEngine, clock: FakeClock) -> None:
    month_of_activity(ledger, clock)
    with ledger._database.engine.connect() as conn:
        bobs = history(conn, BOB, Side.CREDIT_NORMAL, now_ns=clock.now_ns(), limit=1)
        assert bobs.next_cursor is not None
        with pytest.raises(DomainError) as caught:
            history(conn, ALICE, Side.CREDIT_NORMAL, now_ns=clock.now_ns(),
                    cursor=bobs.next_cursor)
    assert caught.value.code == "cursor_invalid"


@pytest.mark.parametrize(("first", "last"), [
    (date(2026, 1, 1), date(2026, 1, 31)),
    (date(2026, 1, 5), date(2026, 1, 12)),
    (date(2026, 1, 20), date(2026, 2, 28)),
    (date(2025, 12, 1), date(2025, 12, 31)),
])
def test_a_periods_opening_plus_entries_is_its_closing_which_is_the_ledgers(
        ledger: LedgerEngine, clock: FakeClock, first: date, last: date) -> None:
    from paywarden.services.banking.history import day_end_ns, day_start_ns

    month_of_activity(ledger, clock)
    with ledger._database.engine.connect() as conn:
        found = period(conn, ALICE, Side.CREDIT_NORMAL, first, last)
    Statement(statement_id="s", account_id="a", iban="x", owner_name="o", product="current",
              currency="EUR", period_from=first, period_to=last,
              opening_balance_minor=found.opening_balance_minor, entries=found.entries,
              closing_balance_minor=found.closing_balance_minor, generated_at_ns=0).check()
    queries = LedgerQueries(ledger._database)

    def posted(at_ns: int) -> int:
        b = queries.balances_as_of(ALICE, at_ns)
        return 0 if b is None else b.credits_posted - b.debits_posted

    assert found.opening_balance_minor == posted(day_start_ns(first) - 1)
    assert found.closing_balance_minor == posted(day_end_ns(last))
    assert all(day_start_ns(first) <= e.booked_at_ns <= day_end_ns(last) for e in found.entries)


def test_a_debit_normal_account_counts_the_other_way(ledger: LedgerEngine,
                                                     clock: FakeClock) -> None:
    month_of_activity(ledger, clock)
    with ledger._database.engine.connect() as conn:
        found = period(conn, OUTSIDE, Side.DEBIT_NORMAL, date(2026, 1, 1),
                       date(2026, 1, 1) + timedelta(days=60))
    assert found.closing_balance_minor == 100_00 - 5_00
    assert found.entries[0].amount_minor == 100_00


def test_filters_that_cannot_hold_are_refused() -> None:
    for bad in ({"from_date": date(2026, 2, 1), "to_date": date(2026, 1, 1)},
                {"amount_min_minor": -1}, {"amount_min_minor": 5, "amount_max_minor": 4},
                {"text": "x" * 101}):
        with pytest.raises(DomainError) as caught:
            Filters(**bad)  # type: ignore[arg-type]
        assert caught.value.code == "history_filter_invalid"

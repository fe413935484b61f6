"""Interest on savings (services/banking/interest.py) on a real database: a day is accrued
once however often the job runs, a month is posted once, and the posted interest earns
from the next month."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from paywarden.adapters.clock import FakeClock
from paywarden.adapters.store import Database
from paywarden.adapters.store.schema import audit_entries
from paywarden.bootstrap import Platform
from paywarden.domain.banking import interest as rules
from paywarden.domain.errors import DomainError
from paywarden.domain.ledger.chart import AccountKind
from paywarden.services.ledger.accounts import platform_account
from paywarden.services.ledger.verify import verify_ledger

from ..support.interest import accruals, at, deposit, move_to, postings, savings, schedule
from ..support.merchants import platform_for

JAN_1 = dt.date(2026, 1, 1)


@pytest.fixture
def platform(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Platform]:
    made = platform_for(database, clock, tmp_path, interest_rates_bps={"savings": 100})
    made.start()
    yield made
    made.stop()


def booked(platform: Platform, ledger_account_id: int) -> int:
    view = platform.queries.account(ledger_account_id, now_ns=platform.clock.now_ns())
    assert view is not None
    return view.balances.credits_posted - view.balances.debits_posted


def test_a_day_run_twice_accrues_once(platform: Platform, clock: FakeClock) -> None:
    move_to(clock, at(JAN_1, 9))
    account = savings(platform, "ada", "Rainy day")
    deposit(platform, account, 10_000_00, "rail-00000001")
    move_to(clock, at(JAN_1 + dt.timedelta(days=2), 0) + 600 * 10**9)
    first = platform.interest.run()
    assert (first.through, first.days_accrued) == (JAN_1 + dt.timedelta(days=1), 2)
    assert platform.interest.run().days_accrued == 0
    assert platform.interest.run(JAN_1).days_accrued == 0
    rows = accruals(platform.database)["Rainy day"]
    assert rows == [("2026-01-01", 10_000_00, 27_397_260), ("2026-01-02", 10_000_00, 27_397_260)]
    with pytest.raises(DomainError) as refused:
        platform.interest.run(JAN_1 + dt.timedelta(days=2))  # today: not over yet
    assert refused.value.code == "interest_day_open"
    assert len(accruals(platform.database)["Rainy day"]) == 2
    with platform.database.engine.connect() as conn:
        runs = conn.execute(select(audit_entries.c.detail).where(
            audit_entries.c.action == "interest.run")).scalars().all()
    assert [json.loads(d)["days_accrued"] for d in runs] == [2]  # idle runs leave no entry


def test_a_month_is_posted_once_and_earns_interest_from_the_next_month(
        platform: Platform, clock: FakeClock) -> None:
    made = schedule(platform, clock, JAN_1, dt.date(2026, 1, 31), 2)
    done = platform.interest.run()  # 2026-02-01 00:10: January is over
    january = accruals(platform.database)
    assert [len(days) for days in january.values()] == [31, 31]
    expected = {name: rules.month_posting_minor(0, sum(a for _, _, a in days))
                for name, days in january.items()}
    assert {p.account_id: p.amount_minor for p in done.postings if p.created} == {
        a.id: expected[a.name] for a in made}
    again = platform.interest.run()  # checks January once more: answered, not paid again
    assert again.postings and not any(p.created for p in again.postings)
    assert postings(platform.database) == {
        name: [("202601", amount, "posted")] for name, amount in expected.items()}
    for account in made:
        deposits = 1_000_00 * (int(account.name[-1]) + 1) + 37 + sum(
            250_00 + 13 * int(account.name[-1]) + d for d in (3, 17, 31))
        assert booked(platform, account.ledger_account_id) == deposits + expected[account.name]
    move_to(clock, clock.now_ns() + 86_400 * 10**9)
    platform.interest.run()
    for account in made:
        feb_1 = accruals(platform.database)[account.name][-1]
        assert feb_1[0] == "2026-02-01"
        assert feb_1[1] == booked(platform, account.ledger_account_id)  # January's included
    expense = platform_account(AccountKind.INTEREST_EXPENSE, "EUR")
    assert booked(platform, expense.id) == -sum(expected.values())
    assert verify_ledger(platform.database) == []


def test_an_account_without_a_rate_earns_nothing_and_a_closed_one_is_left_alone(
        platform: Platform, clock: FakeClock) -> None:
    move_to(clock, at(JAN_1, 9))
    current = platform.banking.accounts.open("usr_bob0000000000000", "current", "EUR",  # type: ignore[arg-type]
                                             "Everyday", actor="test")
    deposit(platform, current, 5_000_00, "rail-00000002")
    closed = savings(platform, "bob", "Old savings")
    platform.banking.accounts.close(closed.id, actor="test", reason="customer left")
    move_to(clock, at(JAN_1 + dt.timedelta(days=3), 1))
    assert platform.interest.run().accounts == 0
    assert accruals(platform.database) == {}


def test_a_serving_process_runs_interest_and_safeguarding_on_their_settings_periods(
        database: Database, clock: FakeClock, tmp_path: Path) -> None:
    made = platform_for(database, clock, tmp_path, interest_interval_s=600,
                        safeguarding_interval_s=3600)
    chores = {c.name: c.interval_s for c in made.chores()}
    assert (chores["banking.interest"], chores["banking.safeguarding"]) == (600, 3600)

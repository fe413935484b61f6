"""Interest arithmetic (domain/banking/interest.py): ACT/365 Fixed, daily accrual truncated
to micro-units, monthly posting of whole minor units with the remainder carried. Checked
against exact fractions: never a float, never a minor unit lost or paid twice."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paywarden.domain.banking import interest as rules
from paywarden.domain.errors import DomainError

BALANCES = st.integers(min_value=-10**6, max_value=10**13)  # up to 100 bn EUR in cents
RATES = st.integers(min_value=0, max_value=rules.RATE_BPS_MAX)
MONTH = st.lists(BALANCES, min_size=28, max_size=31)


def exact(balance_minor: int, rate_bps: int) -> Fraction:
    """One day's interest, exactly, in minor units."""
    return Fraction(max(balance_minor, 0) * rate_bps, 10_000 * 365)


@given(MONTH, RATES)
def test_a_months_daily_accruals_differ_from_the_exact_interest_by_less_than_a_minor_unit(
        balances: list[int], rate_bps: int) -> None:
    accrued = [rules.daily_accrual_micro(b, rate_bps) for b in balances]
    assert all(type(a) is int for a in accrued)  # never a float
    truth = sum((exact(b, rate_bps) for b in balances), Fraction(0))
    got = Fraction(sum(accrued), rules.MICRO_PER_MINOR)
    assert 0 <= truth - got < Fraction(len(balances), rules.MICRO_PER_MINOR)  # < 31 micro
    posted = rules.month_posting_minor(0, sum(accrued))
    assert type(posted) is int
    assert 0 <= truth - posted < 1


@given(st.lists(MONTH, min_size=1, max_size=14), RATES)
def test_the_carried_remainder_is_never_lost_nor_paid_twice_over_many_months(
        months: list[list[int]], rate_bps: int) -> None:
    cumulative = 0
    posted_total = 0
    days = 0
    truth = Fraction(0)
    for balances in months:
        month_micro = sum(rules.daily_accrual_micro(b, rate_bps) for b in balances)
        posted_total += rules.month_posting_minor(cumulative, month_micro)
        cumulative += month_micro
        truth += sum((exact(b, rate_bps) for b in balances), Fraction(0))
        days += len(balances)
        assert posted_total == cumulative // rules.MICRO_PER_MINOR
        # By every month end less than a unit behind, plus what the daily truncation to
        # micro-units kept back (under one micro-unit a day: the written rounding rule).
        assert 0 <= truth - posted_total < 1 + Fraction(days, rules.MICRO_PER_MINOR)


def test_a_year_at_one_percent_on_ten_thousand_euros_pays_one_hundred_euros() -> None:
    daily = rules.daily_accrual_micro(1_000_000, 100)
    assert daily == 27_397_260  # 27.397260 cents a day, truncated to the micro-unit
    assert rules.month_posting_minor(0, daily * 365) == 99_99  # 0.0001 cent short a year...
    assert rules.month_posting_minor(0, daily * 366) == 100_27  # ...a leap year pays 366/365


def test_a_negative_balance_earns_nothing_and_floats_and_bad_rates_are_refused() -> None:
    assert rules.daily_accrual_micro(-5_000, 500) == 0
    for balance, rate in ((1.5, 100), (100, 1.5), (100, -1), (100, 10_001), (True, 100)):
        with pytest.raises(DomainError):
            rules.daily_accrual_micro(balance, rate)  # type: ignore[arg-type]
    with pytest.raises(DomainError):
        rules.month_posting_minor(-1, 5)


def test_the_calendar_is_utc_days_and_calendar_months() -> None:
    assert rules.day_of(1_767_225_600_000_000_000) == dt.date(2026, 1, 1)
    assert rules.day_of(rules.day_end_ns(dt.date(2026, 1, 1)) - 1) == dt.date(2026, 1, 1)
    assert rules.day_of(rules.day_end_ns(dt.date(2026, 1, 1))) == dt.date(2026, 1, 2)
    assert rules.last_day_of_month(dt.date(2028, 2, 3)) == dt.date(2028, 2, 29)
    assert rules.last_day_of_month(dt.date(2026, 12, 31)) == dt.date(2026, 12, 31)
    assert rules.is_month_end(dt.date(2026, 4, 30)) and not rules.is_month_end(
        dt.date(2026, 5, 30))
    assert len(rules.days(dt.date(2026, 1, 30), dt.date(2026, 3, 1))) == 31
    assert rules.days(dt.date(2026, 1, 2), dt.date(2026, 1, 1)) == []
    assert rules.month_of(dt.date(2026, 3, 9)) == 202603
    made = rules.posting_id("acc_" + "0" * 24, 202603)
    assert made == "int_acc_000000000000000000000000_202603" and len(made) <= 60

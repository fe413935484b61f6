"""Standing orders' dates and words, and confirmation of payee's name matching: pure."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paywarden.domain.errors import DomainError
from paywarden.services.banking.cop import Answer, compare
from paywarden.services.banking.schedules import Frequency, check, next_on, occurrence, words


def test_a_monthly_order_on_the_31st_pays_on_each_months_last_day_without_drifting() -> None:
    start = date(2026, 1, 31)
    dates = [occurrence(start, Frequency.MONTHLY, n) for n in range(5)]
    assert dates == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31),
                     date(2026, 4, 30), date(2026, 5, 31)]


def test_a_weekly_order_pays_every_seven_days_up_to_its_end() -> None:
    start, end = date(2026, 12, 24), date(2027, 1, 14)
    paid = []
    n = 0
    while (on := next_on(start, end, Frequency.WEEKLY, n)) is not None:
        paid.append(on)
        n += 1
    assert paid == [date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 7),
                    date(2027, 1, 14)]


def test_a_one_off_transfer_has_one_occurrence() -> None:
    on = date(2026, 5, 1)
    assert next_on(on, on, Frequency.ONCE, 0) == on
    assert next_on(on, on, Frequency.ONCE, 1) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       st.integers(min_value=0, max_value=120))
def test_monthly_occurrences_keep_the_start_day_or_the_months_last(start: date,
                                                                   n: int) -> None:
    on = occurrence(start, Frequency.MONTHLY, n)
    months = (on.year - start.year) * 12 + on.month - start.month
    assert months == n
    assert on.day == min(start.day, calendar.monthrange(on.year, on.month)[1])


def test_the_schedule_in_words_names_what_the_customer_confirms() -> None:
    assert words(Frequency.MONTHLY, date(2026, 1, 5), date(2026, 6, 5), "Rent") == \
        "monthly on day 5 from 2026-01-05 until 2026-06-05: Rent"
    assert words(Frequency.WEEKLY, date(2026, 1, 5), date(2026, 6, 5), "") == \
        "weekly on Mondays from 2026-01-05 until 2026-06-05"
    assert words(Frequency.ONCE, date(2026, 1, 5), date(2026, 1, 5), "Gift") == \
        "once on 2026-01-05: Gift"
    longest = words(Frequency.MONTHLY, date(2026, 1, 5), date(2036, 1, 5), "x" * 70)
    assert len(longest) <= 140  # a step-up's reference


@pytest.mark.parametrize(("start", "end", "frequency"), [
    (date(2025, 12, 31), date(2026, 2, 1), Frequency.MONTHLY),
    (date(2026, 2, 1), date(2026, 1, 31), Frequency.WEEKLY),
    (date(2026, 1, 1), date(2037, 1, 1), Frequency.MONTHLY),
    (date(2026, 1, 1), date(2026, 1, 2), Frequency.ONCE),
])
def test_bad_schedules_are_refused(start: date, end: date, frequency: Frequency) -> None:
    with pytest.raises(DomainError) as refused:
        check(start, end, frequency, today=date(2026, 1, 1))
    assert refused.value.code == "schedule_invalid"


@pytest.mark.parametrize(("typed", "holder", "answer"), [
    ("Ada Lovelace", "Ada Lovelace", Answer.MATCH),
    ("ada  LOVELACE.", "Ada Lovelace", Answer.MATCH),
    ("Lovelace, Ada", "Ada Lovelace", Answer.MATCH),
    ("José Núñez", "Jose Nunez", Answer.MATCH),
    ("A Lovelace", "Ada Lovelace", Answer.CLOSE_MATCH),
    ("Ada Lovelase", "Ada Lovelace", Answer.CLOSE_MATCH),
    ("Bob Bilder", "Bob Builder", Answer.CLOSE_MATCH),  # the slip moves it when sorted
    ("Rob Builder", "Bob Builder", Answer.CLOSE_MATCH),
    ("Builder Bob", "Bob Builder", Answer.MATCH),
    ("Bob", "Bob Builder", Answer.NO_MATCH),
    ("Bob Smith", "Ada Lovelace", Answer.NO_MATCH),
    ("Ada", "Ada Lovelace", Answer.NO_MATCH),
    ("...", "Ada Lovelace", Answer.NO_MATCH),
    ("Ada Lovelace", None, Answer.NO_MATCH),
])
def test_confirmation_of_payee_compares_folded_names(typed: str, holder: str | None,
                                                     answer: Answer) -> None:
    found = compare(typed, holder)
    assert found.answer is answer
    assert found.holder_name == (holder if answer is Answer.CLOSE_MATCH else None)

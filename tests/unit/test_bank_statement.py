"""The statement adds up, or it cannot be issued (domain/banking/statement.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paywarden.domain.banking.statement import Entry, Statement
from paywarden.domain.errors import InvariantViolation

amounts = st.integers(min_value=-10**12, max_value=10**12).filter(lambda a: a != 0)


def statement(opening: int, moves: list[int]) -> Statement:
    balance, entries = opening, []
    for i, amount in enumerate(moves):
        balance += amount
        entries.append(Entry(entry_id=f"t{i}", booked_at_ns=1_700_000_000_000_000_000 + i,
                             amount_minor=amount, counterparty="Ada", reference=f"ref {i}",
                             balance_after_minor=balance))
    return Statement(statement_id="stm_1", account_id="acc_1", iban="DE89370400440532013000",
                     owner_name="Ada Lovelace", product="current", currency="EUR",
                     period_from=date(2026, 10, 1), period_to=date(2026, 10, 31),
                     opening_balance_minor=opening, entries=tuple(entries),
                     closing_balance_minor=balance, generated_at_ns=1_800_000_000_000_000_000)


@given(st.integers(min_value=-10**12, max_value=10**12), st.lists(amounts, max_size=30))
def test_a_statement_built_from_its_entries_adds_up(opening: int, moves: list[int]) -> None:
    s = statement(opening, moves).check()
    assert s.opening_balance_minor + s.credits_minor - s.debits_minor == s.closing_balance_minor


@given(st.integers(min_value=-10**6, max_value=10**6), st.lists(amounts, min_size=1, max_size=20),
       st.data())
def test_any_changed_amount_breaks_the_statement(opening: int, moves: list[int],
                                                 data: st.DataObject) -> None:
    s = statement(opening, moves)
    i = data.draw(st.integers(min_value=0, max_value=len(moves) - 1))
    delta = data.draw(amounts)
    entries = list(s.entries)
    entries[i] = replace(entries[i], amount_minor=entries[i].amount_minor + delta)
    with pytest.raises(InvariantViolation):
        replace(s, entries=tuple(entries)).check()


def test_a_closing_balance_that_is_not_opening_plus_entries_is_an_invariant_violation() -> None:
    s = statement(100, [50, -20])
    with pytest.raises(InvariantViolation, match="closing balance"):
        replace(s, closing_balance_minor=131).check()


def test_a_running_balance_that_does_not_follow_is_an_invariant_violation() -> None:
    s = statement(0, [50, -20, 5])
    entries = list(s.entries)
    entries[1] = replace(entries[1], balance_after_minor=31)
    entries[2] = replace(entries[2], balance_after_minor=36)
    with pytest.raises(InvariantViolation, match="running balance"):
        replace(s, entries=tuple(entries)).check()


def test_an_entry_of_zero_and_entries_out_of_order_are_refused() -> None:
    s = statement(0, [5, 6])
    zero = (replace(s.entries[0], amount_minor=0, balance_after_minor=0),
            replace(s.entries[1], balance_after_minor=6))
    assert "moves nothing" in replace(s, entries=zero, closing_balance_minor=6).problems()[0]
    swapped = (replace(s.entries[0], booked_at_ns=s.entries[1].booked_at_ns + 1), s.entries[1])
    assert "out of booking order" in replace(s, entries=swapped).problems()[0]


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    s = statement(0, [])
    with pytest.raises(InvariantViolation, match="before it starts"):
        replace(s, period_to=date(2026, 9, 30)).check()


@given(st.integers(min_value=-10**12, max_value=10**12), st.lists(amounts, max_size=10))
def test_the_canonical_data_reads_back_as_the_same_statement(opening: int,
                                                             moves: list[int]) -> None:
    s = statement(opening, moves)
    assert Statement.from_data(s.data()) == s


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("entries"),
    lambda d: d.update(opening_balance_minor="100"),
    lambda d: d.update(v=2),
    lambda d: d.update(generated_at="yesterday"),
    lambda d: d["entries"][0].update(amount_minor=1.5),
])
def test_data_that_is_not_a_statement_is_refused_with_value_error(damage) -> None:  # type: ignore[no-untyped-def]
    d = statement(0, [5]).data()
    damage(d)
    with pytest.raises(ValueError):
        Statement.from_data(d)


def test_the_indicator_says_credit_for_money_in_and_debit_for_money_out() -> None:
    s = statement(0, [5, -3])
    assert [(e.indicator, e.magnitude_minor) for e in s.entries] == [("CRDT", 5), ("DBIT", 3)]

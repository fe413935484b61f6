"""Insider analytics' arithmetic and the masks staff see (domain/insider.py, masking.py)."""

from __future__ import annotations

import pytest

from paywarden.domain import masking
from paywarden.domain.insider import Activity, WorkingHours, is_burst, parse_hours, usual_hour

SATURDAY_NOON_NS = 1_768_046_400 * 1_000_000_000  # 2026-01-10T12:00:00Z


def test_a_burst_is_measured_against_the_persons_busy_hours_not_their_idle_ones() -> None:
    history = [0] * 300 + [40] * 36  # forty an hour, nine to five, four days
    assert usual_hour(history) == 40
    assert not is_burst(Activity.VIEW, 100, history)
    assert is_burst(Activity.VIEW, 121, history)
    assert not is_burst(Activity.VIEW, 30, [])  # the floor: a new starter's busy morning
    assert is_burst(Activity.VIEW, 31, [])
    assert not is_burst(Activity.WRITE, 10_000, [])  # writes are judged by the hour, not count


def test_working_hours_are_written_plainly_and_refused_otherwise() -> None:
    assert parse_hours("07-19") == WorkingHours(7, 19, frozenset(range(5)))
    assert parse_hours("08-18 mon-sat").weekdays == frozenset(range(6))
    assert parse_hours("00-24 mon-sun").outside(SATURDAY_NOON_NS) is False
    assert parse_hours("07-19").outside(SATURDAY_NOON_NS) is True
    for bad in ("7", "19-07", "07-25", "07-19 fri-mon", "07-19 weekdays"):
        with pytest.raises(ValueError):
            parse_hours(bad)


def test_masks_keep_enough_to_recognise_and_no_more() -> None:
    assert masking.email("ada.lovelace@example.com") == "a•••@example.com"
    assert masking.name("Ada King Lovelace") == "A••• K••• L•••"
    assert masking.iban("DE89 3704 0044 0532 0130 00") == "DE89 ••• 3000"
    assert masking.iban("DE89") == "•••"
    assert masking.card("visa", "4242") == "visa ••• 4242"
    assert masking.email(None) is None and masking.email("nodomain") == "n•••"

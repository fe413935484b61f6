"""``hour_vs_habit_h``: the hours between a movement's time of day and the customer's habit,
on a circle (23:00 and 01:00 are two hours apart), as the simulator the model learned
from computes it."""

from __future__ import annotations

import math

from paywarden.services.risk.features import hour_gap_h

NS = 1_000_000_000
DAY_NS = 86_400 * NS


def at(day: int, hour: float) -> int:
    return day * DAY_NS + int(hour * 3600) * NS


def test_no_past_is_no_gap() -> None:
    assert hour_gap_h(at(10, 3), []) == 0.0


def test_a_night_movement_of_a_daytime_customer_is_far_from_habit() -> None:
    past = [at(d, 14) for d in range(1, 9)]
    assert hour_gap_h(at(10, 3), past) == 11.0
    assert hour_gap_h(at(10, 14.5), past) == 0.5


def test_the_habit_wraps_around_midnight() -> None:
    past = [at(1, 23), at(2, 1), at(3, 23), at(4, 1)]  # the habit is midnight
    assert math.isclose(hour_gap_h(at(10, 2), past), 2.0, abs_tol=1e-3)
    assert math.isclose(hour_gap_h(at(10, 22), past), 2.0, abs_tol=1e-3)

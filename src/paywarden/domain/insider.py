"""Insider analytics: a member of staff's behaviour against their own baseline
(issue 13; decision 0046). Pure functions; services/insider.py keeps the counts.

Three findings, each an alert for supervisors, never a refusal (a burst of lookups may be
a busy morning; a person decides):

- a **burst**: more customer records viewed (or fields revealed, or exports made) in one
  hour than ``factor`` times the person's usual busy hour, and more than a floor;
- **out of hours**: a write (a four-eyes submission or decision, a reveal) outside the
  working hours;
- a **linked account**: acting on a customer who shares a device or an address with the
  member of staff (computed in the service from sign-in origins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

HOUR_NS = 3_600 * 1_000_000_000


class Activity(StrEnum):
    VIEW = "view"  # a customer record opened
    REVEAL = "reveal"  # a masked field shown whole
    EXPORT = "export"  # data taken out in bulk
    WRITE = "write"  # a change submitted or decided


@dataclass(frozen=True)
class Habits:
    """What counts as unusual for one kind of activity."""

    floor: int  # never a burst at or below this many an hour
    factor: int  # a burst is more than factor × the usual busy hour


HABITS = {Activity.VIEW: Habits(floor=30, factor=3), Activity.REVEAL: Habits(floor=5, factor=3),
          Activity.EXPORT: Habits(floor=3, factor=3)}


def hour_of(at_ns: int) -> int:
    return at_ns - at_ns % HOUR_NS


def usual_hour(history: Sequence[int]) -> float:
    """The mean of the hours in which the person did this at all: a part-time habit is
    not diluted by the hours they were away."""
    active = [n for n in history if n > 0]
    return sum(active) / len(active) if active else 0.0


def is_burst(activity: Activity, this_hour: int, history: Sequence[int]) -> bool:
    habits = HABITS.get(activity)
    if habits is None:
        return False
    return this_hour > max(habits.floor, habits.factor * usual_hour(history))


@dataclass(frozen=True)
class WorkingHours:
    """Working hours in UTC, on the weekdays given (0 = Monday)."""

    start_hour: int = 7
    end_hour: int = 19
    weekdays: frozenset[int] = frozenset(range(5))

    def outside(self, at_ns: int) -> bool:
        moment = datetime.fromtimestamp(at_ns / 1e9, tz=UTC)
        return moment.weekday() not in self.weekdays \
            or not self.start_hour <= moment.hour < self.end_hour


def parse_hours(text: str) -> WorkingHours:
    """``"07-19"`` or ``"07-19 mon-fri"``; refused unless well formed."""
    days = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
    hours, _, span = text.strip().lower().partition(" ")
    start, dash, end = hours.partition("-")
    if not (dash and start.isdigit() and end.isdigit() and 0 <= int(start) < int(end) <= 24):
        raise ValueError(f"working hours {text!r}: write them as 07-19 or 07-19 mon-fri")
    weekdays = frozenset(range(5))
    if span:
        first, dash, last = span.partition("-")
        if not dash or first not in days or last not in days or days[first] > days[last]:
            raise ValueError(f"working days {span!r}: write them as mon-fri")
        weekdays = frozenset(range(days[first], days[last] + 1))
    return WorkingHours(int(start), int(end), weekdays)

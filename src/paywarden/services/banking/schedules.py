"""When a standing order pays: its occurrences, and the schedule in words.

Pure date arithmetic, in calendar dates (UTC). Occurrence ``n`` of a weekly order is
``start + n weeks``; of a monthly order, the start's day of month ``n`` months on, or
the month's last day when the month is shorter (31 January, 28 February, 31 March: each
counted from the start, so a short month does not shift the rest). A one-off
("scheduled") transfer is an order of frequency ``once`` with one occurrence.
"""

from __future__ import annotations

import calendar
import enum
from datetime import date, timedelta

from ...domain.errors import DomainError

HORIZON_DAYS_MAX = 10 * 366  # an order ends within about ten years of its start
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Frequency(enum.StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def occurrence(start: date, frequency: Frequency, index: int) -> date:
    if frequency is Frequency.ONCE:
        return start
    if frequency is Frequency.WEEKLY:
        return start + timedelta(weeks=index)
    months = start.month - 1 + index
    year, month = start.year + months // 12, months % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def next_on(start: date, end: date, frequency: Frequency, index: int) -> date | None:
    """Occurrence ``index``, or None when the order has no more (past its end)."""
    if frequency is Frequency.ONCE and index > 0:
        return None
    on = occurrence(start, frequency, index)
    return on if on <= end else None


def check(start: date, end: date, frequency: Frequency, *, today: date) -> None:
    if start < today:
        raise DomainError("schedule_invalid", "the first payment is today or later")
    if frequency is Frequency.ONCE and end != start:
        raise DomainError("schedule_invalid", "a one-off transfer ends on its date")
    if end < start or (end - start).days > HORIZON_DAYS_MAX:
        raise DomainError("schedule_invalid", "the end date is on or after the start, "
                          "within ten years")


def words(frequency: Frequency, start: date, end: date, reference: str) -> str:
    """The schedule as the customer confirms it (the step-up's reference), in English
    whatever the server's locale: the words are signed."""
    if frequency is Frequency.ONCE:
        said = f"once on {start.isoformat()}"
    elif frequency is Frequency.WEEKLY:
        said = (f"weekly on {DAY_NAMES[start.weekday()]}s from {start.isoformat()} "
                f"until {end.isoformat()}")
    else:
        said = f"monthly on day {start.day} from {start.isoformat()} until {end.isoformat()}"
    return f"{said}: {reference}" if reference else said

"""Interest on savings: the arithmetic, with its rounding rule, and the calendar it runs on.

The rule (docs/decisions/0027-interest-and-safeguarding.md):

- **Day count ACT/365 Fixed.** Each calendar day (UTC) earns ``balance × rate / 365``,
  leap years included (a leap year pays 366/365 of the annual rate).
- **The balance of a day** is the account's booked balance at the end of that day
  (just before 00:00 UTC of the next); a negative balance earns nothing.
- **Daily accrual in micro-units.** A day's interest is truncated (towards zero, which
  for a balance ≥ 0 is the floor) to a whole micro-unit, 1/1 000 000 of a minor unit:
  the exact value is ``balance_minor × rate_bps × 10⁶ / (10 000 × 365)`` micro-units,
  computed in integers, never in a float.
- **Monthly posting in whole minor units, remainder carried.** At month end the bank
  pays ``⌊C_M / 10⁶⌋ − ⌊C_{M−1} / 10⁶⌋`` minor units, where ``C_M`` is the account's
  cumulative accrual in micro-units through the last day of month ``M``: the
  fractions of a minor unit carry into the next month and are never lost nor paid
  twice. Each posting is a pure function of the stored daily accruals, so a rerun
  computes the same amount.

Each day truncates less than one micro-unit, so a month's accrual is below the exact
interest by less than 31 micro-units; the amount posted by the end of a month is below
the exact interest accrued by then by less than one minor unit.
"""

from __future__ import annotations

import datetime as dt

from ..errors import DomainError

MICRO_PER_MINOR = 1_000_000  # an accrual's unit: a millionth of a minor unit
BPS_PER_UNIT = 10_000  # a rate in basis points: 150 is 1.50 % a year
DAYS_PER_YEAR = 365  # ACT/365 Fixed
RATE_BPS_MAX = 10_000  # 100 % a year: anything above is a mistyped setting
NS_PER_DAY = 86_400 * 10**9
EPOCH = dt.date(1970, 1, 1)
MOVEMENT_PREFIX = "int_"


def check_rate(rate_bps: int) -> int:
    if isinstance(rate_bps, bool) or not isinstance(rate_bps, int) \
            or not 0 <= rate_bps <= RATE_BPS_MAX:
        raise DomainError("interest_rate_invalid",
                          f"rate {rate_bps!r} is not 0 to {RATE_BPS_MAX} basis points a year")
    return rate_bps


def daily_accrual_micro(balance_minor: int, rate_bps: int) -> int:
    """One day's interest on ``balance_minor`` at ``rate_bps`` a year, in whole micro-units
    (truncated); nothing on a balance below zero."""
    check_rate(rate_bps)
    if isinstance(balance_minor, bool) or not isinstance(balance_minor, int):
        raise DomainError("interest_accrual_invalid",
                          f"balance {balance_minor!r} is not an integer of minor units")
    if balance_minor <= 0:
        return 0
    return balance_minor * rate_bps * MICRO_PER_MINOR // (BPS_PER_UNIT * DAYS_PER_YEAR)


def month_posting_minor(cumulative_before_micro: int, month_micro: int) -> int:
    """The whole minor units posted for a month: the month's accrual plus the fraction
    carried from before, less the fraction carried on (see the module's docstring)."""
    if cumulative_before_micro < 0 or month_micro < 0:
        raise DomainError("interest_accrual_invalid", "an accrual is never negative")
    return ((cumulative_before_micro + month_micro) // MICRO_PER_MINOR
            - cumulative_before_micro // MICRO_PER_MINOR)


# -- the calendar (UTC) ----------------------------------------------------------------


def day_of(at_ns: int) -> dt.date:
    """The UTC calendar day an instant falls on."""
    return EPOCH + dt.timedelta(days=at_ns // NS_PER_DAY)


def day_end_ns(day: dt.date) -> int:
    """The first nanosecond after ``day`` (00:00 UTC of the next day)."""
    return ((day - EPOCH).days + 1) * NS_PER_DAY


def month_of(day: dt.date) -> int:
    """``YYYYMM`` of the day's month: how accruals are grouped for a posting."""
    return day.year * 100 + day.month


def last_day_of_month(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def is_month_end(day: dt.date) -> bool:
    return day == last_day_of_month(day)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` through ``last`` (none when ``last`` is before ``first``)."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def posting_id(account_id: str, month: int) -> str:
    """The interest movement's id for an account and month: one posting, ever."""
    return f"{MOVEMENT_PREFIX}{account_id}_{month:06d}"

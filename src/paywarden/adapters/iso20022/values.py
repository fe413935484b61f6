"""Amounts, times and identifiers as ISO 20022 writes them, and back, exactly.

- An amount is integer minor units in the domain and an ``xs:decimal`` with the
  currency's ISO 4217 exponent in a message: ``Money(1999, "EUR")`` is ``19.99``, 500 JPY
  is ``500``. Read back, an amount with more decimals than its currency has is refused
  (``12.345`` EUR names no integer of minor units). Integer arithmetic, no float.
- A time is UTC nanoseconds in the domain and an ``xs:dateTime`` with milliseconds and
  ``Z`` in a message: encoding **floors to the millisecond** (what ISO 20022 systems
  carry; a value must be ms-round to come back equal). Read back, any zone offset is
  converted to UTC and up to nine fraction digits kept; a time without a zone is refused,
  since it names no instant.
"""

from __future__ import annotations

import calendar
import functools
import re
import time

import iso4217

from .errors import SchemaInvalid

NS_PER_MS = 1_000_000
MS_PER_S = 1000
NS_DIGITS = 9
_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
                       r"(Z|[+-]\d{2}:\d{2})?")
_AMOUNT = re.compile(r"\+?(\d*)(?:\.(\d*))?")


@functools.cache
def exponent(currency: str) -> int:
    """The ISO 4217 minor digits of ``currency`` (2 for EUR, 0 for JPY)."""
    entry = iso4217.Currency.__members__.get(currency)
    if entry is None or entry.exponent is None:
        raise SchemaInvalid(f"currency {currency!r} has no minor unit in ISO 4217")
    return int(entry.exponent)


def amount_text(amount_minor: int, currency: str) -> str:
    digits = exponent(currency)
    if digits == 0:
        return str(amount_minor)
    major, minor = divmod(amount_minor, 10**digits)
    return f"{major}.{minor:0{digits}d}"


def amount_minor(text: str, currency: str) -> int:
    """``text`` (a schema-valid, non-negative ``xs:decimal``) in minor units."""
    digits = exponent(currency)
    found = _AMOUNT.fullmatch(text.strip())
    if found is None or not (found.group(1) or found.group(2)):
        raise SchemaInvalid("an amount is a non-negative decimal")
    whole, fraction = found.group(1) or "0", (found.group(2) or "").rstrip("0")
    if len(fraction) > digits:
        raise SchemaInvalid(f"an amount in {currency} has at most {digits} decimals")
    minor: int = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0")
    return minor


def datetime_text(at_ns: int) -> str:
    """``at_ns`` floored to the millisecond: ``2026-11-30T12:00:00.123Z``."""
    seconds, ms = divmod(at_ns // NS_PER_MS, MS_PER_S)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def date_and_time(at_ns: int) -> tuple[str, str]:
    """``("2026-11-30", "12:00:00.123Z")``: the date and the time of day, in UTC."""
    day, moment = datetime_text(at_ns).split("T")
    return day, moment


def datetime_ns(text: str) -> int:
    """An ``xs:dateTime`` with a zone, in UTC nanoseconds."""
    found = _DATETIME.fullmatch(text.strip())
    if found is None:
        raise SchemaInvalid("a date-time is ISO 8601 with seconds")
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction, zone = found.group(7) or "", found.group(8)
    if zone is None:
        raise SchemaInvalid("a date-time names its zone (Z or an offset)")
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if zone != "Z":
        sign = -1 if zone[0] == "+" else 1  # 12:00+02:00 is 10:00Z
        seconds += sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    at_ns: int = seconds * 10**NS_DIGITS + int(fraction[:NS_DIGITS].ljust(NS_DIGITS, "0"))
    return at_ns

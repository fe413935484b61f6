"""Amounts and times as a person reads them, per currency and locale (Babel, CLDR data).

An amount arrives as integer minor units and an ISO 4217 code. It becomes a
``Decimal`` scaled by the currency's exponent as the ledger knows it
(:func:`~paywarden.services.ledger.currencies.currency`), never a float, so
1234.56 EUR is exactly ``€1,234.56`` (en) or ``1.234,56 €`` (de), JPY shows no
decimals and BHD three. The exponent is the ledger's, not CLDR's: where they
differ (CLDR rounds some currencies for cash), the page shows what the ledger holds.

The locale is English unless the page asks for another of :data:`LOCALES` (from the
browser's ``Accept-Language``): the pages' words are English, so only the numbers
and dates follow the reader.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import NumberPattern, parse_pattern

from ..services.ledger.currencies import currency

DEFAULT_LOCALE = "en"
# Locales the pages format numbers and dates for; anything else reads as English.
LOCALES = ("en", "en_GB", "en_IE", "de", "fr", "nl", "es", "it", "pt", "pl", "sv", "da")
ACCEPT_LANGUAGE_CHARS_MAX = 256
NBSP = "\u00a0"
# "BHD123.456": CLDR writes a symbol next to the digits; a code of letters needs a space.
_CODE_AGAINST_DIGITS = re.compile(r"^([-\u200f\u200e]?)([A-Z]{3})(?=\d)")


@cache
def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


@cache
def _pattern(tag: str, exponent: int) -> NumberPattern:
    # A copy: Babel caches parsed patterns, and this one's precision is changed.
    pattern = copy.copy(parse_pattern(_locale(tag).currency_formats["standard"]))
    pattern.frac_prec = (exponent, exponent)
    return pattern


def format_money(amount_minor: int, code: str, locale: str = DEFAULT_LOCALE) -> str:
    """``amount_minor`` of ``code`` as the locale writes it, e.g. ``€1,234.56``.

    Refuses a float or a bool: an amount is a count of minor units.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"an amount is integer minor units, not {type(amount_minor).__name__}")
    exponent = currency(code).exponent  # DomainError for a code the ledger does not know
    value = Decimal(amount_minor).scaleb(-exponent)
    text = _pattern(locale, exponent).apply(value, _locale(locale), currency=code,
                                            currency_digits=False, decimal_quantization=True)
    return _CODE_AGAINST_DIGITS.sub(rf"\1\2{NBSP}", text)


def format_moment(at_ns: int, locale: str = DEFAULT_LOCALE) -> str:
    """A moment (Unix nanoseconds) as a date and time in UTC, e.g. ``30 Nov 2026, 14:05 UTC``."""
    moment = datetime.fromtimestamp(at_ns // 1_000_000_000, tz=UTC)
    return format_datetime(moment, "d MMM y, HH:mm", tzinfo=UTC, locale=_locale(locale)) + " UTC"


def negotiate(accept_language: str | None) -> str:
    """The first of :data:`LOCALES` the browser accepts, else English."""
    if not accept_language:
        return DEFAULT_LOCALE
    tags = []
    for part in accept_language[:ACCEPT_LANGUAGE_CHARS_MAX].split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            tags.append((quality, tag.strip().replace("-", "_")))
    ordered = [tag for _, tag in sorted(tags, key=lambda t: -t[0])]
    chosen = Locale.negotiate(ordered, LOCALES) if ordered else None
    return str(chosen) if chosen is not None else DEFAULT_LOCALE

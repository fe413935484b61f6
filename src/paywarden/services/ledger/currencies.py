"""ISO 4217 currencies: the ledger of a currency is numbered by its numeric code."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import iso4217

from ...domain.errors import DomainError


@dataclass(frozen=True)
class Currency:
    code: str
    number: int
    exponent: int


def currency(code: str) -> Currency:
    """Look up an ISO 4217 alphabetic code, e.g. ``"EUR"``."""
    entry = iso4217.Currency.__members__.get(code) if code.isascii() and code.isupper() else None
    if entry is None:
        raise DomainError("currency_unknown", f"currency {code!r} is not an ISO 4217 code")
    exponent = entry.exponent
    if entry.number is None or exponent is None:
        raise DomainError("currency_unknown", f"currency {code!r} has no minor unit in ISO 4217")
    return Currency(code=entry.code, number=int(entry.number), exponent=int(exponent))


def amount_words(amount_minor: int, code: str) -> str:
    """``2000.00 EUR``: the currency's exponent, exact (no float)."""
    exponent = currency(code).exponent
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f} {code}"

"""Money: an integer of minor units and an ISO 4217 alphabetic currency code.

``Money(1999, "EUR")`` is 19.99 EUR. No float ever touches an amount; the
exponent of a currency (how many minor units make a major one) matters only for
display and is looked up at the edge (``services.ledger.currencies``), because
the ISO 4217 table is a library the pure domain does not import. Here a currency
is checked only for its shape: three upper-case ASCII letters.

Amounts are never negative and never above the ledger's ``AMOUNT_MAX``
(2^63-1), so every value fits every column that stores it.

    DomainError
    └── MoneyError             ``code`` is one of
          money_amount_invalid   not an int (bool is not an int here), < 0 or > AMOUNT_MAX
          currency_invalid       not three upper-case ASCII letters
          currency_mismatch      arithmetic or a comparison across two currencies
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DomainError
from .ledger.model import AMOUNT_MAX

CURRENCY_CODE_LENGTH = 3


class MoneyError(DomainError):
    """An amount or a currency the rules refuse."""


def is_minor_amount(value: object) -> bool:
    """True for an ``int`` (not a ``bool``) in ``0..AMOUNT_MAX``."""
    return type(value) is int and 0 <= value <= AMOUNT_MAX


def check_minor_amount(value: object, *, what: str = "amount") -> int:
    """``value`` if it is a valid amount of minor units, else ``money_amount_invalid``."""
    if not is_minor_amount(value):
        raise MoneyError("money_amount_invalid", f"{what} {value!r} is not an integer of minor "
                         f"units in 0..{AMOUNT_MAX}")
    return value  # type: ignore[return-value]


def check_currency(value: object) -> str:
    if not (type(value) is str and len(value) == CURRENCY_CODE_LENGTH and value.isascii()
            and value.isalpha() and value.isupper()):
        raise MoneyError("currency_invalid", f"currency {value!r} is not three upper-case "
                         "ASCII letters (an ISO 4217 alphabetic code)")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """A non-negative amount of minor units in one currency. Immutable."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        check_minor_amount(self.amount_minor)
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError("currency_mismatch", f"{other.currency} cannot be combined with "
                             f"{self.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        """The difference; ``money_amount_invalid`` if it would be negative."""
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor <= other.amount_minor

    def __bool__(self) -> bool:
        return self.amount_minor != 0

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.currency} minor units"

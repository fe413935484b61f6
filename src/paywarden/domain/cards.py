"""Card numbers: parsing, Luhn, brand from the issuer identification number, expiry.

Pure rules, no I/O. A parsed number is a :class:`CardNumber`, whose ``repr`` and
``str`` show only the brand and the last four digits, so that a number passed
around by mistake cannot end up whole in a log line or a traceback. The digits
come out only through :meth:`CardNumber.reveal`, called by the vault and the
simulated issuer.

    DomainError
    └── CardError              a refused card; ``code`` is one of
          card_number_invalid    not 12–19 digits (spaces and hyphens allowed)
          card_brand_unknown     no supported brand issues this range
          card_length_invalid    the brand issues no numbers of this length
          card_checksum_invalid  the Luhn check digit is wrong
          card_expiry_invalid    month not 1–12, or a year out of range
          card_expired           the card's last valid month has passed
          card_holder_invalid    holder name empty, too long or not printable

No message holds the number or any of its digits.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from .errors import DomainError

DIGITS_MIN = 12
DIGITS_MAX = 19
SEPARATORS = " -"
EXPIRY_YEARS_AHEAD_MAX = 20
HOLDER_CHARS_MAX = 64

# (brand, IIN prefix ranges as inclusive (low, high) of equal digit count, lengths).
_BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], frozenset[int]], ...] = (
    ("amex", (("34", "34"), ("37", "37")), frozenset({15})),
    ("visa", (("4", "4"),), frozenset({13, 16, 19})),
    ("mastercard", (("51", "55"), ("2221", "2720")), frozenset({16})),
    ("discover", (("6011", "6011"), ("644", "649"), ("65", "65"),
                  ("622126", "622925")), frozenset({16, 17, 18, 19})),
    ("jcb", (("3528", "3589"),), frozenset({16, 17, 18, 19})),
    ("diners_club", (("300", "305"), ("36", "36"), ("38", "39")),
     frozenset({14, 15, 16, 17, 18, 19})),
)
BRANDS = tuple(name for name, _, _ in _BRANDS)


class CardError(DomainError):
    """A card number, expiry or holder name the rules refuse."""


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str | None:
    """The brand whose IIN ranges hold ``digits``; the longest matching prefix wins."""
    best: tuple[int, str] | None = None
    for name, ranges, _ in _BRANDS:
        for low, high in ranges:
            prefix = digits[:len(low)]
            matches = len(prefix) == len(low) and low <= prefix <= high
            if matches and (best is None or len(low) > best[0]):
                best = (len(low), name)
    return None if best is None else best[1]


def lengths_of(brand: str) -> frozenset[int]:
    for name, _, lengths in _BRANDS:
        if name == brand:
            return lengths
    raise KeyError(brand)


def _digits_of(text: str) -> str:
    digits = "".join(c for c in text if c not in SEPARATORS)
    if not (DIGITS_MIN <= len(digits) <= DIGITS_MAX and digits.isascii() and digits.isdigit()):
        raise CardError("card_number_invalid", f"a card number is {DIGITS_MIN} to {DIGITS_MAX} "
                        "digits, optionally grouped by spaces or hyphens")
    return digits


class CardNumber:
    """A valid card number (PAN). Shows only ``brand ••••last4``; compare with ``==``."""

    __slots__ = ("_brand", "_digits")

    def __init__(self, text: str) -> None:
        digits = _digits_of(text)
        brand = brand_of(digits)
        if brand is None:
            raise CardError("card_brand_unknown", "the card number is of no supported brand ("
                            + ", ".join(BRANDS) + ")")
        if len(digits) not in lengths_of(brand):
            raise CardError("card_length_invalid", f"a {brand} card number has "
                            f"{' or '.join(str(n) for n in sorted(lengths_of(brand)))} digits")
        if not luhn_valid(digits):
            raise CardError("card_checksum_invalid", "the card number's check digit is wrong "
                            "(a mistyped number?)")
        self._digits = digits
        self._brand = brand

    @property
    def brand(self) -> str:
        return self._brand

    @property
    def last4(self) -> str:
        return self._digits[-4:]

    def reveal(self) -> str:
        """The digits: only for sealing in the vault and for the issuer."""
        return self._digits

    def __repr__(self) -> str:
        return f"CardNumber({self._brand} ••••{self.last4})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CardNumber):
            return NotImplemented
        return hmac.compare_digest(self._digits, other._digits)

    def __hash__(self) -> int:
        return hash(("CardNumber", self._digits))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a CardNumber is not pickled: seal it in the vault instead")


@dataclass(frozen=True)
class Expiry:
    """A card's last valid month (valid through its last day)."""

    month: int
    year: int

    def __post_init__(self) -> None:
        if not (isinstance(self.month, int) and 1 <= self.month <= 12):
            raise CardError("card_expiry_invalid", f"expiry month {self.month!r} is not 1 to 12")
        if not (isinstance(self.year, int) and 2000 <= self.year <= 2099):
            raise CardError("card_expiry_invalid", f"expiry year {self.year!r} is not a "
                            "four-digit year of this century")

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year}"

    def check(self, *, year: int, month: int) -> Expiry:
        """This expiry, if the card is still valid in ``year``-``month`` and not too far out."""
        if (self.year, self.month) < (year, month):
            raise CardError("card_expired", f"the card expired at the end of {self}")
        if self.year > year + EXPIRY_YEARS_AHEAD_MAX:
            raise CardError("card_expiry_invalid", f"expiry {self} is more than "
                            f"{EXPIRY_YEARS_AHEAD_MAX} years ahead")
        return self


def holder_name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > HOLDER_CHARS_MAX or not name.isprintable():
        raise CardError("card_holder_invalid", f"a card holder name is 1 to {HOLDER_CHARS_MAX} "
                        "printable characters")
    return name

"""What staff see of a customer's personal data by default: enough to recognise the
person on a call, never enough to take the data away (issue 13).

A field is shown whole only through a recorded reveal with a reason
(services/lookup.py). A card number is never revealed to staff at all: brand and last
four digits are all anyone in the back office needs (PCI DSS 3.4 allows at most the
first six and last four).
"""

from __future__ import annotations

from enum import StrEnum

STARS = "•••"


class Field(StrEnum):
    """The personal fields a member of staff may ask to reveal."""

    EMAIL = "email"
    DISPLAY_NAME = "display_name"
    IBAN = "iban"


def email(value: str | None) -> str | None:
    """``a•••@example.com``: the first character and the domain."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    return f"{local[:1]}{STARS}{at}{domain}" if at else f"{value[:1]}{STARS}"


def name(value: str | None) -> str | None:
    """``A••• L•••``: each word's first letter."""
    if not value:
        return value
    return " ".join(f"{word[:1]}{STARS}" for word in value.split())


def iban(value: str | None) -> str | None:
    """``DE89 ••• 3000``: the country and check digits, and the last four characters."""
    if not value:
        return value
    compact = value.replace(" ", "")
    return f"{compact[:4]} {STARS} {compact[-4:]}" if len(compact) > 8 else STARS


def card(brand: str, last4: str) -> str:
    return f"{brand} {STARS} {last4}"

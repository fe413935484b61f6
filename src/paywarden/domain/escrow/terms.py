"""Escrow terms given at checkout, and the platform's fee taken on release.

Rounding rule of the fee (decision 0012). For a gross release of ``g`` minor
units under ``FeeSchedule(rate_bps=r, fixed_minor=f)``::

    fee = min(g, f + (g * r) // 10_000)

The proportional part is rounded DOWN to a whole minor unit (floor; all values
are non-negative, so this is also truncation): the platform never takes more
than its advertised rate, and the fraction of a minor unit stays with the
merchant. The fixed part is added after rounding. The total is capped at the
gross amount, so a merchant never owes money on a release. A release of zero
pays no fee, fixed part included. Integer arithmetic only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ledger.model import AMOUNT_MAX
from .errors import EscrowError

NS_PER_DAY = 86_400 * 1_000_000_000
DAYS_TO_SHIP_MAX = 90
RELEASE_AFTER_DAYS_MAX = 60
BPS_PER_UNIT = 10_000


def _is_int(value: object) -> bool:
    return type(value) is int


@dataclass(frozen=True, slots=True)
class EscrowTerms:
    """The buyer's protection as agreed at checkout.

    ``days_to_ship``: the merchant must ship within this many days of payment,
    or the payment is refunded automatically. ``release_after_days``: the
    inspection period; this many days after shipment the money is released
    unless the buyer opened a dispute first.
    """

    days_to_ship: int
    release_after_days: int

    def __post_init__(self) -> None:
        if not (_is_int(self.days_to_ship) and 1 <= self.days_to_ship <= DAYS_TO_SHIP_MAX):
            raise EscrowError("escrow_terms_invalid", f"days_to_ship {self.days_to_ship!r} is "
                              f"not an integer in 1..{DAYS_TO_SHIP_MAX}")
        if not (_is_int(self.release_after_days)
                and 1 <= self.release_after_days <= RELEASE_AFTER_DAYS_MAX):
            raise EscrowError("escrow_terms_invalid", f"release_after_days "
                              f"{self.release_after_days!r} is not an integer in "
                              f"1..{RELEASE_AFTER_DAYS_MAX}")

    @property
    def ship_within_ns(self) -> int:
        return self.days_to_ship * NS_PER_DAY

    @property
    def inspection_ns(self) -> int:
        return self.release_after_days * NS_PER_DAY


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """The platform fee: ``rate_bps`` basis points (1/100 of a percent) plus ``fixed_minor``.

    Fixed when the payment is created, so a later change of the platform's
    prices never alters a payment already made.
    """

    rate_bps: int = 0
    fixed_minor: int = 0

    def __post_init__(self) -> None:
        if not (_is_int(self.rate_bps) and 0 <= self.rate_bps <= BPS_PER_UNIT):
            raise EscrowError("fee_schedule_invalid", f"rate_bps {self.rate_bps!r} is not an "
                              f"integer in 0..{BPS_PER_UNIT}")
        if not (_is_int(self.fixed_minor) and 0 <= self.fixed_minor <= AMOUNT_MAX):
            raise EscrowError("fee_schedule_invalid", f"fixed_minor {self.fixed_minor!r} is not "
                              f"an integer of minor units in 0..{AMOUNT_MAX}")

    def fee_for(self, gross_minor: int) -> int:
        """The fee on a release of ``gross_minor``: see the module's rounding rule."""
        if not (_is_int(gross_minor) and 0 <= gross_minor <= AMOUNT_MAX):
            raise EscrowError("fee_schedule_invalid", f"gross {gross_minor!r} is not an integer "
                              f"of minor units in 0..{AMOUNT_MAX}")
        if gross_minor == 0:
            return 0
        return min(gross_minor, self.fixed_minor + gross_minor * self.rate_bps // BPS_PER_UNIT)
